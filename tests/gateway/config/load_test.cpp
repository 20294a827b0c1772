#include "gateway/config/load.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <map>
#include <ostream>
#include <thread>

#include "config_fixture.hpp"

namespace gw::config {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::fake_env;
using ::testing::IsEmpty;
using testing::kModels;

std::vector<std::string> problems_of(const LoadResult& result) {
  std::vector<std::string> out;
  out.reserve(result.problems.size());
  for (const auto& p : result.problems) out.push_back(p.str());
  return out;
}

struct LoadCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> expected;
  bool add_models = true;
  std::map<std::string, std::string> env = {};
};

std::ostream& operator<<(std::ostream& os, const LoadCase& c) {
  return os << c.name;
}

class LoadProblems : public ::testing::TestWithParam<LoadCase> {};

TEST_P(LoadProblems, ReportsExactly) {
  const LoadCase& c = GetParam();
  auto result = load_string(c.add_models ? c.yaml + kModels : c.yaml, "t.yaml", fake_env(c.env));
  EXPECT_THAT(problems_of(result), ElementsAreArray(c.expected)) << c.yaml;
  EXPECT_EQ(result.config, nullptr);
}

// clang-format off
const LoadCase kUnknownKeys[] = {
    {"TopLevel", "sever:\n  threads: 2\n",
     {"t.yaml:1:1: unknown key 'sever' at the top level (did you mean 'server'?)"}},
    {"Server", "server:\n  max_body_byte: 10\n",
     {"t.yaml:2:3: unknown key 'max_body_byte' in server (did you mean 'max_body_bytes'?)"}},
    {"NoCloseMatch", "server:\n  colour: red\n",
     {"t.yaml:2:3: unknown key 'colour' in server"}},
    {"Cors", "cors:\n  allow_origin: [\"*\"]\n",
     {"t.yaml:2:3: unknown key 'allow_origin' in cors (did you mean 'allow_origins'?)"}},
    {"Auth", "auth:\n  api_key_envs: KEYS\n",
     {"t.yaml:2:3: unknown key 'api_key_envs' in auth (did you mean 'api_keys_env'?)"}},
    {"InlineGatewayKeys", "auth:\n  api_keys: sk-1,sk-2\n",
     {"t.yaml:2:3: unknown key 'api_keys' in auth (secrets come only from the environment: "
      "set 'api_keys_env' to the variable's name)"}},
    {"Model",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    upstream_modle: x\n",
     {"t.yaml:4:5: unknown key 'upstream_modle' in models.small (did you mean 'upstream_model'?)"},
     false},
    {"InlineModelKey",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    api_key: sk-secret\n",
     {"t.yaml:4:5: unknown key 'api_key' in models.small (secrets come only from the "
      "environment: set 'api_key_env' to the variable's name)"},
     false},
    {"Price",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    price: {input_per_tok: 1}\n",
     {"t.yaml:4:13: unknown key 'input_per_tok' in models.small.price (did you mean "
      "'input_per_mtok'?)"},
     false},
    {"Routing", "routing:\n  falback: true\n",
     {"t.yaml:2:3: unknown key 'falback' in routing (did you mean 'fallback'?)"}},
    {"BeforeDraft", "routing:\n  before_draft:\n    matches: []\n",
     {"t.yaml:3:5: unknown key 'matches' in routing.before_draft (did you mean 'match'?)"}},
    {"AfterDraft", "routing:\n  after_draft:\n    chars_undr: 5\n",
     {"t.yaml:3:5: unknown key 'chars_undr' in routing.after_draft (did you mean 'chars_under'?)"}},
    {"Stream", "routing:\n  stream:\n    hold_token: 5\n",
     {"t.yaml:3:5: unknown key 'hold_token' in routing.stream (did you mean 'hold_tokens'?)"}},
    {"Duplicate", "server:\n  threads: 1\n  threads: 2\n",
     {"t.yaml:3:3: duplicate key 'threads' in server (first at line 2)"}},
};

