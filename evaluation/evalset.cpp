#include "evaluation/evalset.hpp"

#include <fstream>
#include <unordered_set>

#include "evaluation/outcome.hpp"

namespace gw::eval {

std::string check_item(const json& line) {
  if (!line.is_object()) return "not a JSON object";
  if (string_at(line, "schema") != kEvalsetSchema) return "schema is not \"hg.evalset/1\"";
  if (string_at(line, "id").empty()) return "missing string \"id\"";
  auto messages = line.find("messages");
  if (messages == line.end() || !messages->is_array() || messages->empty()) {
    return "\"messages\" must be a non-empty array";
  }
  for (const json& m : *messages) {
    if (!m.is_object() || string_at(m, "role").empty() || !m.contains("content")) {
      return "each message needs \"role\" and \"content\"";
    }
  }
  if (auto ref = line.find("reference"); ref != line.end() && !ref->is_object()) {
    return "\"reference\" must be an object";
  }
  if (auto mt = line.find("max_tokens"); mt != line.end()) {
    if (!mt->is_number_unsigned() || mt->get<uint64_t>() == 0 || mt->get<uint64_t>() > 1000000) {
      return "\"max_tokens\" must be a positive integer";
    }
  }
  return {};
}

EvalItem item_from_json(const json& line) {
  EvalItem item;
  item.id = string_at(line, "id");
  item.domain = string_at(line, "domain");
  item.messages = line.at("messages");
  item.reference = line.value("reference", json::object());
  if (auto mt = line.find("max_tokens"); mt != line.end()) item.max_tokens = mt->get<uint32_t>();
  if (auto tags = line.find("tags"); tags != line.end() && tags->is_array()) item.tags = *tags;
  return item;
}

Evalset read_evalset(const std::string& path) {
  Evalset out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.problems.push_back(path + ": cannot open");
    return out;
  }
  std::unordered_set<std::string> ids;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string problem = doc.is_discarded() ? "not JSON" : check_item(doc);
    if (!problem.empty()) {
      out.problems.push_back(path + ":" + std::to_string(number) + ": " + problem);
      continue;
    }
    EvalItem item = item_from_json(doc);
    if (!ids.insert(item.id).second) {
      out.problems.push_back(path + ":" + std::to_string(number) + ": duplicate id \"" + item.id +
                             "\"");
      continue;
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

std::string prompt_text(const json& messages) {
  std::string out;
  for (const json& m : messages) {
    const std::string role = string_at(m, "role");
    if (role != "system" && role != "user") continue;
    const json& content = m["content"];
    std::string text;
    if (content.is_string()) {
      text = content.get<std::string>();
    } else if (content.is_array()) {
      for (const json& part : content) text += string_at(part, "text");
    }
    if (!out.empty()) out += '\n';
    out += text;
  }
  return out;
}

}  // namespace gw::eval
