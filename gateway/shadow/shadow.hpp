#pragma once
// Shadow escalation (README "Shadow escalation"): after the client's response is complete, a
// sampled request is sent again, in the background, to the model that did not answer it, and
// the two answers are compared (policies/agreement.hpp). The client never waits for it and never
// sees it: a shadow call is started only once the response is out, runs detached on the same
// thread's io_context, is never retried, and its failures are only counted.
//
// Bounded: at most routing.shadow.max_inflight shadow calls at once per process (beyond it a
// sample is dropped and counted), and at most budget_usd_per_hour spent over a rolling hour
// (checked before a call starts, so it can be passed by the calls already in flight). A shadow
// call keeps the config snapshot its request had (a reload does not change it) and is never
// waited for by a drain: the threads stop once the client requests are done, which abandons it.

#include <string>

#include "gateway/completion/chat_request.hpp"
#include "gateway/completion/completion.hpp"
#include "gateway/exchange/exchange.hpp"

namespace gw::shadow {

// Route=draft: the draft was accepted and the client has its whole answer (`draft`). Sampled at
// routing.shadow.sample_rate; the large model is asked the same request, non-streamed.
void after_accepted_draft(Exchange& ex, const chat::ChatRequest& request,
                          const chat::DraftText& draft);

// A before_draft escalation answered by the large model (`answer`). Sampled at
// routing.shadow.pre_draft_sample_rate; the draft model is asked, to test the before_draft rules.
void after_pre_draft_escalation(Exchange& ex, const chat::ChatRequest& request,
                                const chat::DraftText& answer);

// Whether a streamed before_draft escalation should collect its answer for the above.
bool wants_pre_draft(const Exchange& ex);

}  // namespace gw::shadow