const LoadCase kWrongTypes[] = {
    {"StringForInteger", "server:\n  threads: four\n",
     {"t.yaml:2:12: server.threads: expected an integer, got 'four'"}},
    {"FloatForInteger", "server:\n  max_body_bytes: 1.5\n",
     {"t.yaml:2:19: server.max_body_bytes: expected an integer, got '1.5'"}},
    {"NegativeBounded", "server:\n  threads: -1\n",
     {"t.yaml:2:12: server.threads: must be between 0 and 1024, got -1"}},
    {"NegativeUnbounded", "routing:\n  before_draft:\n    prompt_chars_over: -5\n",
     {"t.yaml:3:24: routing.before_draft.prompt_chars_over: must not be negative, got -5"}},
    {"ThreadsTooMany", "server:\n  threads: 1025\n",
     {"t.yaml:2:12: server.threads: must be between 0 and 1024, got 1025"}},
    {"BodyZero", "server:\n  max_body_bytes: 0\n",
     {"t.yaml:2:19: server.max_body_bytes: must be between 1 and 1073741824, got 0"}},
    {"BodyTooLarge", "server:\n  max_body_bytes: 1073741825\n",
     {"t.yaml:2:19: server.max_body_bytes: must be between 1 and 1073741824, got 1073741825"}},
    {"TimeoutZero", "server:\n  request_timeout_ms: 0\n",
     {"t.yaml:2:23: server.request_timeout_ms: must be between 1 and 86400000, got 0"}},
    {"TimeoutTooLong", "server:\n  idle_timeout_ms: 86400001\n",
     {"t.yaml:2:20: server.idle_timeout_ms: must be between 1 and 86400000, got 86400001"}},
    {"Overflow", "routing:\n  after_draft:\n    chars_over: 99999999999999999999\n",
     {"t.yaml:3:17: routing.after_draft.chars_over: must be at most 18446744073709551615, got "
      "99999999999999999999"}},
    {"MissingValue", "server:\n  threads:\n",
     {"t.yaml:2:3: server.threads: expected an integer, got nothing"}},
    {"ListForMapping", "server: [a, b]\n",
     {"t.yaml:1:9: server: expected a mapping, got a list"}},
    {"ScalarForMapping", "routing:\n  stream: 24\n",
     {"t.yaml:2:11: routing.stream: expected a mapping, got '24'"}},
    {"ModelsAsList", "models:\n  - small\n",
     {"t.yaml:2:3: models: expected a mapping of model name to its settings, got a list"},
     false},
    {"ModelsEmpty", "models: {}\n", {"t.yaml:1:9: models: at least one model is required"}, false},
    {"ModelsMissing", "server:\n  threads: 1\n",
     {"t.yaml:1:1: missing required key 'models' (at least one upstream model)"}, false},
    {"ModelNotMapping", "models:\n  small: \"http://h/v1\"\n",
     {"t.yaml:2:10: models.small: expected a mapping, got 'http://h/v1'"}, false},
    {"UpstreamMissing", "models:\n  small:\n    timeout_ms: 5\n",
     {"t.yaml:2:3: models.small: missing required key 'upstream'"}, false},
    {"UpstreamMissingNull", "models:\n  small:\n",
     {"t.yaml:2:3: models.small: missing required key 'upstream'"}, false},
    {"UpstreamList", "models:\n  small:\n    upstream: [a]\n",
     {"t.yaml:3:15: models.small.upstream: expected a string, got a list"}, false},
    {"Bool", "server:\n  log_prompts: yes\n",
     {"t.yaml:2:16: server.log_prompts: expected true or false, got 'yes'"}},
    {"ListForString", "cors:\n  allow_origins: \"*\"\n",
     {"t.yaml:2:18: cors.allow_origins: expected a list, got '*'"}},
    {"PriceNotNumber",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    price: {per_second: cheap}\n",
     {"t.yaml:4:25: models.small.price.per_second: expected a number, got 'cheap'"}, false},
    {"NegativePrice",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    price:\n      input_per_mtok: -0.1\n",
     {"t.yaml:5:23: models.small.price.input_per_mtok: price must not be negative, got -0.1"},
     false},
    {"EmptyUpstreamModel",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    upstream_model: \"\"\n",
     {"t.yaml:4:21: models.small.upstream_model: must not be empty"}, false},
    {"SecretInEnvName",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    api_key_env: sk-abc123\n",
     {"t.yaml:4:18: models.small.api_key_env: not a valid environment variable name (it names "
      "the variable that holds the secret, not the secret itself)"},
     false},
    {"OnEscalate", "routing:\n  on_escalate: rewrite\n",
     {"t.yaml:2:16: routing.on_escalate: expected 'replace' or 'refine', got 'rewrite'"}},
    {"MeanLogprobPositive", "routing:\n  after_draft:\n    mean_logprob_under: 0.5\n",
     {"t.yaml:3:25: routing.after_draft.mean_logprob_under: must be at most 0 (log-probabilities "
      "are never positive), got 0.5"}},
    {"InvalidToolCallNotBool", "routing:\n  after_draft:\n    invalid_tool_call: yes\n",
     {"t.yaml:3:24: routing.after_draft.invalid_tool_call: expected true or false, got 'yes'"}},
    {"InvalidJsonNotBool", "routing:\n  after_draft:\n    invalid_json: [true]\n",
     {"t.yaml:3:19: routing.after_draft.invalid_json: expected true or false, got a list"}},
    {"HoldTokensTooLarge", "routing:\n  stream:\n    hold_tokens: 5000\n",
     {"t.yaml:3:18: routing.stream.hold_tokens: must be between 0 and 4096, got 5000"}},
    {"HoldMaxBytesTooSmall", "routing:\n  stream:\n    hold_max_bytes: 10\n",
     {"t.yaml:3:21: routing.stream.hold_max_bytes: must be between 1024 and 1073741824, got 10"}},
    {"HoldMaxMsZero", "routing:\n  stream:\n    hold_max_ms: 0\n",
     {"t.yaml:3:18: routing.stream.hold_max_ms: must be between 1 and 86400000, got 0"}},
    {"DraftMaxBytesNotANumber", "routing:\n  draft_max_bytes: big\n",
     {"t.yaml:2:20: routing.draft_max_bytes: expected an integer, got 'big'"}},
    {"ModelIdleTimeoutZero",
     "models:\n  small:\n    upstream: \"http://h/v1\"\n    idle_timeout_ms: 0\n",
     {"t.yaml:4:22: models.small.idle_timeout_ms: must be between 1 and 86400000, got 0"}, false},
    {"EmptyAlias", "routing:\n  model_alias: \"\"\n",
     {"t.yaml:2:16: routing.model_alias: must not be empty"}},
    {"NonScalarKey", "server:\n  ? [a]\n  : 1\n",
     {"t.yaml:2:5: keys must be strings, got a list in server"}},
};

