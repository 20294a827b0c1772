#pragma once
// What the config tests share: a fake environment and a minimal `models` section.

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "gateway/config/load.hpp"

namespace gw::config::testing {

// Tests never read the real environment.
inline EnvLookup fake_env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// Appended to cases that do not write their own `models`; starts on a fresh line, so
// the case's own line numbers are unaffected.
inline constexpr const char* kModels = R"(models:
  small:
    upstream: "http://127.0.0.1:5301/v1"
  large:
    upstream: "http://127.0.0.1:5302/v1"
)";

}  // namespace gw::config::testing
