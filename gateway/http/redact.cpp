#include "gateway/http/redact.hpp"

#include <algorithm>

#include "gateway/trace/request_trace.hpp"

namespace gw::http {

SecretRedactor::SecretRedactor(std::vector<std::string> secrets) {
  std::erase_if(secrets, [](const std::string& s) { return s.size() < kMinRedactedSecretChars; });
  std::sort(secrets.begin(), secrets.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  secrets_ = std::move(secrets);
}

bool SecretRedactor::holds_secret(std::string_view text) const {
  return std::any_of(secrets_.begin(), secrets_.end(),
                     [&](const std::string& s) { return text.find(s) != std::string_view::npos; });
}

std::string SecretRedactor::apply(std::string_view text) const {
  std::string out(text);
  if (!holds_secret(text)) return out;
  for (const auto& s : secrets_) {
    for (std::size_t at = out.find(s); at != std::string::npos;
         at = out.find(s, at + kRedactedMarker.size())) {
      out.replace(at, s.size(), kRedactedMarker);
    }
  }
  return out;
}

std::string SecretRedactor::cut(std::string_view text, std::size_t max_bytes) const {
  if (holds_secret(text)) return apply(text).substr(0, max_bytes);
  return std::string(text.substr(0, max_bytes));
}

void SecretRedactor::apply(OpenAiError& e) const {
  if (secrets_.empty()) return;
  e.message = apply(e.message);
  e.type = apply(e.type);
  if (e.param) e.param = apply(*e.param);
  if (e.code) e.code = apply(*e.code);
}

SecretRedactor secrets_of(const config::Config& cfg) {
  std::vector<std::string> secrets = cfg.auth.api_keys;
  for (const auto& m : cfg.models) secrets.push_back(m.api_key);
  return SecretRedactor(std::move(secrets));
}

void redact_log_fields(const SecretRedactor& secrets, RequestTrace& trace) {
  if (secrets.empty()) return;
  for (std::string* text : {&trace.path, &trace.error, &trace.prompt, &trace.decision.prompt_text,
                            &trace.decision.draft_text}) {
    if (secrets.holds_secret(*text)) *text = secrets.apply(*text);
  }
}

}  // namespace gw::http