const LoadCase kAddresses[] = {
    {"NoPort", "server:\n  listen: \"127.0.0.1\"\n",
     {"t.yaml:2:11: server.listen: invalid address '127.0.0.1' (expected HOST:PORT, e.g. "
      "127.0.0.1:8080)"}},
    {"Hostname", "server:\n  listen: \"example.com:8080\"\n",
     {"t.yaml:2:11: server.listen: invalid address 'example.com:8080' (host must be an IPv4 "
      "address, [IPv6 address] or localhost)"}},
    {"PortTooLarge", "server:\n  admin_listen: 127.0.0.1:65536\n",
     {"t.yaml:2:17: server.admin_listen: invalid address '127.0.0.1:65536' (port must be a "
      "number from 0 to 65535)"}},
    {"SameAsListen", "server:\n  listen: \"[::1]:8080\"\n  admin_listen: \"[::1]:8080\"\n",
     {"t.yaml:3:17: server.admin_listen: must differ from server.listen (::1:8080)"}},
};

const LoadCase kUrls[] = {
    {"Scheme", "models:\n  small:\n    upstream: \"127.0.0.1:5273/v1\"\n",
     {"t.yaml:3:15: models.small.upstream: invalid URL '127.0.0.1:5273/v1' (scheme must be "
      "http:// or https://)"},
     false},
    {"NoHost", "models:\n  small:\n    upstream: \"http:///v1\"\n",
     {"t.yaml:3:15: models.small.upstream: invalid URL 'http:///v1' (missing host)"}, false},
    {"BadPort", "models:\n  small:\n    upstream: \"http://h:0/v1\"\n",
     {"t.yaml:3:15: models.small.upstream: invalid URL 'http://h:0/v1' (port must be a number "
      "from 1 to 65535)"},
     false},
    {"Query", "models:\n  small:\n    upstream: \"http://h/v1?key=x\"\n",
     {"t.yaml:3:15: models.small.upstream: invalid URL 'http://h/v1?key=x' (query and fragment "
      "are not allowed)"},
     false},
};

const LoadCase kRegexes[] = {
    {"FlowList", "routing:\n  before_draft:\n    match: [\"ok\", \"(?i)\\\\b(contract\"]\n",
     {"t.yaml:3:19: routing.before_draft.match[1]: invalid regex: missing ): (?i)\\b(contract"}},
    {"BlockList", "routing:\n  after_draft:\n    refusal:\n      - \"fine\"\n      - \"a**\"\n",
     {"t.yaml:5:9: routing.after_draft.refusal[1]: invalid regex: bad repetition operator: **"}},
    {"NotAString", "routing:\n  after_draft:\n    refusal: [{a: 1}]\n",
     {"t.yaml:3:15: routing.after_draft.refusal[0]: expected a string, got a mapping"}},
};

