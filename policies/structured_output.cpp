#include "policies/structured_output.hpp"

#include <algorithm>

#include "policies/json_shape.hpp"

namespace gw::policies {

std::string_view to_string(StructuredProblem problem) {
  switch (problem) {
    case StructuredProblem::not_json:
      return "not_json";
    case StructuredProblem::wrong_type:
      return "wrong_type";
    case StructuredProblem::missing_required:
      return "missing_required";
  }
  return "not_json";
}

std::optional<StructuredProblem> structured_output_problem(const ResponseFormat& format,
                                                           std::string_view text) {
  if (format.kind == FormatKind::text) return std::nullopt;
  const JsonShape shape = json_shape(text);
  if (!shape.valid) return StructuredProblem::not_json;
  if (format.kind != FormatKind::json_schema) return std::nullopt;
  if (!format.types.empty() &&
      std::none_of(format.types.begin(), format.types.end(),
                   [&](JsonType t) { return type_matches(t, shape.top); })) {
    return StructuredProblem::wrong_type;
  }
  if (shape.top != JsonType::object) return std::nullopt;
  for (const auto& name : format.required) {
    if (std::find(shape.keys.begin(), shape.keys.end(), name) == shape.keys.end()) {
      return StructuredProblem::missing_required;
    }
  }
  return std::nullopt;
}

}  // namespace gw::policies
