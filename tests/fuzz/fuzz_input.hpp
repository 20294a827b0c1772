#pragma once
// Splitting one fuzz input into the several values a target needs. Compiler-neutral (no
// FuzzedDataProvider) so the same targets also build as GCC replay tests.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gw::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }
  std::string_view rest() const { return rest_; }

  // One byte, 0 when the input is used up.
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  // Eight bytes as they are (any double, NaN and infinities included).
  double raw_double() {
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = bits << 8 | byte();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }

  // Text up to the next `sep` byte (consumed) or the end of the input.
  std::string_view field(char sep = '\n') {
    auto pos = rest_.find(sep);
    std::string_view out = rest_.substr(0, pos);
    rest_.remove_prefix(pos == std::string_view::npos ? rest_.size() : pos + 1);
    return out;
  }

 private:
  std::string_view rest_;
};

}  // namespace gw::fuzz