const LoadCase kCrossField[] = {
    {"UnknownDraftWithHint", "routing:\n  draft: smal\n",
     {"t.yaml:2:10: routing.draft: unknown model 'smal' (did you mean 'small'?)"}},
    {"UnknownEscalateListsModels", "routing:\n  escalate: gpt-4o\n",
     {"t.yaml:2:13: routing.escalate: unknown model 'gpt-4o' (configured: small, large)"}},
    {"AliasClash",
     "models:\n  auto:\n    upstream: \"http://h/v1\"\n",
     {"t.yaml:2:3: models.auto: model name 'auto' clashes with routing.model_alias; rename one "
      "of them"},
     false},
    {"CustomAliasClash", "routing:\n  model_alias: small\n",
     {"t.yaml:4:3: models.small: model name 'small' clashes with routing.model_alias; rename "
      "one of them"}},
    {"CharsUnderNotBelowOver",
     "routing:\n  after_draft:\n    chars_under: 500\n    chars_over: 100\n",
     {"t.yaml:3:18: routing.after_draft.chars_under: must be less than chars_over (100), got "
      "500"}},
    {"RefineNeedsDraft",
     "routing:\n  on_escalate: refine\n  refine_prompt: \"Make it better\"\n",
     {"t.yaml:3:18: routing.refine_prompt: must contain {draft} when on_escalate is 'refine'"}},
};

const LoadCase kCorsAndAuth[] = {
    {"OriginWithPath", "cors:\n  allow_origins: [\"*\", \"https://app.example.com/\"]\n",
     {"t.yaml:2:24: cors.allow_origins[1]: invalid origin 'https://app.example.com/' (expected "
      "\"*\", \"null\" or scheme://host[:port] without a path)"}},
    {"OriginUppercase", "cors:\n  allow_origins:\n    - \"https://App.example.com\"\n",
     {"t.yaml:3:7: cors.allow_origins[0]: invalid origin 'https://App.example.com' (scheme and "
      "host must be lowercase, as browsers send them)"}},
    {"UnquotedNull", "cors:\n  allow_origins: [null]\n",
     {"t.yaml:2:19: cors.allow_origins[0]: expected a string, got nothing (write \"null\" in "
      "quotes to allow file:// pages)"}},
    {"AuthEnvEmpty", "auth:\n  api_keys_env: GATEWAY_API_KEYS\n",
     {"t.yaml:2:17: environment variable GATEWAY_API_KEYS (auth.api_keys_env) holds no keys; "
      "unset it to run without authentication"},
     true,
     {{"GATEWAY_API_KEYS", " , ,"}}},
};

