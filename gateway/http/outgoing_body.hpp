#pragma once
// OutgoingBody: the body of a request the gateway sends upstream, as the pieces of one gather
// write. A routed leg's body is the few members the gateway sets followed by the client's other
// members as sent: those bytes are borrowed, not copied. Copying a 1 MB RAG prompt into every
// leg's body was 10% of the `auto` route's CPU at that size (issue 15, docs/benchmarks.md).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::http {

struct OutgoingBody {
  OutgoingBody() = default;
  // A body built whole (the common case) converts implicitly: it is simply the owned piece.
  OutgoingBody(std::string whole) : owned(std::move(whole)) {}

  std::string owned;  // sent first
  // Then these, in order: views of bytes that outlive the call (the client's request, which the
  // flow keeps for as long as any of its legs, or static text).
  std::vector<std::string_view> borrowed;

  std::size_t size() const;
  // The whole body in one string (a copy): for what outlives the client's request (a shadow
  // job) and for tests.
  std::string text() const;
};

}  // namespace gw::http
