#include "policies/requested_output.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gw::policies {
namespace {

using nlohmann::json;

TEST(RequestedOutput, PlainRequestAsksForText) {
  const auto r = requested_output(json::parse(R"({"model":"auto","messages":[]})"));
  EXPECT_FALSE(r.offers_tools());
  EXPECT_FALSE(r.wants_json());
  EXPECT_EQ(r.format.kind, FormatKind::text);
}

TEST(RequestedOutput, ReadsFunctionToolsAndTheirRequiredParameters) {
  const auto r = requested_output(json::parse(R"({
    "tools": [
      {"type":"function","function":{"name":"get_weather","parameters":{
        "type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string"}},
        "required":["city"]}}},
      {"type":"function","function":{"name":"now"}},
      {"type":"custom","custom":{"name":"shell"}},
      {"type":"function","function":{"description":"no name: skipped"}},
      {"type":"function"},
      42
    ]})"));
  ASSERT_EQ(r.tools.size(), 3u);
  EXPECT_EQ(r.tools[0].name, "get_weather");
  EXPECT_EQ(r.tools[0].required, std::vector<std::string>{"city"});
  EXPECT_TRUE(r.tools[0].function);
  EXPECT_EQ(r.tools[1].name, "now");
  EXPECT_TRUE(r.tools[1].required.empty());
  EXPECT_EQ(r.tools[2].name, "shell");
  EXPECT_FALSE(r.tools[2].function);
  EXPECT_NE(r.find_tool("now"), nullptr);
  EXPECT_EQ(r.find_tool("Now"), nullptr);
}

TEST(RequestedOutput, ReadsLegacyFunctions) {
  const auto r = requested_output(
      json::parse(R"({"functions":[{"name":"lookup","parameters":{"required":["id",7,"q"]}}]})"));
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].required, (std::vector<std::string>{"id", "q"}));
}

TEST(RequestedOutput, ReadsJsonObjectFormat) {
  const auto r = requested_output(json::parse(R"({"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(r.format.kind, FormatKind::json_object);
  EXPECT_TRUE(r.wants_json());
}

TEST(RequestedOutput, ReadsJsonSchemaTopLevelTypeAndRequired) {
  const auto r = requested_output(json::parse(R"({"response_format":{"type":"json_schema",
    "json_schema":{"name":"x","strict":true,"schema":{"type":"object",
      "properties":{"ok":{"type":"boolean"}},"required":["ok"]}}}})"));
  EXPECT_EQ(r.format.kind, FormatKind::json_schema);
  EXPECT_EQ(r.format.required, std::vector<std::string>{"ok"});
  EXPECT_EQ(r.format.types, std::vector<JsonType>{JsonType::object});
}

TEST(RequestedOutput, SchemaTypeListAndUnknownNames) {
  const auto r = requested_output(json::parse(R"({"response_format":{"type":"json_schema",
    "json_schema":{"schema":{"type":["object","null","date"]}}}})"));
  EXPECT_EQ(r.format.types, (std::vector<JsonType>{JsonType::object, JsonType::null}));
}

TEST(RequestedOutput, TextFormatAndOddShapesAskForText) {
  for (const char* body :
       {R"({"response_format":{"type":"text"}})", R"({"response_format":"json_object"})",
        R"({"response_format":{"type":3}})", R"({"tools":{"type":"function"}})", R"([1,2])"}) {
    const auto r = requested_output(json::parse(body));
    EXPECT_FALSE(r.wants_json()) << body;
    EXPECT_FALSE(r.offers_tools()) << body;
  }
}

}  // namespace
}  // namespace gw::policies
