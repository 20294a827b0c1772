#include "gateway/config/yaml_reader.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "gateway/config/address.hpp"

namespace gw::config::detail {

// Values are echoed clipped, with control characters replaced, so a message stays one line.
std::string in_quotes(std::string_view text) {
  std::string out(text.substr(0, kMaxQuotedChars));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); },
      '?');
  return "'" + out + (text.size() > kMaxQuotedChars ? "…'" : "'");
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

std::string describe_path(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

// Closest candidate within a small edit distance: a typo, not a different word.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string_view>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (auto candidate : candidates) {
    std::size_t limit = candidate.size() <= 4 ? 1 : 2;
    std::size_t d = edit_distance(word, candidate);
    if (d <= limit && d < best_distance) {
      best = std::string(candidate);
      best_distance = d;
    }
  }
  return best;
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

std::string trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<Problem> YamlReader::take_problems() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(problems_);
}

void YamlReader::report(const YAML::Mark& mark, std::string message) {
  if (mark.is_null()) {
    problems_.push_back({file_, 0, 0, std::move(message)});
  } else {
    problems_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
  }
}

void YamlReader::report(const Entry& e, const std::string& message) {
  report(e.mark(), (e.path.empty() ? "" : e.path + ": ") + message);
}

void YamlReader::for_each_pair(const Entry& e,
                               const std::function<void(const YAML::Node&, const Entry&)>& each) {
  std::map<std::string, int> first_line;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    // By value: `it->first` lives in a proxy that dies at the end of this statement, so a
    // reference to it dangles (ASan: stack-use-after-scope on every load).
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      report(key.Mark(),
             "keys must be strings, got " + describe(key) + " " + describe_path(e.path));
      continue;
    }
    auto [seen, inserted] = first_line.emplace(key.Scalar(), key.Mark().line + 1);
    if (!inserted) {
      report(key.Mark(), "duplicate key " + in_quotes(key.Scalar()) + " " + describe_path(e.path) +
                             " (first at line " + std::to_string(seen->second) + ")");
      continue;
    }
    each(key, e.child(key, it->second));
  }
}

void YamlReader::read_mapping(const Entry& e, const std::vector<Field>& fields) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    report(e, "expected a mapping, got " + describe(e.value));
    return;
  }
  for_each_pair(e, [&](const YAML::Node& key, const Entry& child) {
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const Field& f) { return f.key == key.Scalar(); });
    if (field != fields.end()) {
      field->read(child);
      return;
    }
    report(key.Mark(), "unknown key " + in_quotes(key.Scalar()) + " " + describe_path(e.path) +
                           unknown_key_hint(key.Scalar(), fields));
  });
}

std::string YamlReader::unknown_key_hint(const std::string& key, const std::vector<Field>& fields) {
  std::vector<std::string_view> known;
  known.reserve(fields.size());
  for (const auto& f : fields) known.push_back(f.key);
  // Secrets never sit in the file: `api_key: sk-…` gets pointed at `api_key_env`.
  std::string env_key = key + "_env";
  if (std::find(known.begin(), known.end(), env_key) != known.end()) {
    return " (secrets come only from the environment: set '" + env_key +
           "' to the variable's name)";
  }
  if (key == "<<") return " (YAML merge keys are not supported)";
  if (auto hint = closest(key, known)) return " (did you mean '" + *hint + "'?)";
  return "";
}

bool YamlReader::read_string(const Entry& e, std::string& out) {
  if (!e.value.IsScalar()) {
    report(e, "expected a string, got " + describe(e.value));
    return false;
  }
  out = e.value.Scalar();
  return true;
}

bool YamlReader::read_nonempty_string(const Entry& e, std::string& out) {
  std::string value;
  if (!read_string(e, value)) return false;
  if (value.empty()) {
    report(e, "must not be empty");
    return false;
  }
  out = std::move(value);
  return true;
}

bool YamlReader::read_env_name(const Entry& e, std::string& out) {
  std::string name;
  if (!read_string(e, name)) return false;
  if (!name.empty() && !is_env_name(name)) {
    report(e,
           "not a valid environment variable name (it names the variable that holds the "
           "secret, not the secret itself)");
    return false;
  }
  out = std::move(name);
  return true;
}

bool YamlReader::read_timeout(const Entry& e, std::uint32_t& out) {
  return read_uint(e, out, 1, kMaxTimeoutMs);
}

bool YamlReader::read_double(const Entry& e, double& out) {
  if (!e.value.IsScalar()) {
    report(e, "expected a number, got " + describe(e.value));
    return false;
  }
  const std::string& text = e.value.Scalar();
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      !std::isfinite(value)) {
    report(e, "expected a number, got " + in_quotes(text));
    return false;
  }
  out = value;
  return true;
}

void YamlReader::read_logprob_threshold(const Entry& e, std::optional<double>& out,
                                        LogprobBound bound) {
  if (e.value.IsNull()) return;
  double value = 0;
  if (!read_double(e, value)) return;
  if (bound == LogprobBound::at_most_zero && value > 0) {
    report(e, "must be at most 0 (log-probabilities are never positive), got " + e.value.Scalar());
    return;
  }
  if (bound == LogprobBound::at_least_zero && value < 0) {
    report(e, "must be at least 0 (the top-1 minus top-2 logprob margin is never negative), got " +
                  e.value.Scalar());
    return;
  }
  out = value;
}

bool YamlReader::read_bool(const Entry& e, bool& out) {
  static const std::vector<std::string_view> kTrue{"true", "True", "TRUE"};
  static const std::vector<std::string_view> kFalse{"false", "False", "FALSE"};
  if (e.value.IsScalar()) {
    const std::string& text = e.value.Scalar();
    if (std::find(kTrue.begin(), kTrue.end(), text) != kTrue.end()) {
      out = true;
      return true;
    }
    if (std::find(kFalse.begin(), kFalse.end(), text) != kFalse.end()) {
      out = false;
      return true;
    }
  }
  report(e, "expected true or false, got " + describe(e.value));
  return false;
}

void YamlReader::read_list(const Entry& e, const std::function<void(const Entry&)>& read_item) {
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    report(e, "expected a list, got " + describe(e.value));
    return;
  }
  for (std::size_t i = 0; i < e.value.size(); ++i) {
    read_item({YAML::Mark::null_mark(), e.value[i], e.path + "[" + std::to_string(i) + "]"});
  }
}

void YamlReader::read_regex_list(const Entry& e, std::vector<std::string>& out) {
  out.clear();
  read_list(e, [&](const Entry& item) {
    std::string pattern;
    if (!read_string(item, pattern)) return;
    re2::RE2 compiled(pattern, re2::RE2::Quiet);
    if (!compiled.ok()) {
      report(item, "invalid regex: " + compiled.error());
      return;
    }
    out.push_back(std::move(pattern));
  });
}

void YamlReader::read_address(const Entry& e, ListenAddress& out) {
  std::string text;
  if (!read_string(e, text)) return;
  std::string why;
  if (auto address = parse_listen_address(text, why)) {
    out = *address;
  } else {
    report(e, "invalid address " + in_quotes(text) + " (" + why + ")");
  }
}

bool YamlReader::read_share(const Entry& e, double& out) {
  double value = 0;
  if (!read_double(e, value)) return false;
  if (value < 0 || value > 1) {
    report(e, "must be between 0 and 1, got " + e.value.Scalar());
    return false;
  }
  out = value;
  return true;
}

}  // namespace gw::config::detail
