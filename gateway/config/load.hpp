#pragma once
// Loading the YAML configuration (SPEC "Configuration (YAML)") into a Config.
// Validation runs in two layers: declarative checks on each field as it is read,
// then cross-field checks. Every problem is reported, each at its YAML position.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace gw::config {

struct Problem {
  std::string file;
  int line = 0;    // 1-based; 0 = the problem concerns the whole file
  int column = 0;  // 1-based
  std::string message;

  // "FILE:LINE:COL: message", or "FILE: message" when there is no position.
  std::string str() const;
};

struct LoadResult {
  Snapshot config;                // null when there is any problem
  std::vector<Problem> problems;  // in file order
};

// Reads an environment variable; nothing when it is unset. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// An empty `env` reads the process environment (getenv).
LoadResult load_file(const std::string& path, const EnvLookup& env = {});
LoadResult load_string(std::string_view yaml, const std::string& source_name,
                       const EnvLookup& env = {});

// Edit distance with adjacent transpositions (optimal string alignment); used for
// "did you mean" hints. Exposed for tests.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace gw::config