const LoadCase kFiles[] = {
    {"SyntaxError", "server:\n  listen: [1, 2\nmodels: {}\n",
     {"t.yaml:3:7: YAML syntax error: end of sequence flow not found"}, false},
    {"BadIndentation", "server:\n  threads: 1\n   listen: x\n",
     {"t.yaml:3:10: YAML syntax error: illegal map value"}, false},
    {"Empty", "", {"t.yaml: missing required key 'models' (at least one upstream model)"}, false},
    {"OnlyComments", "# nothing yet\n",
     {"t.yaml: missing required key 'models' (at least one upstream model)"}, false},
    {"NotAMapping", "- a\n- b\n", {"t.yaml:1:1: expected a mapping, got a list"}, false},
    {"TwoDocuments", "server: {}\n---\nserver: {}\n",
     {"t.yaml:1:1: missing required key 'models' (at least one upstream model)",
      "t.yaml:2:1: only one YAML document is allowed per file"},  // where its `---` stands
     false},
    // yaml-cpp 0.7's LoadAll never returned on these (a fuzz finding): an error, not a hang.
    {"LeadingComma", ",\n", {"t.yaml:1:1: YAML syntax error: unexpected ','"}, false},
    {"LeadingCommaThenText", ",>er", {"t.yaml:1:1: YAML syntax error: unexpected ','"}, false},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(UnknownKeys, LoadProblems, ::testing::ValuesIn(kUnknownKeys),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(WrongTypes, LoadProblems, ::testing::ValuesIn(kWrongTypes),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Addresses, LoadProblems, ::testing::ValuesIn(kAddresses),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Urls, LoadProblems, ::testing::ValuesIn(kUrls),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Regexes, LoadProblems, ::testing::ValuesIn(kRegexes),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(CrossField, LoadProblems, ::testing::ValuesIn(kCrossField),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(CorsAndAuth, LoadProblems, ::testing::ValuesIn(kCorsAndAuth),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Files, LoadProblems, ::testing::ValuesIn(kFiles),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Load, ReportsEveryProblemInFileOrder) {
  const std::string yaml = R"(server:
  listen: "127.0.0.1"
  threads: many
  max_body_byts: 5
models:
  small:
    upstream: "ftp://h/v1"
    price: { input_per_mtok: -1 }
routing:
  draft: smal
  after_draft:
    refusal: ["(unclosed"]
  stream: { hold_tokens: 99999 }
)";
  auto result = load_string(yaml, "multi.yaml", fake_env());
  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(
      problems_of(result),
      ElementsAre(
          "multi.yaml:2:11: server.listen: invalid address '127.0.0.1' (expected HOST:PORT, "
          "e.g. 127.0.0.1:8080)",
          "multi.yaml:3:12: server.threads: expected an integer, got 'many'",
          "multi.yaml:4:3: unknown key 'max_body_byts' in server (did you mean "
          "'max_body_bytes'?)",
          "multi.yaml:7:15: models.small.upstream: invalid URL 'ftp://h/v1' (scheme must be "
          "http:// or https://)",
          "multi.yaml:8:30: models.small.price.input_per_mtok: price must not be negative, got -1",
          "multi.yaml:10:10: routing.draft: unknown model 'smal' (did you mean 'small'?)",
          "multi.yaml:12:15: routing.after_draft.refusal[0]: invalid regex: missing ): (unclosed",
          "multi.yaml:13:26: routing.stream.hold_tokens: must be between 0 and 4096, got 99999"));
}

TEST(Load, AppliesDefaultsWhenKeysAreOmitted) {
  auto result = load_string(kModels, "min.yaml", fake_env());
  ASSERT_THAT(problems_of(result), IsEmpty());
  const Config& c = *result.config;
  const Config defaults;
  EXPECT_EQ(c.source, "min.yaml");
  EXPECT_EQ(c.server.listen.host, "127.0.0.1");
  EXPECT_EQ(c.server.listen.port, 8080);
  EXPECT_EQ(c.server.admin_listen.port, 9090);
  EXPECT_EQ(c.server.threads, 0u);
  EXPECT_EQ(c.server.max_body_bytes, defaults.server.max_body_bytes);
  EXPECT_EQ(c.server.request_timeout_ms, defaults.server.request_timeout_ms);
  EXPECT_EQ(c.server.drain_timeout_ms, defaults.server.drain_timeout_ms);
  EXPECT_TRUE(c.server.playground);
  EXPECT_FALSE(c.server.log_prompts);
  EXPECT_THAT(c.cors.allow_origins, ElementsAre("*"));
  EXPECT_TRUE(c.auth.api_keys_env.empty());
  EXPECT_THAT(c.auth.api_keys, IsEmpty());

  ASSERT_EQ(c.models.size(), 2u);
  const Model& small = c.models[0];
  EXPECT_EQ(small.name, "small");
  EXPECT_EQ(small.upstream, "http://127.0.0.1:5301/v1");
  EXPECT_EQ(small.upstream_model, "small");
  EXPECT_FALSE(small.url.tls);
  EXPECT_EQ(small.url.host, "127.0.0.1");
  EXPECT_EQ(small.url.port, 5301);
  EXPECT_EQ(small.url.base_path, "/v1");
  EXPECT_EQ(small.timeout_ms, 60000u);
  EXPECT_EQ(small.connect_timeout_ms, 5000u);
  EXPECT_EQ(small.price.input_per_mtok, 0);
  EXPECT_TRUE(small.api_key.empty());

  // No routing section: the first model drafts, the last escalates.
  EXPECT_EQ(c.routing.model_alias, "auto");
  EXPECT_EQ(c.routing.draft, "small");
  EXPECT_EQ(c.routing.escalate, "large");
  EXPECT_EQ(c.routing.on_escalate, OnEscalate::replace);
  EXPECT_EQ(c.routing.refine_prompt, defaults.routing.refine_prompt);
  EXPECT_EQ(c.routing.hold_tokens, 24u);
  EXPECT_TRUE(c.routing.fallback);
  EXPECT_TRUE(c.routing.after_draft.finish_reason_length);
  EXPECT_FALSE(c.routing.after_draft.has_mean_logprob_under);
  EXPECT_THAT(c.routing.before_draft.match, IsEmpty());
}

TEST(Load, ReadsEverySetting) {
  const std::string yaml = R"(server:
  listen: "[::1]:0"
  admin_listen: "localhost:0"
  threads: 4
  max_body_bytes: 2048
  max_header_bytes: 8192
  request_timeout_ms: 1000
  header_timeout_ms: 2000
  idle_timeout_ms: 3000
  drain_timeout_ms: 4000
  log_prompts: true
  playground: false
cors:
  allow_origins: ["null", "http://localhost:3000"]
models:
  small:
    upstream: "https://api.example.com/openai/v1/"
    upstream_model: "vendor/small-1"
    api_key_env: SMALL_KEY
    timeout_ms: 100
    connect_timeout_ms: 200
    price: { input_per_mtok: 0.1, output_per_mtok: 0.4, per_second: 0.002 }
  large:
    upstream: "http://10.0.0.2:8000"
routing:
  model_alias: hybrid
  draft: small
  escalate: large
  on_escalate: refine
  refine_prompt: "Fix: {draft}"
  before_draft: { prompt_chars_over: 100, match: ["a+"] }
  after_draft:
    chars_under: 5
    chars_over: 50
    finish_reason_length: false
    refusal: ["(?i)sorry"]
    mean_logprob_under: -2
    invalid_tool_call: true
    invalid_json: true
  stream: { hold_tokens: 0 }
  fallback: false
)";
  auto result = load_string(yaml, "all.yaml", fake_env({{"SMALL_KEY", "sk-small"}}));
  ASSERT_THAT(problems_of(result), IsEmpty());
  const Config& c = *result.config;
  EXPECT_EQ(c.server.listen.host, "::1");
  EXPECT_EQ(c.server.listen.port, 0);
  EXPECT_EQ(c.server.admin_listen.host, "localhost");
  EXPECT_EQ(c.server.threads, 4u);
  EXPECT_EQ(c.server.max_body_bytes, 2048u);
  EXPECT_EQ(c.server.max_header_bytes, 8192u);
  EXPECT_EQ(c.server.request_timeout_ms, 1000u);
  EXPECT_EQ(c.server.header_timeout_ms, 2000u);
  EXPECT_EQ(c.server.idle_timeout_ms, 3000u);
  EXPECT_EQ(c.server.drain_timeout_ms, 4000u);
  EXPECT_TRUE(c.server.log_prompts);
  EXPECT_FALSE(c.server.playground);
  EXPECT_THAT(c.cors.allow_origins, ElementsAre("null", "http://localhost:3000"));

  const Model* small = c.find_model("small");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->upstream_model, "vendor/small-1");
  EXPECT_EQ(small->api_key_env, "SMALL_KEY");
  EXPECT_EQ(small->api_key, "sk-small");
  EXPECT_TRUE(small->url.tls);
  EXPECT_EQ(small->url.host, "api.example.com");
  EXPECT_EQ(small->url.port, 443);
  EXPECT_EQ(small->url.base_path, "/openai/v1");
  EXPECT_EQ(small->timeout_ms, 100u);
  EXPECT_EQ(small->connect_timeout_ms, 200u);
  EXPECT_DOUBLE_EQ(small->price.input_per_mtok, 0.1);
  EXPECT_DOUBLE_EQ(small->price.output_per_mtok, 0.4);
  EXPECT_DOUBLE_EQ(small->price.per_second, 0.002);
  const Model* large = c.find_model("large");
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->url.port, 8000);
  EXPECT_EQ(large->url.base_path, "");
  EXPECT_EQ(c.find_model("hybrid"), nullptr);

  const Routing& r = c.routing;
  EXPECT_EQ(r.model_alias, "hybrid");
  EXPECT_EQ(r.on_escalate, OnEscalate::refine);
  EXPECT_EQ(r.refine_prompt, "Fix: {draft}");
  EXPECT_EQ(r.before_draft.prompt_chars_over, 100u);
  EXPECT_THAT(r.before_draft.match, ElementsAre("a+"));
  EXPECT_EQ(r.after_draft.chars_under, 5u);
  EXPECT_EQ(r.after_draft.chars_over, 50u);
  EXPECT_FALSE(r.after_draft.finish_reason_length);
  EXPECT_THAT(r.after_draft.refusal, ElementsAre("(?i)sorry"));
  EXPECT_TRUE(r.after_draft.has_mean_logprob_under);
  EXPECT_DOUBLE_EQ(r.after_draft.mean_logprob_under, -2);
  EXPECT_TRUE(r.after_draft.invalid_tool_call);
  EXPECT_TRUE(r.after_draft.invalid_json);
  EXPECT_EQ(r.hold_tokens, 0u);
  EXPECT_FALSE(r.fallback);
}

