#include "gateway/sim/content_text.hpp"

namespace gw::sim {

std::string content_text(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const nlohmann::json& part : content) {
      if (!part.is_object()) continue;
      auto it = part.find("text");
      if (it != part.end() && it->is_string()) out += it->get_ref<const std::string&>();
    }
  }
  return out;
}

}  // namespace gw::sim
