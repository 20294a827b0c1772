#pragma once
// Known secrets (configured upstream API keys, client API keys) never leave the gateway: an
// upstream error that echoes the Authorization header it got, or a prompt that quotes a key,
// is relayed and logged with each secret replaced by a marker.

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/http/openai_error.hpp"

namespace gw {
struct RequestTrace;
}

namespace gw::http {

inline constexpr std::string_view kRedactedMarker = "[redacted]";
// Shorter "secrets" are not redacted: replacing a 3-letter key would rewrite ordinary words.
inline constexpr std::size_t kMinRedactedSecretChars = 8;

class SecretRedactor {
 public:
  SecretRedactor() = default;
  // Empty and too-short entries are ignored; duplicates are kept once.
  explicit SecretRedactor(std::vector<std::string> secrets);

  bool empty() const { return secrets_.empty(); }

  // `text` with every occurrence of every secret replaced by kRedactedMarker.
  std::string apply(std::string_view text) const;
  // At most `max_bytes` of `text` for a log, cut only after its secrets are redacted: a key
  // straddling the cut would leave its first bytes in the log.
  std::string cut(std::string_view text, std::size_t max_bytes) const;
  // Whether `text` holds a secret (cheaper than apply when nothing needs replacing).
  bool holds_secret(std::string_view text) const;
  // Every text field of an error.
  void apply(OpenAiError& e) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so a key containing another is whole
};

// The secrets a config knows: every model's upstream API key and the gateway's client keys.
SecretRedactor secrets_of(const config::Config& cfg);

// The request's logged text (path, error, prompt, the decision log's prompt and draft) without
// secrets: a client may put its key in a query string or a prompt, an upstream in its answer.
void redact_log_fields(const SecretRedactor& secrets, RequestTrace& trace);

}  // namespace gw::http
