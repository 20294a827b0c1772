#pragma once
// Does a draft keep the `response_format` its request set? Checked as far as SPEC's
// `invalid_json` says: valid JSON; for json_schema, the top level's `type` and `required`
// properties. Nested schemas, formats and enums are not checked (no JSON-schema library
// ships with Debian; see README "Agents and tools").

#include <optional>
#include <string_view>

#include "policies/requested_output.hpp"

namespace gw::policies {

enum class StructuredProblem { not_json, wrong_type, missing_required };

std::string_view to_string(StructuredProblem problem);

// nullopt when `text` keeps `format` (always for FormatKind::text). `required` applies only
// when the value is an object, as in JSON Schema; a schema that says `type: object` makes
// any other value wrong_type first.
std::optional<StructuredProblem> structured_output_problem(const ResponseFormat& format,
                                                           std::string_view text);

}  // namespace gw::policies
