// YAML text -> the config loader: a Config, or problems each at FILE:LINE:COL, never both,
// never neither, never a crash or an escaping exception (a bad file given to SIGHUP or
// --check-config must leave the gateway running on its old config).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  // Every *_env key finds a value, so api keys and the auth list are read too.
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name[0] == 'U') return std::nullopt;  // UNSET_...: the missing-env path
    return "sk-fuzz-" + name;
  };
  auto result = gw::config::load_string(yaml, "fuzz.yaml", env);
  if (!result.config == result.problems.empty()) {
    std::fprintf(stderr, "config_load: %s config with %zu problems\n", result.config ? "a" : "no",
                 result.problems.size());
    std::abort();
  }
  for (const auto& p : result.problems) {
    if (p.line < 0 || p.column < 0 || p.message.empty() || p.str().rfind("fuzz.yaml", 0) != 0) {
      std::fprintf(stderr, "config_load: malformed problem \"%s\"\n", p.str().c_str());
      std::abort();
    }
  }
  return 0;
}
