#pragma once
// The browser playground's files (gateway/ui/), compiled into the binary so it works offline
// with no install step.

#include <string_view>

namespace gw::ui {

struct Asset {
  std::string_view path;  // "/ui/app.js"; the page itself is "/ui/index.html"
  std::string_view content_type;
  std::string_view body;
};

// nullptr when there is no such file.
const Asset* find_asset(std::string_view path);

}  // namespace gw::ui
