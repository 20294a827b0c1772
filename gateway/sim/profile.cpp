#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gateway/sim/simulator.hpp"

namespace gw::sim {
namespace {

[[noreturn]] void reject(std::string_view spec, const std::string& why) {
  throw std::invalid_argument("invalid model spec \"" + std::string(spec) + "\": " + why);
}

template <typename T>
T parse_number(std::string_view spec, std::string_view key, std::string_view value) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) {
    reject(spec, std::string(key) + " must be a number, got \"" + std::string(value) + "\"");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(out)) reject(spec, std::string(key) + " must be finite");
  }
  return out;
}

}  // namespace

ModelProfile parse_profile(std::string_view spec) {
  ModelProfile profile;
  const auto colon = spec.find(':');
  profile.name = std::string(spec.substr(0, colon));
  if (profile.name.empty()) reject(spec, "missing model name");
  if (profile.name.find_first_of(" \t,=@[]") != std::string::npos) {
    reject(spec, "model name must not contain spaces or any of ,=@[]");
  }
  if (colon == std::string_view::npos) return profile;

  std::string_view rest = spec.substr(colon + 1);
  while (!rest.empty()) {
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) {
      reject(spec,
             "expected key=value, got \"" + std::string(rest.substr(0, rest.find(','))) + "\"");
    }
    const std::string_view key = rest.substr(0, eq);
    rest.remove_prefix(eq + 1);
    if (key == "text") {  // free text may contain commas, so it swallows the rest
      profile.text = std::string(rest);
      if (profile.text.empty()) reject(spec, "text must not be empty");
      break;
    }
    const auto comma = rest.find(',');
    const std::string_view value = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (key == "ttft_ms") {
      profile.ttft_ms = parse_number<uint32_t>(spec, key, value);
    } else if (key == "tokens_per_s") {
      profile.tokens_per_s = parse_number<double>(spec, key, value);
      if (profile.tokens_per_s < 0) reject(spec, "tokens_per_s must be >= 0");
    } else if (key == "answer_tokens") {
      profile.answer_tokens = parse_number<uint32_t>(spec, key, value);
    } else if (key == "logprob") {
      profile.logprob = parse_number<double>(spec, key, value);
      if (profile.logprob > 0) reject(spec, "logprob must be <= 0");
    } else if (key == "accuracy") {
      profile.accuracy = parse_number<double>(spec, key, value);
      if (profile.accuracy < 0 || profile.accuracy > 1) reject(spec, "accuracy must be in [0, 1]");
    } else {
      reject(spec,
             "unknown key \"" + std::string(key) +
                 "\" (expected ttft_ms, tokens_per_s, answer_tokens, logprob, accuracy, text)");
    }
  }
  return profile;
}

}  // namespace gw::sim