TEST(Load, NullSectionsAndListsMeanDefaults) {
  const std::string yaml = std::string("server:\ncors:\n  allow_origins:\nrouting:\n") +
                           "  after_draft:\n    mean_logprob_under: ~\n" + kModels;
  auto result = load_string(yaml, "null.yaml", fake_env());
  ASSERT_THAT(problems_of(result), IsEmpty());
  EXPECT_THAT(result.config->cors.allow_origins, IsEmpty());  // explicit: no cross-origin pages
  EXPECT_FALSE(result.config->routing.after_draft.has_mean_logprob_under);
}

TEST(Load, UpstreamKeyFromEnvironmentWhenSet) {
  const std::string yaml = R"(models:
  small:
    upstream: "http://h/v1"
    api_key_env: FOUNDRY_API_KEY
)";
  auto with_key = load_string(yaml, "k.yaml", fake_env({{"FOUNDRY_API_KEY", "secret"}}));
  ASSERT_THAT(problems_of(with_key), IsEmpty());
  EXPECT_EQ(with_key.config->models[0].api_key, "secret");

  // Unset: no Authorization header, not an error (local runtimes need no key).
  auto without = load_string(yaml, "k.yaml", fake_env());
  ASSERT_THAT(problems_of(without), IsEmpty());
  EXPECT_EQ(without.config->models[0].api_key, "");
  EXPECT_EQ(without.config->models[0].api_key_env, "FOUNDRY_API_KEY");
}

