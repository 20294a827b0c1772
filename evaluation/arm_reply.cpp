#include "evaluation/arm_reply.hpp"

#include <charconv>
#include <numeric>

#include "base/trim.hpp"
#include "evaluation/outcome.hpp"
#include "policies/logprob_summary.hpp"

namespace gw::eval {
namespace {

void read_usage(const json& doc, ArmReply& out) {
  auto usage = doc.find("usage");
  if (usage == doc.end() || !usage->is_object()) return;
  if (auto v = number_at(*usage, "prompt_tokens")) out.prompt_tokens = static_cast<uint64_t>(*v);
  if (auto v = number_at(*usage, "completion_tokens")) {
    out.completion_tokens = static_cast<uint64_t>(*v);
  }
}

void read_logprobs(const json& choice, ArmReply& out) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) return;
  auto content = lp->find("content");
  if (content == lp->end() || !content->is_array()) return;
  for (const json& entry : *content) {
    auto v = number_at(entry, "logprob");
    if (!v) continue;
    if (out.logprobs.empty()) {
      auto top = entry.find("top_logprobs");
      if (top != entry.end() && top->is_array() && top->size() >= 2) {
        auto a = number_at((*top)[0], "logprob");
        auto b = number_at((*top)[1], "logprob");
        if (a && b) out.first_margin = *a - *b;
      }
    }
    out.logprobs.push_back(*v);
  }
}

// Calls f(payload) for each complete `data:` event of an SSE body.
template <typename F>
void for_each_event(std::string_view body, F&& f) {
  size_t pos = 0;
  for (;;) {
    // Events end at a blank line; accept \n\n and \r\n\r\n.
    size_t end = body.find("\n\n", pos);
    const size_t crlf = body.find("\r\n\r\n", pos);
    size_t sep = 2;
    if (crlf != std::string_view::npos && (end == std::string_view::npos || crlf < end)) {
      end = crlf;
      sep = 4;
    }
    if (end == std::string_view::npos) return;
    std::string_view block = body.substr(pos, end - pos);
    pos = end + sep;
    std::string data;
    size_t lpos = 0;
    while (lpos <= block.size()) {
      size_t nl = block.find('\n', lpos);
      if (nl == std::string_view::npos) nl = block.size();
      std::string_view line = block.substr(lpos, nl - lpos);
      if (line.ends_with('\r')) line.remove_suffix(1);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        if (line.starts_with(' ')) line.remove_prefix(1);
        if (!data.empty()) data += '\n';
        data += line;
      }
      lpos = nl + 1;
    }
    if (!data.empty() && !f(std::string_view(data))) return;
  }
}

}  // namespace

ArmReply parse_completion(std::string_view body) {
  ArmReply out;
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return out;
  auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array()) return out;
  out.parsed = true;
  out.id = string_at(doc, "id");
  out.model = string_at(doc, "model");
  read_usage(doc, out);
  if (choices->empty()) return out;
  const json& choice = (*choices)[0];
  out.finish_reason = string_at(choice, "finish_reason");
  if (auto msg = choice.find("message"); msg != choice.end() && msg->is_object()) {
    out.text = string_at(*msg, "content");
    if (auto tc = msg->find("tool_calls"); tc != msg->end() && tc->is_array() && !tc->empty()) {
      out.kind = "tool_calls";
    }
  }
  read_logprobs(choice, out);
  return out;
}

ArmReply parse_sse(std::string_view body) {
  ArmReply out;
  for_each_event(body, [&](std::string_view payload) {
    if (trim_space(payload) == "[DONE]") return false;
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return true;
    out.parsed = true;
    if (out.id.empty()) out.id = string_at(doc, "id");
    if (out.model.empty()) out.model = string_at(doc, "model");
    read_usage(doc, out);
    auto choices = doc.find("choices");
    if (choices == doc.end() || !choices->is_array() || choices->empty()) return true;
    const json& choice = (*choices)[0];
    if (auto fr = string_at(choice, "finish_reason"); !fr.empty()) out.finish_reason = fr;
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
      out.text += string_at(*delta, "content");
      if (delta->contains("tool_calls")) out.kind = "tool_calls";
    }
    read_logprobs(choice, out);
    return true;
  });
  return out;
}

bool sse_has_first_token(std::string_view body_so_far) {
  bool found = false;
  for_each_event(body_so_far, [&](std::string_view payload) {
    const json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) return true;
    auto choices = doc.find("choices");
    if (choices == doc.end() || !choices->is_array() || choices->empty()) return true;
    auto delta = (*choices)[0].find("delta");
    if (delta == (*choices)[0].end() || !delta->is_object()) return true;
    found = !string_at(*delta, "content").empty() || delta->contains("tool_calls");
    return !found;
  });
  return found;
}

std::map<std::string, double> parse_server_timing(std::string_view header) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view metric = trim_space(header.substr(pos, comma - pos));
    pos = comma + 1;
    const size_t semi = metric.find(';');
    if (semi == std::string_view::npos) continue;
    const std::string name(trim_space(metric.substr(0, semi)));
    const size_t dur = metric.find("dur=", semi);
    if (name.empty() || dur == std::string_view::npos) continue;
    std::string_view value = metric.substr(dur + 4);
    value = value.substr(0, value.find(';'));
    value = trim_space(value);
    double v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc{} && end == value.data() + value.size()) out[name] = v;
  }
  return out;
}

json logprob_summary(const std::vector<double>& logprobs, std::optional<double> first_margin,
                     uint32_t hold_tokens) {
  if (logprobs.empty()) return nullptr;
  const policies::LogprobSummary s = policies::summarize_logprobs(logprobs, first_margin);
  auto opt = [](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
  const size_t hold_n = std::min<size_t>(hold_tokens, logprobs.size());
  json hold_mean = nullptr;
  if (hold_n > 0) {
    hold_mean =
        std::accumulate(logprobs.begin(), logprobs.begin() + static_cast<long>(hold_n), 0.0) /
        static_cast<double>(hold_n);
  }
  return json{{"n", s.n},
              {"mean", opt(s.mean)},
              {"min", opt(s.min)},
              {"p10", opt(s.p10)},
              {"first_margin", opt(s.first_margin)},
              {"hold_mean", hold_mean}};
}

}  // namespace gw::eval
