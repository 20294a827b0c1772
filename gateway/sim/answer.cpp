#include "gateway/sim/answer.hpp"

#include <array>

namespace gw::sim {
namespace {

// Briefing-style prose so routed answers look plausible in demos and dashboards.
constexpr std::array<std::string_view, 32> kCorpus = {
    "Revenue for the quarter came in slightly ahead of the plan agreed in January.",
    "The operations team reduced average ticket resolution time by eleven percent.",
    "Customer churn remained stable, with most losses concentrated in the smallest accounts.",
    "We recommend extending the pilot for another six weeks before a wider rollout.",
    "Supplier lead times improved after the second distribution center came online.",
    "The main risk is a delay in hiring senior engineers for the platform group.",
    "Marketing spend shifted toward channels with a measurable cost per acquisition.",
    "Gross margin declined by half a point because of higher freight costs.",
    "The board asked for a clearer view of cash runway under a conservative scenario.",
    "Two enterprise renewals are expected to close before the end of the month.",
    "Support volume peaked after the last release and has since returned to normal.",
    "The compliance review found no material issues but flagged three process gaps.",
    "A shared dashboard now tracks latency, cost and quality for every product line.",
    "Inventory levels are healthy, although two components remain on allocation.",
    "The pricing change was well received by new customers and neutral for existing ones.",
    "Next quarter the focus moves from growth in seats to growth in usage per seat.",
    "Engineering closed most of the reliability backlog identified in the spring audit.",
    "Regional sales teams will be reorganised around industries rather than geography.",
    "The data migration finished on schedule with no customer-visible downtime.",
    "Travel costs stayed within budget thanks to a stricter approval workflow.",
    "The partner program contributed a growing share of qualified pipeline this period.",
    "Headcount is flat, and open roles are prioritised by their impact on revenue.",
    "Security training completion reached ninety-six percent across all departments.",
    "Forecast accuracy improved once weekly pipeline reviews became mandatory.",
    "The new onboarding flow shortened time to first value for trial accounts.",
    "Energy costs at the main facility fell after the lighting retrofit was completed.",
    "Legal expects the contract negotiations with the distributor to conclude soon.",
    "A small team will evaluate whether local models can handle routine requests.",
    "Routine questions are answered quickly, while complex ones are escalated for review.",
    "The executive summary should highlight decisions needed rather than activity.",
    "Capital expenditure will be phased to match confirmed demand in each region.",
    "Overall, the business is on track, with a few risks that deserve close attention.",
};

// splitmix64: tiny, well-mixed, and identical on every platform (unlike std distributions).
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

template <typename F>
void for_each_word(std::string_view text, F&& on_word) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start && !on_word(text.substr(start, i - start))) return;
  }
}

}  // namespace

std::string_view Tokens::operator[](size_t i) const {
  const size_t begin = i == 0 ? 0 : ends_[i - 1];
  return std::string_view(text_).substr(begin, ends_[i] - begin);
}

void Tokens::truncate(size_t n) {
  if (n >= ends_.size()) return;
  ends_.resize(n);
  text_.resize(n == 0 ? 0 : ends_.back());
  // The new last token loses its trailing space: the answer never ends in whitespace.
  if (!text_.empty() && text_.back() == ' ') {
    text_.pop_back();
    ends_.back() -= 1;
  }
}

void Tokens::append_word(std::string_view word) {
  if (!ends_.empty()) {  // the previous token gains the space that follows it
    text_.push_back(' ');
    ends_.back() += 1;
  }
  text_.append(word);
  ends_.push_back(static_cast<uint32_t>(text_.size()));
}

Tokens tokenize(std::string_view text) {
  Tokens tokens;
  for_each_word(text, [&](std::string_view w) {
    tokens.append_word(w);
    return true;
  });
  return tokens;
}

Tokens generate_tokens(uint64_t seed, uint32_t count) {
  Tokens tokens;
  uint64_t state = seed;
  while (tokens.size() < count) {
    const std::string_view sentence = kCorpus[next_random(state) % kCorpus.size()];
    for_each_word(sentence, [&](std::string_view w) {
      tokens.append_word(w);
      return tokens.size() < count;
    });
  }
  return tokens;
}

uint64_t fnv1a(std::string_view data, uint64_t hash) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace gw::sim
