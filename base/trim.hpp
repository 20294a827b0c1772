#pragma once

#include <string_view>

namespace gw {

// ASCII white space (what isspace() accepts in the C locale) off both ends; a view into `s`.
constexpr std::string_view trim_space(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace gw
