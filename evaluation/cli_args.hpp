#pragma once
// Flag parsing shared by the `eval` subcommands: "--flag VALUE" and "--flag=VALUE".

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gw::eval {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CliArgs {
 public:
  // `first` = index of the first flag (after "eval CMD").
  CliArgs(int argc, char** argv, int first) : argc_(argc), argv_(argv), i_(first) {}
  bool more() const { return i_ < argc_; }
  std::string_view flag() {
    std::string_view a = argv_[i_++];
    inline_.reset();
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      inline_ = std::string(a.substr(eq + 1));
      a = a.substr(0, eq);
    }
    current_ = std::string(a);
    return current_;
  }
  std::string value() {
    if (inline_) return *inline_;
    if (i_ >= argc_) throw UsageError(current_ + ": missing value");
    return argv_[i_++];
  }
  uint64_t number(uint64_t min, uint64_t max) {
    const std::string v = value();
    uint64_t out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || out < min || out > max) {
      throw UsageError(current_ + ": expected an integer in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], got \"" + v + "\"");
    }
    return out;
  }
  double real() {
    const std::string v = value();
    double out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size()) {
      throw UsageError(current_ + ": expected a number, got \"" + v + "\"");
    }
    return out;
  }

 private:
  int argc_;
  char** argv_;
  int i_;
  std::string current_;
  std::optional<std::string> inline_;
};

inline std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    if (comma > pos) out.emplace_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace gw::eval
