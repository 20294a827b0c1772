#include "gateway/sim/tool_calls.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway/http/json_text.hpp"
#include "gateway/sim/directives.hpp"

namespace gw::sim {
namespace {

using nlohmann::json;
using ordered = nlohmann::ordered_json;

// Bounded: a schema with more parameters than this gets only the first ones filled in.
constexpr size_t kMaxArguments = 64;
constexpr uint32_t kMaxArgumentPieces = 1000;

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A plausible value of a JSON-schema property: its first enum value, else one of its type.
ordered sample_value(const json* property) {
  if (const json* e = property ? member(*property, "enum") : nullptr;
      e && e->is_array() && !e->empty()) {
    return ordered((*e)[0]);
  }
  const json* type = property ? member(*property, "type") : nullptr;
  std::string t = type && type->is_string() ? type->get<std::string>() : "string";
  if (type && type->is_array() && !type->empty() && (*type)[0].is_string()) {
    t = (*type)[0].get<std::string>();
  }
  if (t == "integer" || t == "number") return 1;
  if (t == "boolean") return true;
  if (t == "array") return ordered::array();
  if (t == "object") return ordered::object();
  if (t == "null") return nullptr;
  return "sample";
}

// Every required property of `schema` with a sample value; the first one's name in `first`.
ordered sample_object(const json* schema, std::string* first) {
  ordered out = ordered::object();
  const json* required = schema ? member(*schema, "required") : nullptr;
  const json* properties = schema ? member(*schema, "properties") : nullptr;
  if (!required || !required->is_array()) return out;
  for (const auto& name : *required) {
    if (!name.is_string() || out.size() >= kMaxArguments) continue;
    const auto& key = name.get_ref<const std::string&>();
    if (first && first->empty()) *first = key;
    out[key] = sample_value(properties ? member(*properties, key.c_str()) : nullptr);
  }
  return out;
}

std::string dump(const ordered& value) {
  return value.dump(-1, ' ', false, ordered::error_handler_t::replace);
}

// Spaced like a person would write it, so tokenize() keeps it valid when rejoining words.
std::string dump_spaced(const ordered& object) {
  std::string out = "{";
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (it != object.begin()) out += ", ";
    out += dump(ordered(it.key()));
    out += ": ";
    out += dump(it.value());
  }
  return out + "}";
}

}  // namespace

AgentRequest read_agent_request(const json& body) {
  AgentRequest out;
  if (const json* tools = member(body, "tools"); tools && tools->is_array()) {
    for (const auto& tool : *tools) {
      const json* fn = member(tool, "function");
      const json* name = fn ? member(*fn, "name") : nullptr;
      if (!name || !name->is_string()) continue;
      AgentRequest::Tool t;
      t.name = name->get<std::string>();
      std::string first;
      ordered args = sample_object(member(*fn, "parameters"), &first);
      t.arguments = dump(args);
      args.erase(first);
      t.missing_argument = dump(args);
      out.tools.push_back(std::move(t));
    }
  }
  if (const json* choice = member(body, "tool_choice"); choice && choice->is_string()) {
    out.tool_choice_none = *choice == "none";
  }
  if (const json* messages = member(body, "messages");
      messages && messages->is_array() && !messages->empty()) {
    const json* role = member(messages->back(), "role");
    out.last_is_tool_result = role && role->is_string() && *role == "tool";
  }
  const json* rf = member(body, "response_format");
  const json* type = rf ? member(*rf, "type") : nullptr;
  if (type && type->is_string() && (*type == "json_object" || *type == "json_schema")) {
    out.format = type->get<std::string>();
    const json* spec = member(*rf, "json_schema");
    const json* schema = spec ? member(*spec, "schema") : nullptr;
    std::string first;
    ordered answer = sample_object(schema, &first);
    if (out.format == "json_object" || answer.empty()) answer["answer"] = "sample";
    out.json_answer = dump_spaced(answer);
    answer.erase(first);
    out.json_missing = dump_spaced(answer);
  }
  return out;
}

AgentAnswer plan_agent_answer(const AgentRequest& request, const Script& script,
                              uint64_t call_seq) {
  AgentAnswer a;
  if (script.tool_pieces)
    a.argument_pieces = std::clamp<uint32_t>(*script.tool_pieces, 1, kMaxArgumentPieces);
  const bool call = !request.tools.empty() && !request.last_is_tool_result &&
                    !request.tool_choice_none && !script.no_tool;
  if (call || (script.tool_name && !script.no_tool && !request.last_is_tool_result)) {
    const uint32_t count = std::max<uint32_t>(1, script.tool_count.value_or(1));
    for (uint32_t i = 0; i < count && i < kMaxArguments; ++i) {
      const AgentRequest::Tool* tool =
          request.tools.empty() ? nullptr : &request.tools[i % request.tools.size()];
      SimToolCall c;
      c.id = "call_sim_" + std::to_string(call_seq) + "_" + std::to_string(i);
      c.name = script.tool_name ? *script.tool_name : tool ? tool->name : "unknown";
      c.arguments = tool ? tool->arguments : "{}";
      if (script.tool_args_not_object) c.arguments = "[\"not\", \"an object\"]";
      if (script.tool_missing_arg && tool) c.arguments = tool->missing_argument;
      a.calls.push_back(std::move(c));
    }
    a.text = script.preamble.value_or("");
    return a;
  }
  if (!request.format.empty()) {
    if (script.bad_json) {
      // Cut mid-value: what a model stopped early, or one ignoring the format, produces.
      a.text = request.json_answer.substr(0, request.json_answer.size() / 2);
    } else {
      a.text = script.json_missing ? request.json_missing : request.json_answer;
    }
  }
  return a;
}

void append_tool_calls(std::string& out, const std::vector<SimToolCall>& calls) {
  out += "\"tool_calls\":[";
  for (size_t i = 0; i < calls.size(); ++i) {
    if (i) out += ',';
    out += "{\"id\":";
    http::append_json_string(out, calls[i].id);
    out += ",\"type\":\"function\",\"function\":{\"name\":";
    http::append_json_string(out, calls[i].name);
    out += ",\"arguments\":";
    http::append_json_string(out, calls[i].arguments);
    out += "}}";
  }
  out += ']';
}

std::vector<std::string> tool_call_deltas(const SimToolCall& call, size_t index, uint32_t pieces) {
  std::vector<std::string> out;
  const std::string idx = std::to_string(index);
  std::string first = "{\"tool_calls\":[{\"index\":" + idx + ",\"id\":";
  http::append_json_string(first, call.id);
  first += ",\"type\":\"function\",\"function\":{\"name\":";
  http::append_json_string(first, call.name);
  first += ",\"arguments\":\"\"}}]}";
  out.push_back(std::move(first));
  const size_t n = std::max<size_t>(1, pieces);
  const size_t size = call.arguments.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t from = size * k / n;
    const size_t to = size * (k + 1) / n;
    if (to == from && k + 1 < n) continue;
    std::string delta = "{\"tool_calls\":[{\"index\":" + idx + ",\"function\":{\"arguments\":";
    http::append_json_string(delta, std::string_view(call.arguments).substr(from, to - from));
    delta += "}}]}";
    out.push_back(std::move(delta));
  }
  return out;
}

}  // namespace gw::sim
