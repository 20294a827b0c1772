#include "policies/json_shape.hpp"

#include <nlohmann/json.hpp>

namespace gw::policies {
namespace {

using nlohmann::json;

// Records the top-level type and keys; aborts the parse past the depth limit.
class ShapeReader : public nlohmann::json_sax<json> {
 public:
  explicit ShapeReader(JsonShape& out) : out_(out) {}

  bool null() override { return value(JsonType::null); }
  bool boolean(bool) override { return value(JsonType::boolean); }
  bool number_integer(number_integer_t) override { return value(JsonType::integer); }
  bool number_unsigned(number_unsigned_t) override { return value(JsonType::integer); }
  bool number_float(number_float_t, const string_t&) override { return value(JsonType::number); }
  bool string(string_t&) override { return value(JsonType::string); }
  bool binary(binary_t&) override { return false; }  // not in JSON text
  bool start_object(std::size_t) override { return open(JsonType::object); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(JsonType::array); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    if (depth_ == 1 && out_.top == JsonType::object) out_.keys.push_back(std::move(name));
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool value(JsonType type) {
    if (depth_ == 0) out_.top = type;
    return true;
  }
  bool open(JsonType type) {
    value(type);
    return ++depth_ <= kMaxJudgedJsonDepth;
  }
  bool close() {
    --depth_;
    return true;
  }

  JsonShape& out_;
  std::size_t depth_ = 0;
};

}  // namespace

std::string_view to_string(JsonType type) {
  switch (type) {
    case JsonType::null:
      return "null";
    case JsonType::boolean:
      return "boolean";
    case JsonType::integer:
      return "integer";
    case JsonType::number:
      return "number";
    case JsonType::string:
      return "string";
    case JsonType::array:
      return "array";
    case JsonType::object:
      return "object";
  }
  return "null";
}

JsonShape json_shape(std::string_view text) {
  JsonShape shape;
  ShapeReader reader(shape);
  // strict: one value and nothing after it but whitespace.
  const bool ok = json::sax_parse(text.begin(), text.end(), &reader, json::input_format_t::json,
                                  /*strict=*/true);
  shape.valid = ok;
  if (!ok) shape.keys.clear();
  return shape;
}

bool type_matches(JsonType expected, JsonType actual) {
  return expected == actual || (expected == JsonType::number && actual == JsonType::integer);
}

}  // namespace gw::policies
