#include "gateway/config/config.hpp"

#include <algorithm>

namespace gw::config {

const Model* Config::find_model(std::string_view name) const {
  auto it =
      std::find_if(models.begin(), models.end(), [name](const Model& m) { return m.name == name; });
  return it == models.end() ? nullptr : &*it;
}

}  // namespace gw::config
