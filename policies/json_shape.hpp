#pragma once
// The outline of a JSON text that the structured-output and tool-call rules check: is it
// JSON at all, what type is its top level, which keys does a top-level object have. Read
// with a SAX pass, never built into a tree: drafts are untrusted and may be large.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gw::policies {

// JSON Schema's type names; `integer` is a number without a fraction or exponent.
enum class JsonType { null, boolean, integer, number, string, array, object };

// "null", "boolean", "integer", "number", "string", "array", "object".
std::string_view to_string(JsonType type);

// Deeper nesting is judged not valid: the gateway refuses such JSON elsewhere too.
inline constexpr std::size_t kMaxJudgedJsonDepth = 64;

struct JsonShape {
  bool valid = false;             // exactly one JSON value, whitespace around it allowed
  JsonType top = JsonType::null;  // meaningful only when valid
  std::vector<std::string> keys;  // the top-level object's keys, in text order
};

JsonShape json_shape(std::string_view text);

// Whether a value of type `actual` satisfies JSON Schema's `type: expected`
// (an integer is also a number).
bool type_matches(JsonType expected, JsonType actual);

}  // namespace gw::policies
