// Upstream stream bytes -> the SSE parser. Two properties besides "no crash":
//  - how the bytes are split into reads does not change the events (CRLF split across two
//    reads, a field name cut in half...): the input is parsed whole and in pieces chosen by
//    the fuzzer, and the two event lists must be equal;
//  - an event that never ends stops at the byte limit (overflowed()), it does not grow.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/http/sse_parser.hpp"

namespace {

struct Seen {
  std::string raw, data, event;
  bool has_data;
  bool operator==(const Seen&) const = default;
};

void drain(gw::http::SseParser& p, std::vector<Seen>& out) {
  while (auto ev = p.next())
    out.push_back({std::string(ev->raw), ev->data, ev->event, ev->has_data});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gw::fuzz::FuzzInput in(data, size);
  // The first bytes choose the read sizes (1..64 bytes, cycled); the rest is the stream.
  std::uint8_t cuts[4] = {in.byte(), in.byte(), in.byte(), in.byte()};
  std::string_view stream = in.rest();

  constexpr std::size_t kLargeLimit = 1 << 20;  // above any input: no overflow in either run
  gw::http::SseParser whole(kLargeLimit);
  std::vector<Seen> whole_events;
  whole.feed(stream);
  drain(whole, whole_events);

  gw::http::SseParser pieces(kLargeLimit);
  std::vector<Seen> piece_events;
  std::string_view left = stream;
  for (std::size_t i = 0; !left.empty(); ++i) {
    std::size_t n = std::min<std::size_t>(left.size(), cuts[i % 4] % 64 + 1);
    pieces.feed(left.substr(0, n));
    left.remove_prefix(n);
    drain(pieces, piece_events);
  }
  if (whole_events != piece_events || whole.pending() != pieces.pending()) {
    std::fprintf(stderr, "sse_parser: %zu events whole, %zu in pieces (pending %zu vs %zu)\n",
                 whole_events.size(), piece_events.size(), whole.pending().size(),
                 pieces.pending().size());
    std::abort();
  }

  // A small limit: a long unfinished event must end in overflowed(), never in growth.
  constexpr std::size_t kSmallLimit = 64;
  gw::http::SseParser bounded(kSmallLimit);
  std::vector<Seen> bounded_events;
  left = stream;
  for (std::size_t i = 0; !left.empty() && !bounded.overflowed(); ++i) {
    std::size_t n = std::min<std::size_t>(left.size(), cuts[i % 4] % 16 + 1);
    bounded.feed(left.substr(0, n));
    left.remove_prefix(n);
    drain(bounded, bounded_events);
    // Pending bytes stay within the limit plus at most one read (it is checked after a feed).
    if (!bounded.overflowed() && bounded.pending().size() > kSmallLimit + 16) {
      std::fprintf(stderr, "sse_parser: %zu pending bytes with a %zu byte limit\n",
                   bounded.pending().size(), kSmallLimit);
      std::abort();
    }
  }
  return 0;
}
