#include "gateway/config/load.hpp"

#include <re2/re2.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "gateway/config/address.hpp"

namespace gw::config {
namespace {

// Bounds of the numeric settings, in one place.
constexpr unsigned kMaxThreads = 1024;
constexpr std::uint64_t kMaxBodyBytes = 1073741824;  // 1 GiB
constexpr std::uint32_t kMinHeaderBytes = 1024;
constexpr std::uint32_t kMaxHeaderBytes = 1048576;
constexpr std::uint32_t kMaxTimeoutMs = 86400000;  // one day
constexpr std::uint32_t kMaxHoldTokens = 4096;
constexpr std::uint64_t kMinHoldBytes = 1024;               // routing.stream.hold_max_bytes
constexpr std::uint64_t kMinDraftBytes = 1024;              // routing.draft_max_bytes
constexpr std::uint64_t kMinDecisionLogBytes = 4096;        // routing.decision_log_max_bytes
constexpr std::uint64_t kMaxDecisionLogBytes = 1ull << 40;  // 1 TiB
constexpr std::uint32_t kMaxShadowInflight = 1024;          // routing.shadow.max_inflight
constexpr std::uintmax_t kMaxConfigFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxQuotedChars = 60;  // longer values are clipped in messages

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

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): load time
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// One key of a mapping and how to read its value.
struct Field {
  std::string_view key;
  std::function<void(const Entry&)> read;
};

// Where the cross-field checks point; set while reading.
struct Marks {
  std::vector<YAML::Mark> model_keys;  // parallel to Config::models
  std::optional<YAML::Mark> admin_listen;
  std::optional<YAML::Mark> draft;
  std::optional<YAML::Mark> escalate;
  std::optional<YAML::Mark> chars_under;
  std::optional<YAML::Mark> refine_prompt;
  std::optional<YAML::Mark> on_escalate;
};

class Loader {
 public:
  Loader(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  void load(const YAML::Node& root, Config& config) {
    bool has_models = false;
    Entry top{YAML::Mark::null_mark(), root, ""};
    read_mapping(top, {
                          {"server", [&](const Entry& e) { read_server(e, config.server); }},
                          {"cors", [&](const Entry& e) { read_cors(e, config.cors); }},
                          {"auth", [&](const Entry& e) { read_auth(e, config.auth); }},
                          {"models",
                           [&](const Entry& e) {
                             has_models = true;
                             read_models(e, config.models);
                           }},
                          {"routing", [&](const Entry& e) { read_routing(e, config.routing); }},
                      });
    if (!has_models && (root.IsMap() || root.IsNull())) {
      report(root.IsNull() ? YAML::Mark::null_mark() : root.Mark(),
             "missing required key 'models' (at least one upstream model)");
    }
    check_cross_fields(config);
  }

  std::vector<Problem> take_problems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    return std::move(problems_);
  }

 private:
  void report(const YAML::Mark& mark, std::string message) {
    if (mark.is_null()) {
      problems_.push_back({file_, 0, 0, std::move(message)});
    } else {
      problems_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
    }
  }
  void report(const Entry& e, const std::string& message) {
    report(e.mark(), (e.path.empty() ? "" : e.path + ": ") + message);
  }

  // ---- layer 1: each field on its own ------------------------------------------------