TEST(Load, GatewayKeysFromEnvironmentAreSplitAndTrimmed) {
  auto result = load_string(std::string("auth:\n  api_keys_env: KEYS\n") + kModels, "a.yaml",
                            fake_env({{"KEYS", " k1, k2 ,,k3 "}}));
  ASSERT_THAT(problems_of(result), IsEmpty());
  EXPECT_EQ(result.config->auth.api_keys_env, "KEYS");
  EXPECT_THAT(result.config->auth.api_keys, ElementsAre("k1", "k2", "k3"));
}

// SPEC: "unset = open": the gateway runs without client keys, and says so at startup.
TEST(Load, GatewayKeysVariableUnsetOrEmptyMeansOpen) {
  for (const auto& env : {fake_env(), fake_env({{"KEYS", ""}})}) {
    auto result =
        load_string(std::string("auth:\n  api_keys_env: KEYS\n") + kModels, "a.yaml", env);
    ASSERT_THAT(problems_of(result), IsEmpty());
    EXPECT_EQ(result.config->auth.api_keys_env, "KEYS");
    EXPECT_THAT(result.config->auth.api_keys, IsEmpty());
  }
}

TEST(Load, DefaultLookupReadsTheProcessEnvironment) {
  ::setenv("GW_CONFIG_TEST_KEYS", "only-key", 1);  // NOLINT(concurrency-mt-unsafe): one thread
  auto result =
      load_string(std::string("auth:\n  api_keys_env: GW_CONFIG_TEST_KEYS\n") + kModels, "e.yaml");
  ::unsetenv("GW_CONFIG_TEST_KEYS");  // NOLINT(concurrency-mt-unsafe): one thread
  ASSERT_THAT(problems_of(result), IsEmpty());
  EXPECT_THAT(result.config->auth.api_keys, ElementsAre("only-key"));
}

TEST(Load, MissingFileIsOneProblem) {
  auto result = load_file("/nonexistent/gateway.yaml", fake_env());
  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(problems_of(result),
              ElementsAre("/nonexistent/gateway.yaml: cannot read configuration: No such file "
                          "or directory"));
}

TEST(Load, DirectoryIsOneProblem) {
  auto result = load_file(GW_SOURCE_DIR "/config", fake_env());
  EXPECT_THAT(problems_of(result),
              ElementsAre(GW_SOURCE_DIR "/config: cannot read configuration: is a directory"));
}

// A named pipe has no size to check before reading: the bound holds while reading. (Before, a
// writer that never stopped grew the loader's buffer without limit.)
TEST(Load, EndlessPipeIsCutAtTheSizeBound) {
  const std::string fifo = ::testing::TempDir() + "gw-load-fifo-" + std::to_string(::getpid());
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    const std::string line = "# padding padding padding padding padding padding padding\n";
    // 8 MiB of comments, twice the bound; stops once the reader has closed its end.
    for (std::size_t written = 0; fd >= 0 && written < 8u * 1024 * 1024; written += line.size()) {
      if (::write(fd, line.data(), line.size()) < 0) break;
    }
    if (fd >= 0) ::close(fd);
  });
  ::signal(SIGPIPE, SIG_IGN);
  auto result = load_file(fifo, fake_env());
  writer.join();
  ::unlink(fifo.c_str());
  EXPECT_THAT(problems_of(result),
              ElementsAre(fifo + ": cannot read configuration: larger than 4194304 bytes"));
}

