#pragma once
// What a chat request asks its answer to be: the tools it offers and the response_format it
// sets. Read once per routed request; the after-draft rules judge a draft against it.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policies/json_shape.hpp"

namespace gw::policies {

struct OfferedTool {
  std::string name;
  // `function` tools: parameters.required (top level only). Other tool types (e.g. `custom`)
  // take free-form input: only their name is checked.
  std::vector<std::string> required;
  bool function = true;
};

enum class FormatKind { text, json_object, json_schema };

struct ResponseFormat {
  FormatKind kind = FormatKind::text;
  // json_schema only, from json_schema.schema: the top level's `required` names and `type`
  // (a string or a list of them; empty = any type). Nothing deeper is checked.
  std::vector<std::string> required;
  std::vector<JsonType> types;
};

struct RequestedOutput {
  std::vector<OfferedTool> tools;  // `tools`, then the legacy `functions`
  ResponseFormat format;

  bool offers_tools() const { return !tools.empty(); }
  bool wants_json() const { return format.kind != FormatKind::text; }
  const OfferedTool* find_tool(std::string_view name) const;
};

// From a Chat Completions body. Shapes it does not understand are skipped, never an error
// (a tool without a name, a `type` that is no JSON Schema type, a non-string `required`
// entry): the upstream validates the request, this only collects what the rules check.
RequestedOutput requested_output(const nlohmann::json& request);

}  // namespace gw::policies
