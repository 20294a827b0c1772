#include "gateway/completion/draft_tool_calls.hpp"

namespace gw::chat {
namespace {

using nlohmann::json;

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_at(const json* object, const char* key) {
  const json* v = object ? member(*object, key) : nullptr;
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// {"type":"function","function":{"name","arguments"}} or {"type":"custom","custom":{"name",
// "input"}}: the name and the argument text of either.
void read_call(const json& call, ToolCallText& out) {
  const std::string type = string_at(&call, "type");
  if (type == "custom" || (type.empty() && member(call, "custom"))) {
    out.function = false;
    const json* custom = member(call, "custom");
    out.name += string_at(custom, "name");
    out.arguments += string_at(custom, "input");
    return;
  }
  const json* fn = member(call, "function");
  out.name += string_at(fn, "name");
  out.arguments += string_at(fn, "arguments");
}

}  // namespace

std::vector<policies::ToolCall> DraftToolCalls::complete_views(bool draft_complete) const {
  std::vector<policies::ToolCall> out;
  const std::size_t n = calls.size() - (last_open && !draft_complete && !calls.empty() ? 1 : 0);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back({calls[i].name, calls[i].arguments, calls[i].function});
  }
  return out;
}

void read_message_tool_calls(const json& message, std::uint64_t choice, DraftToolCalls& out) {
  if (const json* calls = member(message, "tool_calls"); calls && calls->is_array()) {
    std::uint64_t i = 0;
    for (const auto& call : *calls) {
      if (!call.is_object()) continue;
      ToolCallText t;
      t.choice = choice;
      t.index = i++;
      read_call(call, t);
      out.calls.push_back(std::move(t));
    }
  }
  if (const json* fc = member(message, "function_call"); fc && fc->is_object()) {
    ToolCallText t;
    t.choice = choice;
    t.index = out.calls.size();
    t.name = string_at(fc, "name");
    t.arguments = string_at(fc, "arguments");
    out.calls.push_back(std::move(t));
  }
  out.last_open = false;
}

bool add_tool_call_deltas(const json& delta, std::uint64_t choice, DraftToolCalls& out) {
  bool any = false;
  const auto part_of = [&](std::uint64_t index) -> ToolCallText& {
    if (out.calls.empty() || out.calls.back().choice != choice || out.calls.back().index != index) {
      // A new call: the previous one is complete. (A delta returning to an earlier call is
      // not something OpenAI-compatible servers send; it starts a separate entry.)
      out.calls.push_back(ToolCallText{choice, index, {}, {}, true});
    }
    out.last_open = true;
    any = true;
    return out.calls.back();
  };
  if (const json* calls = member(delta, "tool_calls"); calls && calls->is_array()) {
    for (const auto& call : *calls) {
      if (!call.is_object()) continue;
      const json* index = member(call, "index");
      const std::uint64_t i =
          index && index->is_number_unsigned() ? index->get<std::uint64_t>() : 0;
      read_call(call, part_of(i));
    }
  }
  if (const json* fc = member(delta, "function_call"); fc && fc->is_object()) {
    ToolCallText& t = part_of(0);
    t.name += string_at(fc, "name");
    t.arguments += string_at(fc, "arguments");
  }
  return any;
}

bool accumulate_tool_calls(const json& chunk, DraftToolCalls& out) {
  const json* choices = member(chunk, "choices");
  if (!choices || !choices->is_array()) return false;
  bool any = false;
  for (const auto& choice : *choices) {
    const json* index = member(choice, "index");
    const std::uint64_t i = index && index->is_number_unsigned() ? index->get<std::uint64_t>() : 0;
    if (const json* delta = member(choice, "delta")) any |= add_tool_call_deltas(*delta, i, out);
    if (!string_at(&choice, "finish_reason").empty()) close_tool_calls(out, i);
  }
  return any;
}

void close_tool_calls(DraftToolCalls& calls, std::uint64_t choice) {
  if (!calls.calls.empty() && calls.calls.back().choice == choice) calls.last_open = false;
}

}  // namespace gw::chat