  // Calls `each` for every (key, value) with a string key seen for the first time.
  void for_each_pair(const Entry& e,
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
        report(key.Mark(), "duplicate key " + in_quotes(key.Scalar()) + " " +
                               describe_path(e.path) + " (first at line " +
                               std::to_string(seen->second) + ")");
        continue;
      }
      each(key, e.child(key, it->second));
    }
  }

  // A null value (`cors:` with everything commented out) reads as an empty mapping.
  void read_mapping(const Entry& e, const std::vector<Field>& fields) {
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

  static std::string unknown_key_hint(const std::string& key, const std::vector<Field>& fields) {
    std::vector<std::string_view> known;
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

  bool read_string(const Entry& e, std::string& out) {
    if (!e.value.IsScalar()) {
      report(e, "expected a string, got " + describe(e.value));
      return false;
    }
    out = e.value.Scalar();
    return true;
  }

  bool read_nonempty_string(const Entry& e, std::string& out) {
    std::string value;
    if (!read_string(e, value)) return false;
    if (value.empty()) {
      report(e, "must not be empty");
      return false;
    }
    out = std::move(value);
    return true;
  }

  // The value is never echoed: a secret pasted here by mistake must not reach the logs.
  bool read_env_name(const Entry& e, std::string& out) {
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

  bool read_timeout(const Entry& e, std::uint32_t& out) {
    return read_uint(e, out, 1, kMaxTimeoutMs);
  }

  bool read_double(const Entry& e, double& out) {
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

  // A logprob rule's threshold: `~` (or nothing) leaves it off, like omitting the key. Token
  // logprobs are never positive; a first-token margin (top-1 minus top-2) is never negative.
  enum class LogprobBound { at_most_zero, at_least_zero };
  void read_logprob_threshold(const Entry& e, std::optional<double>& out, LogprobBound bound) {
    if (e.value.IsNull()) return;
    double value = 0;
    if (!read_double(e, value)) return;
    if (bound == LogprobBound::at_most_zero && value > 0) {
      report(e,
             "must be at most 0 (log-probabilities are never positive), got " + e.value.Scalar());
      return;
    }
    if (bound == LogprobBound::at_least_zero && value < 0) {
      report(e,
             "must be at least 0 (the top-1 minus top-2 logprob margin is never negative), got " +
                 e.value.Scalar());
      return;
    }
    out = value;
  }

  // YAML 1.2 booleans only: `yes`/`on` are YAML 1.1 and read as strings elsewhere.
  bool read_bool(const Entry& e, bool& out) {
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

  // A null value (every item commented out) reads as an empty list.
  void read_list(const Entry& e, const std::function<void(const Entry&)>& read_item) {
    if (e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      report(e, "expected a list, got " + describe(e.value));
      return;
    }
    for (std::size_t i = 0; i < e.value.size(); ++i) {
      read_item({YAML::Mark::null_mark(), e.value[i], e.path + "[" + std::to_string(i) + "]"});
    }
  }

  void read_regex_list(const Entry& e, std::vector<std::string>& out) {
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

  void read_address(const Entry& e, ListenAddress& out) {
    std::string text;
    if (!read_string(e, text)) return;
    std::string why;
    if (auto address = parse_listen_address(text, why)) {
      out = *address;
    } else {
      report(e, "invalid address " + in_quotes(text) + " (" + why + ")");
    }
  }

  void read_server(const Entry& e, Server& s) {
    read_mapping(
        e,
        {
            {"listen", [&](const Entry& f) { read_address(f, s.listen); }},
            {"admin_listen",
             [&](const Entry& f) {
               marks_.admin_listen = f.mark();
               read_address(f, s.admin_listen);
             }},
            {"threads", [&](const Entry& f) { read_uint(f, s.threads, 0, kMaxThreads); }},
            {"max_body_bytes",
             [&](const Entry& f) { read_uint(f, s.max_body_bytes, 1, kMaxBodyBytes); }},
            {"max_header_bytes",
             [&](const Entry& f) {
               read_uint(f, s.max_header_bytes, kMinHeaderBytes, kMaxHeaderBytes);
             }},
            {"request_timeout_ms", [&](const Entry& f) { read_timeout(f, s.request_timeout_ms); }},
            {"header_timeout_ms", [&](const Entry& f) { read_timeout(f, s.header_timeout_ms); }},
            {"idle_timeout_ms", [&](const Entry& f) { read_timeout(f, s.idle_timeout_ms); }},
            {"drain_timeout_ms", [&](const Entry& f) { read_timeout(f, s.drain_timeout_ms); }},
            {"log_prompts", [&](const Entry& f) { read_bool(f, s.log_prompts); }},
            {"playground", [&](const Entry& f) { read_bool(f, s.playground); }},
        });
  }

  // An explicit list replaces the default ["*"]; an empty list allows no cross-origin page.
  void read_cors(const Entry& e, Cors& c) {
    read_mapping(e, {{"allow_origins", [&](const Entry& f) {
                        c.allow_origins.clear();
                        read_list(f, [&](const Entry& item) {
                          if (item.value.IsNull()) {
                            report(item,
                                   "expected a string, got nothing (write \"null\" in quotes "
                                   "to allow file:// pages)");
                            return;
                          }
                          std::string origin;
                          if (!read_string(item, origin)) return;
                          std::string why;
                          if (!is_valid_origin(origin, why)) {
                            report(item, "invalid origin " + in_quotes(origin) + " (" + why + ")");
                            return;
                          }
                          c.allow_origins.push_back(std::move(origin));
                        });
                      }}});
  }

  // SPEC: "unset = open". An unset (or empty) variable leaves the gateway open, and the
  // daemon says so at startup; a value that holds no key at all (", ,") is an error.
  void read_auth(const Entry& e, Auth& a) {
    read_mapping(e, {{"api_keys_env", [&](const Entry& f) {
                        if (!read_env_name(f, a.api_keys_env) || a.api_keys_env.empty()) return;
                        const std::string where =
                            "environment variable " + a.api_keys_env + " (" + f.path + ")";
                        const std::string remedy = "; unset it to run without authentication";
                        auto value = env_(a.api_keys_env);
                        if (!value || value->empty()) return;
                        std::stringstream keys(*value);
                        for (std::string key; std::getline(keys, key, ',');) {
                          if (auto trimmed = trim(key); !trimmed.empty()) {
                            a.api_keys.push_back(std::move(trimmed));
                          }
                        }
                        if (a.api_keys.empty()) report(f.mark(), where + " holds no keys" + remedy);
                      }}});
  }

  void read_price(const Entry& e, Price& p) {
    auto amount = [&](double& out) {
      return [&](const Entry& f) {
        double value = 0;
        if (!read_double(f, value)) return;
        if (value < 0) {
          report(f, "price must not be negative, got " + f.value.Scalar());
          return;
        }
        out = value;
      };
    };
    read_mapping(e, {
                        {"input_per_mtok", amount(p.input_per_mtok)},
                        {"output_per_mtok", amount(p.output_per_mtok)},
                        {"per_second", amount(p.per_second)},
                    });
  }

  void read_model(const YAML::Node& key, const Entry& e, Model& m) {
    bool has_upstream = false;
    read_mapping(
        e,
        {
            {"upstream",
             [&](const Entry& f) {
               has_upstream = true;
               if (!read_string(f, m.upstream)) return;
               std::string why;
               if (auto url = parse_upstream_url(m.upstream, why)) {
                 m.url = *url;
               } else {
                 report(f, "invalid URL " + in_quotes(m.upstream) + " (" + why + ")");
               }
             }},
            {"upstream_model", [&](const Entry& f) { read_nonempty_string(f, m.upstream_model); }},
            {"api_key_env", [&](const Entry& f) { read_env_name(f, m.api_key_env); }},
            {"timeout_ms", [&](const Entry& f) { read_timeout(f, m.timeout_ms); }},
            {"connect_timeout_ms", [&](const Entry& f) { read_timeout(f, m.connect_timeout_ms); }},
            {"idle_timeout_ms", [&](const Entry& f) { read_timeout(f, m.idle_timeout_ms); }},
            {"price", [&](const Entry& f) { read_price(f, m.price); }},
        });
    if (!has_upstream && (e.value.IsMap() || e.value.IsNull())) {
      report(key.Mark(), e.path + ": missing required key 'upstream'");
    }
    if (m.upstream_model.empty()) m.upstream_model = m.name;
    // An unset variable means "no Authorization header", not an error: Foundry Local,
    // Ollama, llama-server and vLLM need no key by default.
    if (!m.api_key_env.empty()) m.api_key = env_(m.api_key_env).value_or("");
  }

  void read_models(const Entry& e, std::vector<Model>& models) {
    const std::string expected = "expected a mapping of model name to its settings, got ";
    if (!e.value.IsMap() && !e.value.IsNull()) {
      report(e, expected + describe(e.value));
      return;
    }
    if (e.value.IsNull() || e.value.size() == 0) {
      report(e, "at least one model is required");
      return;
    }
    for_each_pair(e, [&](const YAML::Node& key, const Entry& child) {
      if (key.Scalar().empty()) {
        report(key.Mark(), "models: a model name must not be empty");
        return;
      }
      Model m;
      m.name = key.Scalar();
      read_model(key, child, m);
      marks_.model_keys.push_back(key.Mark());
      models.push_back(std::move(m));
    });
  }

  void read_routing(const Entry& e, Routing& r) {
    auto& before = r.before_draft;
    auto& after = r.after_draft;
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
            {"on_escalate",
             [&](const Entry& f) {
               std::string mode;
               if (!read_string(f, mode)) return;
               marks_.on_escalate = f.mark();
               if (auto parsed = policies::parse_on_escalate(mode)) {
                 r.on_escalate = *parsed;
               } else {
                 report(f, "expected 'replace' or 'refine', got " + in_quotes(mode));
               }
             }},
            {"refine_prompt",
             [&](const Entry& f) {
               if (read_string(f, r.refine_prompt)) marks_.refine_prompt = f.mark();
             }},
            {"before_draft",
             [&](const Entry& f) {
               read_mapping(
                   f, {
                          {"prompt_chars_over",
                           [&](const Entry& g) { read_uint(g, before.prompt_chars_over); }},
                          {"match", [&](const Entry& g) { read_regex_list(g, before.match); }},
                      });
             }},
            {"after_draft",
             [&](const Entry& f) {
               read_mapping(
                   f,
                   {
                       {"chars_under",
                        [&](const Entry& g) {
                          if (read_uint(g, after.chars_under)) marks_.chars_under = g.mark();
                        }},
                       {"chars_over", [&](const Entry& g) { read_uint(g, after.chars_over); }},
                       {"finish_reason_length",
                        [&](const Entry& g) { read_bool(g, after.finish_reason_length); }},
                       {"invalid_tool_call",
                        [&](const Entry& g) { read_bool(g, after.invalid_tool_call); }},
                       {"invalid_json", [&](const Entry& g) { read_bool(g, after.invalid_json); }},
                       {"refusal", [&](const Entry& g) { read_regex_list(g, after.refusal); }},
                       {"mean_logprob_under",
                        [&](const Entry& g) {
                          // `~` (or nothing) turns the rule off, like omitting the key.
                          if (g.value.IsNull()) return;
                          double value = 0;
                          if (!read_double(g, value)) return;
                          if (value > 0) {
                            report(g,
                                   "must be at most 0 (log-probabilities are never "
                                   "positive), got " +
                                       g.value.Scalar());
                            return;
                          }
                          after.has_mean_logprob_under = true;
                          after.mean_logprob_under = value;
                        }},
                       {"min_logprob_under",
                        [&](const Entry& g) {
                          read_logprob_threshold(g, after.min_logprob_under,
                                                 LogprobBound::at_most_zero);
                        }},
                       {"p10_logprob_under",
                        [&](const Entry& g) {
                          read_logprob_threshold(g, after.p10_logprob_under,
                                                 LogprobBound::at_most_zero);
                        }},
                       {"first_margin_under",
                        [&](const Entry& g) {
                          read_logprob_threshold(g, after.first_margin_under,
                                                 LogprobBound::at_least_zero);
                        }},
                   });
             }},
            {"stream",
             [&](const Entry& f) {
               read_mapping(
                   f, {{"hold_tokens",
                        [&](const Entry& g) { read_uint(g, r.hold_tokens, 0, kMaxHoldTokens); }},
                       {"hold_max_bytes",
                        [&](const Entry& g) {
                          read_uint(g, r.hold_max_bytes, kMinHoldBytes, kMaxBodyBytes);
                        }},
                       {"hold_max_ms", [&](const Entry& g) { read_timeout(g, r.hold_max_ms); }}});
             }},
            {"fallback", [&](const Entry& f) { read_bool(f, r.fallback); }},
            {"draft_max_bytes",
             [&](const Entry& f) {
               read_uint(f, r.draft_max_bytes, kMinDraftBytes, kMaxBodyBytes);
             }},
            {"decision_log",
             [&](const Entry& f) {
               if (!read_nonempty_string(f, r.decision_log)) return;
               // Checked here, not at the first routed request: the writer thread has no
               // one to tell.
               const auto dir = std::filesystem::path(r.decision_log).parent_path();
               std::error_code ec;
               if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
                 report(f, "directory " + in_quotes(dir.string()) + " does not exist");
               }
             }},
            {"decision_log_max_bytes",
             [&](const Entry& f) {
               read_uint(f, r.decision_log_max_bytes, kMinDecisionLogBytes, kMaxDecisionLogBytes);
             }},
            {"shadow", [&](const Entry& f) { read_shadow(f, r.shadow); }},
        });
  }

  bool read_share(const Entry& e, double& out) {
    double value = 0;
    if (!read_double(e, value)) return false;
    if (value < 0 || value > 1) {
      report(e, "must be between 0 and 1, got " + e.value.Scalar());
      return false;
    }
    out = value;
    return true;
  }

  void read_shadow(const Entry& e, Shadow& s) {
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

  // ---- layer 2: fields against each other ---------------------------------------------

  void check_cross_fields(Config& config) {
    auto& routing = config.routing;
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < config.models.size(); ++i) {
      const auto& model = config.models[i];
      names.push_back(model.name);
      if (model.name == routing.model_alias) {
        report(marks_.model_keys[i], "models." + model.name + ": model name " +
                                         in_quotes(model.name) +
                                         " clashes with routing.model_alias; rename one of them");
      }
    }
    if (!names.empty()) {
      // Without a routing section the first model drafts and the last one escalates.
      if (routing.draft.empty()) routing.draft = config.models.front().name;
      if (routing.escalate.empty()) routing.escalate = config.models.back().name;
      check_model_ref(marks_.draft, "routing.draft", routing.draft, names);
      check_model_ref(marks_.escalate, "routing.escalate", routing.escalate, names);
    }

    const auto& after = routing.after_draft;
    if (after.chars_under > 0 && after.chars_over > 0 && after.chars_under >= after.chars_over) {
      report(marks_.chars_under.value_or(YAML::Mark::null_mark()),
             "routing.after_draft.chars_under: must be less than chars_over (" +
                 std::to_string(after.chars_over) + "), got " + std::to_string(after.chars_under));
    }
    if (routing.on_escalate == OnEscalate::refine &&
        routing.refine_prompt.find("{draft}") == std::string::npos) {
      report(marks_.refine_prompt.value_or(marks_.on_escalate.value_or(YAML::Mark::null_mark())),
             "routing.refine_prompt: must contain {draft} when on_escalate is 'refine'");
    }

    const auto& server = config.server;
    if (server.listen.port != 0 && server.listen.port == server.admin_listen.port &&
        server.listen.host == server.admin_listen.host) {
      report(marks_.admin_listen.value_or(YAML::Mark::null_mark()),
             "server.admin_listen: must differ from server.listen (" + server.listen.host + ":" +
                 std::to_string(server.listen.port) + ")");
    }
  }

  void check_model_ref(const std::optional<YAML::Mark>& mark, const std::string& path,
                       const std::string& name, const std::vector<std::string_view>& names) {
    if (std::find(names.begin(), names.end(), name) != names.end()) return;
    std::string message = path + ": unknown model " + in_quotes(name);
    if (auto hint = closest(name, names)) {
      message += " (did you mean '" + *hint + "'?)";
    } else {
      std::string all;
      for (auto n : names) all += (all.empty() ? "" : ", ") + std::string(n);
      message += " (configured: " + all + ")";
    }
    report(mark.value_or(YAML::Mark::null_mark()), message);
  }

  std::string file_;
  EnvLookup env_;
  Marks marks_;
  std::vector<Problem> problems_;
};

}  // namespace

std::string Problem::str() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

namespace {

// Where each YAML document of a file starts; nothing else is kept.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// A config file holds one document. Documents are counted, at most two, instead of calling
// YAML::LoadAll: Debian's yaml-cpp 0.7 reports an empty document at the same position for ever
// on some malformed input (a leading ','; yaml-cpp #1040), and LoadAll then never returns.
constexpr std::size_t kMaxDocumentsCounted = 2;

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& source_name,
                       const EnvLookup& env) {
  LoadResult result;
  YAML::Node document;
  std::optional<YAML::Mark> second_document;
  try {
    std::istringstream in{std::string(yaml)};
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks.size() < kMaxDocumentsCounted && parser.HandleNextDocument(starts)) {
    }
    if (starts.marks.size() == kMaxDocumentsCounted &&
        starts.marks[1].pos <= starts.marks[0].pos) {  // the parser made no progress
      const auto& at = starts.marks[0];
      const auto pos = static_cast<std::size_t>(at.pos);
      std::string what = pos < yaml.size() ? "'" + std::string(1, yaml[pos]) + "'" : "end of file";
      result.problems.push_back(
          {source_name, at.line + 1, at.column + 1, "YAML syntax error: unexpected " + what});
      return result;
    }
    if (!starts.marks.empty()) document = YAML::Load(std::string(yaml));
    if (starts.marks.size() > 1) second_document = starts.marks[1];
  } catch (const YAML::Exception& e) {
    Problem p{source_name, 0, 0, "YAML syntax error: " + e.msg};
    if (!e.mark.is_null()) {
      p.line = e.mark.line + 1;
      p.column = e.mark.column + 1;
    }
    result.problems.push_back(std::move(p));
    return result;
  }

  auto config = std::make_shared<Config>();
  config->source = source_name;
  Loader loader(source_name, env ? env : EnvLookup(process_env));
  loader.load(document, *config);
  result.problems = loader.take_problems();
  if (second_document) {
    result.problems.push_back({source_name, second_document->line + 1, second_document->column + 1,
                               "only one YAML document is allowed per file"});
  }
  if (result.problems.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  auto cannot_read = [&](const std::string& why) {
    LoadResult result;
    result.problems.push_back({path, 0, 0, "cannot read configuration: " + why});
    return result;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return cannot_read("is a directory");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxConfigFileBytes) {
    return cannot_read("larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return cannot_read(std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return cannot_read(std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  return load_string(text.str(), path, env);
}

}  // namespace gw::config
