// The routing section: the escalation rules, streaming, the decision log, shadow.
#include "gateway/config/loader.hpp"

#include <filesystem>

#include "policies/escalation.hpp"

namespace gw::config::detail {

void Loader::read_routing(const Entry& e, Routing& r) {
  read_mapping(
      e,
      {
          {"model_alias", [&](const Entry& f) { read_nonempty_string(f, r.model_alias); }},
          {"draft",
           [&](const Entry& f) {
             if (read_nonempty_string(f, r.draft)) marks_.draft = f.mark();
           }},
          {"escalate",
           [&](const Entry& f) {
             if (read_nonempty_string(f, r.escalate)) marks_.escalate = f.mark();
           }},
          {"on_escalate", [&](const Entry& f) { read_on_escalate(f, r.on_escalate); }},
          {"refine_prompt",
           [&](const Entry& f) {
             if (read_string(f, r.refine_prompt)) marks_.refine_prompt = f.mark();
           }},
          {"before_draft", [&](const Entry& f) { read_before_draft(f, r.before_draft); }},
          {"after_draft", [&](const Entry& f) { read_after_draft(f, r.after_draft); }},
          {"stream", [&](const Entry& f) { read_stream(f, r); }},
          {"fallback", [&](const Entry& f) { read_bool(f, r.fallback); }},
          {"draft_max_bytes",
           [&](const Entry& f) { read_uint(f, r.draft_max_bytes, kMinDraftBytes, kMaxBodyBytes); }},
          {"decision_log", [&](const Entry& f) { read_decision_log(f, r.decision_log); }},
          {"decision_log_max_bytes",
           [&](const Entry& f) {
             read_uint(f, r.decision_log_max_bytes, kMinDecisionLogBytes, kMaxDecisionLogBytes);
           }},
          {"shadow", [&](const Entry& f) { read_shadow(f, r.shadow); }},
      });
}

void Loader::read_on_escalate(const Entry& e, OnEscalate& out) {
  std::string mode;
  if (!read_string(e, mode)) return;
  marks_.on_escalate = e.mark();
  if (auto parsed = policies::parse_on_escalate(mode)) {
    out = *parsed;
  } else {
    report(e, "expected 'replace' or 'refine', got " + in_quotes(mode));
  }
}

void Loader::read_before_draft(const Entry& e, BeforeDraft& before) {
  read_mapping(
      e, {
             {"prompt_chars_over", [&](const Entry& f) { read_uint(f, before.prompt_chars_over); }},
             {"match", [&](const Entry& f) { read_regex_list(f, before.match); }},
         });
}

void Loader::read_after_draft(const Entry& e, AfterDraft& after) {
  read_mapping(
      e, {
             {"chars_under",
              [&](const Entry& f) {
                if (read_uint(f, after.chars_under)) marks_.chars_under = f.mark();
              }},
             {"chars_over", [&](const Entry& f) { read_uint(f, after.chars_over); }},
             {"finish_reason_length",
              [&](const Entry& f) { read_bool(f, after.finish_reason_length); }},
             {"invalid_tool_call", [&](const Entry& f) { read_bool(f, after.invalid_tool_call); }},
             {"invalid_json", [&](const Entry& f) { read_bool(f, after.invalid_json); }},
             {"refusal", [&](const Entry& f) { read_regex_list(f, after.refusal); }},
             {"mean_logprob_under",
              [&](const Entry& f) {
                std::optional<double> threshold;
                read_logprob_threshold(f, threshold, LogprobBound::at_most_zero);
                if (!threshold) return;
                after.has_mean_logprob_under = true;
                after.mean_logprob_under = *threshold;
              }},
             {"min_logprob_under",
              [&](const Entry& f) {
                read_logprob_threshold(f, after.min_logprob_under, LogprobBound::at_most_zero);
              }},
             {"p10_logprob_under",
              [&](const Entry& f) {
                read_logprob_threshold(f, after.p10_logprob_under, LogprobBound::at_most_zero);
              }},
             {"first_margin_under",
              [&](const Entry& f) {
                read_logprob_threshold(f, after.first_margin_under, LogprobBound::at_least_zero);
              }},
         });
}

void Loader::read_stream(const Entry& e, Routing& r) {
  read_mapping(
      e, {{"hold_tokens", [&](const Entry& f) { read_uint(f, r.hold_tokens, 0, kMaxHoldTokens); }},
          {"hold_max_bytes",
           [&](const Entry& f) { read_uint(f, r.hold_max_bytes, kMinHoldBytes, kMaxBodyBytes); }},
          {"hold_max_ms", [&](const Entry& f) { read_timeout(f, r.hold_max_ms); }}});
}

// Checked here, not at the first routed request: the writer thread has no one to tell.
void Loader::read_decision_log(const Entry& e, std::string& path) {
  if (!read_nonempty_string(e, path)) return;
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    report(e, "directory " + in_quotes(dir.string()) + " does not exist");
  }
}

void Loader::read_shadow(const Entry& e, Shadow& s) {
  read_mapping(
      e, {
             {"sample_rate", [&](const Entry& f) { read_share(f, s.sample_rate); }},
             {"pre_draft_sample_rate",
              [&](const Entry& f) { read_share(f, s.pre_draft_sample_rate); }},
             {"max_inflight",
              [&](const Entry& f) { read_uint(f, s.max_inflight, 0, kMaxShadowInflight); }},
             {"budget_usd_per_hour",
              [&](const Entry& f) {
                double value = 0;
                if (!read_double(f, value)) return;
                if (value < 0) {
                  report(f, "must not be negative, got " + f.value.Scalar());
                  return;
                }
                s.budget_usd_per_hour = value;
              }},
             {"compare",
              [&](const Entry& f) {
                s.compare_numeric = s.compare_token_f1 = false;
                read_list(f, [&](const Entry& item) {
                  std::string name;
                  if (!read_string(item, name)) return;
                  if (name == "numeric") {
                    s.compare_numeric = true;
                  } else if (name == "token_f1") {
                    s.compare_token_f1 = true;
                  } else {
                    report(item, "expected 'numeric' or 'token_f1', got " + in_quotes(name));
                  }
                });
              }},
             {"judge_sample_rate", [&](const Entry& f) { read_share(f, s.judge_sample_rate); }},
             {"seed", [&](const Entry& f) { read_uint(f, s.seed); }},
         });
}

}  // namespace gw::config::detail
