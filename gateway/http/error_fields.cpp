#include "gateway/http/error_fields.hpp"

#include <nlohmann/json.hpp>

namespace gw::http {

namespace {

using json = nlohmann::json;

// A SAX handler: nlohmann's SAX parser is iterative, and this handler keeps only a depth
// counter and the member being read, so memory and stack stay flat whatever the body nests.
class ErrorFieldsReader : public nlohmann::json_sax<json> {
 public:
  explicit ErrorFieldsReader(int max_depth) : max_depth_(max_depth) {}

  ErrorFields fields;
  bool has_error = false;

  bool null() override { return scalar(std::nullopt); }
  bool boolean(bool v) override { return scalar(std::string(v ? "true" : "false")); }
  bool number_integer(number_integer_t v) override { return scalar(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& s) override { return scalar(s); }
  bool string(string_t& v) override { return scalar(std::move(v)); }
  bool binary(binary_t&) override { return scalar(std::nullopt); }

  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (depth_ == 1) {
      in_error_ = k == "error";
    } else if (depth_ == 2 && in_error_ && error_is_object_) {
      target_ = k == "message" ? &fields.message
                : k == "type"  ? &fields.type
                : k == "code"  ? &fields.code
                : k == "param" ? &fields.param
                               : nullptr;
      return true;
    }
    target_ = nullptr;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool scalar(std::optional<std::string> v) {
    if (depth_ == 1 && in_error_) {  // "error": a scalar
      has_error = v && !v->empty();
      if (has_error) fields.text = std::move(v);
      in_error_ = false;
    } else if (depth_ == 2 && target_) {
      *target_ = std::move(v);
    }
    target_ = nullptr;
    return true;
  }

  bool open(bool object) {
    if (++depth_ > max_depth_) return false;  // aborts the parse
    if (depth_ == 2 && in_error_) {
      error_is_object_ = object;
      fields.error_object = object;
      has_error = object;
    }
    target_ = nullptr;  // a nested value is not a field
    return true;
  }

  bool close() {
    if (depth_ == 2) in_error_ = false;
    --depth_;
    return true;
  }

  int max_depth_;
  int depth_ = 0;
  bool in_error_ = false;  // inside the top-level "error" member
  bool error_is_object_ = false;
  std::optional<std::string>* target_ = nullptr;
};

}  // namespace

std::optional<ErrorFields> read_error_fields(std::string_view body, int max_depth) {
  ErrorFieldsReader reader(max_depth);
  bool ok = json::sax_parse(body, &reader, json::input_format_t::json, true, false);
  if (!ok || !reader.has_error) return std::nullopt;
  return std::move(reader.fields);
}

}  // namespace gw::http
