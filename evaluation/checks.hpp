#pragma once
// Automatic answer checks against an item's reference. Pure: no I/O.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::eval {

// The last number written in `text` ("about 1,234.5 units" -> 1234.5; "-3", "12%" -> 12,
// "1e3" -> 1000); thousands separators must group by three. nullopt when there is none.
std::optional<double> last_number(std::string_view text);

// Equal within 0.01 % of the reference (43.33 for 43.333, not 1441 for 1440); 0 only matches 0.
bool numbers_match(double got, double want);

// Lower-cased, punctuation turned into spaces, whitespace runs collapsed: "Net Margin." -> "net
// margin".
std::string normalize_text(std::string_view text);

// The default refusal patterns (RE2), the same as config/demo.yaml's after_draft.refusal.
std::vector<std::string> default_refusal_patterns();

class RefusalMatcher {
 public:
  explicit RefusalMatcher(const std::vector<std::string>& patterns);
  ~RefusalMatcher();
  RefusalMatcher(const RefusalMatcher&) = delete;
  RefusalMatcher& operator=(const RefusalMatcher&) = delete;
  bool matches(std::string_view text) const;

 private:
  struct Impl;
  Impl* impl_;
};

// The hg.outcome/1 quality object of one arm from the automatic checks:
// {"score","correct","source":"auto","checks":{numeric,answer,phrases,refusal,truncated}};
// score and correct are null when the reference has nothing to check.
nlohmann::json auto_quality(const nlohmann::json& reference, const nlohmann::json& arm,
                            const RefusalMatcher& refusal);

}  // namespace gw::eval
