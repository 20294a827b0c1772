#include "policies/requested_output.hpp"

#include <array>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace gw::policies {
namespace {

using nlohmann::json;

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const std::string* string_member(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value && value->is_string() ? &value->get_ref<const std::string&>() : nullptr;
}

std::vector<std::string> required_names(const json* schema) {
  std::vector<std::string> out;
  const json* required = schema ? member(*schema, "required") : nullptr;
  if (!required || !required->is_array()) return out;
  for (const auto& name : *required) {
    if (name.is_string()) out.push_back(name.get<std::string>());
  }
  return out;
}

std::optional<JsonType> parse_type(const json& name) {
  static constexpr std::array kTypes{JsonType::null,   JsonType::boolean, JsonType::integer,
                                     JsonType::number, JsonType::string,  JsonType::array,
                                     JsonType::object};
  if (!name.is_string()) return std::nullopt;
  for (JsonType t : kTypes) {
    if (name.get_ref<const std::string&>() == to_string(t)) return t;
  }
  return std::nullopt;
}

std::vector<JsonType> schema_types(const json* schema) {
  std::vector<JsonType> out;
  const json* type = schema ? member(*schema, "type") : nullptr;
  if (!type) return out;
  if (type->is_array()) {
    for (const auto& t : *type) {
      if (auto parsed = parse_type(t)) out.push_back(*parsed);
    }
  } else if (auto parsed = parse_type(*type)) {
    out.push_back(*parsed);
  }
  return out;
}

void read_tools(const json& request, std::vector<OfferedTool>& out) {
  const json* tools = member(request, "tools");
  if (tools && tools->is_array()) {
    for (const auto& tool : *tools) {
      const std::string* type = string_member(tool, "type");
      if (!type) continue;
      const json* body = member(tool, *type);  // {"type":"function","function":{...}}
      const std::string* name = body ? string_member(*body, "name") : nullptr;
      if (!name) continue;
      const bool function = *type == "function";
      out.push_back(
          {*name,
           function ? required_names(member(*body, "parameters")) : std::vector<std::string>{},
           function});
    }
  }
  const json* functions = member(request, "functions");  // deprecated, still sent by old clients
  if (functions && functions->is_array()) {
    for (const auto& fn : *functions) {
      const std::string* name = string_member(fn, "name");
      if (name) out.push_back({*name, required_names(member(fn, "parameters")), true});
    }
  }
}

ResponseFormat read_format(const json& request) {
  ResponseFormat format;
  const json* rf = member(request, "response_format");
  const std::string* type = rf ? string_member(*rf, "type") : nullptr;
  if (!type) return format;
  if (*type == "json_object") {
    format.kind = FormatKind::json_object;
  } else if (*type == "json_schema") {
    format.kind = FormatKind::json_schema;
    const json* spec = member(*rf, "json_schema");
    const json* schema = spec ? member(*spec, "schema") : nullptr;
    format.required = required_names(schema);
    format.types = schema_types(schema);
  }
  return format;
}

}  // namespace

const OfferedTool* RequestedOutput::find_tool(std::string_view name) const {
  for (const auto& tool : tools) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

RequestedOutput requested_output(const nlohmann::json& request) {
  RequestedOutput out;
  read_tools(request, out.tools);
  out.format = read_format(request);
  return out;
}

}  // namespace gw::policies
