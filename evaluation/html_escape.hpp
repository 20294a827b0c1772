#pragma once
// Text placed in the eval reports' HTML pages (element text and double-quoted attributes).

#include <string>
#include <string_view>

namespace gw::eval {

// `s` with <, >, & and " replaced by their character references.
std::string html_escape(std::string_view s);

}  // namespace gw::eval