TEST(Problem, FormatsOneBasedPositions) {
  EXPECT_EQ((Problem{"f.yaml", 3, 7, "bad"}).str(), "f.yaml:3:7: bad");
  EXPECT_EQ((Problem{"f.yaml", 0, 0, "unreadable"}).str(), "f.yaml: unreadable");
}

TEST(EditDistance, CountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("listen", "listen"), 0u);
  EXPECT_EQ(edit_distance("lsiten", "listen"), 1u);
  EXPECT_EQ(edit_distance("max_body_byte", "max_body_bytes"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

class ShippedFile : public ::testing::TestWithParam<const char*> {};

// Loaded with an empty environment: every shipped file must work out of the box.
TEST_P(ShippedFile, LoadsWithoutProblems) {
  auto result = load_file(std::string(GW_SOURCE_DIR "/config/") + GetParam(), fake_env());
  EXPECT_THAT(problems_of(result), IsEmpty());
  ASSERT_NE(result.config, nullptr);
  EXPECT_EQ(result.config->models.size(), 2u);
  EXPECT_EQ(result.config->routing.draft, "phi-4-mini");
  EXPECT_EQ(result.config->routing.escalate, "gpt-oss-20b");
}

INSTANTIATE_TEST_SUITE_P(Config, ShippedFile,
                         ::testing::Values("gateway.yaml", "demo.yaml", "ollama.yaml",
                                           "llamacpp.yaml", "vllm.yaml"),
                         [](const auto& info) {
                           std::string name = info.param;
                           return name.substr(0, name.find('.'));
                         });

TEST(ShippedFiles, GatewayYamlIsTheSpecExample) {
  auto result = load_file(GW_SOURCE_DIR "/config/gateway.yaml", fake_env());
  ASSERT_NE(result.config, nullptr);
  const Config& c = *result.config;
  const Model* phi = c.find_model("phi-4-mini");
  ASSERT_NE(phi, nullptr);
  EXPECT_EQ(phi->url.port, 5273);
  EXPECT_EQ(phi->api_key_env, "FOUNDRY_API_KEY");
  EXPECT_DOUBLE_EQ(phi->price.output_per_mtok, 0.40);
  EXPECT_EQ(c.routing.refine_prompt, "Improve clarity but keep facts:\n{draft}");
  EXPECT_THAT(c.routing.before_draft.match, ElementsAre("(?i)\\b(contract|incident|diagnos)"));
  EXPECT_EQ(c.routing.before_draft.prompt_chars_over, 8000u);
  EXPECT_EQ(c.routing.after_draft.chars_under, 20u);
  EXPECT_EQ(c.routing.after_draft.refusal.size(), 2u);
  EXPECT_DOUBLE_EQ(c.routing.after_draft.mean_logprob_under, -1.5);
  EXPECT_EQ(c.routing.hold_tokens, 24u);
}

TEST(ShippedFiles, DemoYamlPointsAtTheSimulators) {
  auto result = load_file(GW_SOURCE_DIR "/config/demo.yaml", fake_env());
  ASSERT_NE(result.config, nullptr);
  const Config& c = *result.config;
  EXPECT_EQ(c.server.listen.port, 8080);
  EXPECT_EQ(c.server.admin_listen.port, 9090);
  EXPECT_EQ(c.find_model("phi-4-mini")->url.port, 5301);
  EXPECT_EQ(c.find_model("gpt-oss-20b")->url.port, 5302);
  EXPECT_TRUE(c.routing.after_draft.has_mean_logprob_under);
}

TEST(ShippedFiles, OllamaMapsToItsTags) {
  auto result = load_file(GW_SOURCE_DIR "/config/ollama.yaml", fake_env());
  ASSERT_NE(result.config, nullptr);
  EXPECT_EQ(result.config->find_model("phi-4-mini")->upstream_model, "phi4-mini");
  EXPECT_EQ(result.config->find_model("gpt-oss-20b")->upstream_model, "gpt-oss:20b");
  EXPECT_EQ(result.config->find_model("gpt-oss-20b")->url.port, 11434);
}

}  // namespace
}  // namespace gw::config
