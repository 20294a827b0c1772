#pragma once
// Internal to the config loader (gateway/config/load*.cpp): reading YAML values with a position
// for every problem. Layer 1 of the validation: each field on its own, bounded and typed.

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/bounds.hpp"
#include "gateway/config/config.hpp"
#include "gateway/config/load.hpp"

namespace gw::config::detail {

// A value in the document: the node, the mark of the key it sits under, its dotted path.
struct Entry {
  YAML::Mark key_mark = YAML::Mark::null_mark();  // null for list items and the root
  YAML::Node value;
  std::string path;  // "server.listen", "routing.before_draft.match[0]"; "" = the root

  // A null value carries the mark of whatever follows it; point at its key instead.
  YAML::Mark mark() const {
    if (value.IsNull() && !key_mark.is_null()) return key_mark;
    return value.Mark();
  }
  Entry child(const YAML::Node& key, const YAML::Node& child_value) const {
    return {key.Mark(), child_value, path.empty() ? key.Scalar() : path + "." + key.Scalar()};
  }
};

// Values are echoed clipped, with control characters replaced, so a message stays one line.
std::string in_quotes(std::string_view text);
std::string describe(const YAML::Node& node);
std::string describe_path(const std::string& path);
// Closest candidate within a small edit distance: a typo, not a different word.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string_view>& candidates);
bool is_env_name(std::string_view name);
std::string trim(std::string_view text);

// One key of a mapping and how to read its value.
struct Field {
  std::string_view key;
  std::function<void(const Entry&)> read;
};

// Reads values and collects every problem, each at its YAML position.
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  std::vector<Problem> take_problems();

 protected:
  void report(const YAML::Mark& mark, std::string message);
  void report(const Entry& e, const std::string& message);

  // Calls `each` for every (key, value) with a string key seen for the first time.
  void for_each_pair(const Entry& e,
                     const std::function<void(const YAML::Node&, const Entry&)>& each);
  // A null value (`cors:` with everything commented out) reads as an empty mapping.
  void read_mapping(const Entry& e, const std::vector<Field>& fields);
  static std::string unknown_key_hint(const std::string& key, const std::vector<Field>& fields);

  bool read_string(const Entry& e, std::string& out);
  bool read_nonempty_string(const Entry& e, std::string& out);
  // The value is never echoed: a secret pasted here by mistake must not reach the logs.
  bool read_env_name(const Entry& e, std::string& out);
  template <class T>
  bool read_uint(const Entry& e, T& out, std::uint64_t min = 0,
                 std::uint64_t max = std::numeric_limits<T>::max()) {
    if (!e.value.IsScalar()) {
      report(e, "expected an integer, got " + describe(e.value));
      return false;
    }
    const std::string& text = e.value.Scalar();
    std::string_view digits = text;
    bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+'))
      digits.remove_prefix(1);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    bool overflow = ec == std::errc::result_out_of_range;
    if (digits.empty() || end != digits.data() + digits.size() ||
        (ec != std::errc{} && !overflow)) {
      report(e, "expected an integer, got " + in_quotes(text));
      return false;
    }
    bool bounded = min > 0 || max < std::numeric_limits<T>::max();
    std::string range = "must be between " + std::to_string(min) + " and " + std::to_string(max);
    if (negative && (value != 0 || overflow)) {
      report(e, (bounded ? range : "must not be negative") + ", got " + text);
      return false;
    }
    if (overflow || value < min || value > max) {
      report(e, (bounded ? range : "must be at most " + std::to_string(max)) + ", got " + text);
      return false;
    }
    out = static_cast<T>(value);
    return true;
  }
  bool read_timeout(const Entry& e, std::uint32_t& out);
  bool read_double(const Entry& e, double& out);
  // A logprob rule's threshold: `~` (or nothing) leaves it off, like omitting the key. Token
  // logprobs are never positive; a first-token margin (top-1 minus top-2) is never negative.
  enum class LogprobBound { at_most_zero, at_least_zero };
  void read_logprob_threshold(const Entry& e, std::optional<double>& out, LogprobBound bound);
  // YAML 1.2 booleans only: `yes`/`on` are YAML 1.1 and read as strings elsewhere.
  bool read_bool(const Entry& e, bool& out);
  // A null value (every item commented out) reads as an empty list.
  void read_list(const Entry& e, const std::function<void(const Entry&)>& read_item);
  void read_regex_list(const Entry& e, std::vector<std::string>& out);
  void read_address(const Entry& e, ListenAddress& out);
  // A share of requests: between 0 and 1.
  bool read_share(const Entry& e, double& out);

 private:
  std::string file_;
  std::vector<Problem> problems_;
};

}  // namespace gw::config::detail
