#pragma once
// Answer text as tokens: one token = one word plus its following space. Pure and deterministic so
// a direct and a proxied request get byte-identical answers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gw::sim {

// One string plus token end offsets: two allocations per answer, not one per token.
class Tokens {
 public:
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  std::string_view operator[](size_t i) const;
  // The concatenation of the first size() tokens.
  std::string_view text() const {
    return std::string_view(text_).substr(0, ends_.empty() ? 0 : ends_.back());
  }
  void truncate(size_t n);
  void append_word(std::string_view word);

 private:
  std::string text_;
  std::vector<uint32_t> ends_;
};

// Splits on whitespace runs; the answer text is the words joined by single spaces.
Tokens tokenize(std::string_view text);
// `count` words of business prose drawn from the built-in corpus.
Tokens generate_tokens(uint64_t seed, uint32_t count);

uint64_t fnv1a(std::string_view data, uint64_t hash = 0xcbf29ce484222325ULL);
// OpenAI-style rough estimate: a token is about four characters.
inline uint32_t estimate_prompt_tokens(size_t chars) {
  return static_cast<uint32_t>((chars + 3) / 4);
}

}  // namespace gw::sim
