// bench/loadgen: a small single-threaded HTTP/1.1 load tool for the gateway benchmarks.
//
// wrk measures throughput well but has no fixed-rate mode (wrk2 is not in Debian), does not
// time SSE events and cannot hold thousands of streams open. This tool does those three.
//
//   loadgen rate   --port P --body-file F --rate R --duration S [--warmup S]
//       open loop: requests are scheduled at a fixed rate R/s whatever the responses do; each
//       latency is measured from its *scheduled* send time (no coordinated omission). Idle
//       keep-alive connections are reused, new ones opened when all are busy.
//   loadgen closed --port P --body-file F --connections C --requests N
//       closed loop: C connections each send the next request when the previous answered,
//       N requests in all (used for CPU per 1,000 requests).
//   loadgen stream --port P --body-file F --connections C --duration S
//       closed loop of streamed (SSE) requests: time to first token event (TTFT) and the
//       gap between successive token events (inter-token delay).
//   loadgen hold   --port P --body-file F --streams N --hold S [--ramp C]
//       opens N streams (at most C connecting at once), waits until every one has received its
//       first token event, prints a READY line, keeps them open S seconds, then closes them
//       (client gone mid-stream) — or, with --drain 1, waits until every stream has ended.
//
// Output: one line of key=value pairs (latencies in microseconds) on stdout; the hold mode
// prints `READY ...` first. Build: g++ -O2 -std=c++20 bench/loadgen.cpp -o loadgen -pthread
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path = "/v1/chat/completions";
  std::string body;
  double rate = 1000;
  double duration = 5;
  double warmup = 1;
  unsigned connections = 1;
  unsigned long requests = 1000;
  unsigned streams = 100;
  double hold = 10;
  unsigned ramp = 200;
  unsigned max_conns = 2000;
  bool drain = false;
};

struct Stats {
  std::vector<double> lat_us;  // request latency (rate, closed) or TTFT (stream)
  std::vector<double> gap_us;  // inter-token gaps (stream)
  unsigned long ok = 0, non2xx = 0, errors = 0, events = 0;
  std::string first_error;
  void error(const std::string& what) {
    ++errors;
    if (first_error.empty()) first_error = what;
  }
};

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

std::string summary(const char* prefix, std::vector<double>& v) {
  char line[256];
  std::snprintf(line, sizeof line,
                " %s_n=%zu %s_p50=%.1f %s_p90=%.1f %s_p99=%.1f %s_p999=%.1f %s_max=%.1f", prefix,
                v.size(), prefix, pct(v, 50), prefix, pct(v, 90), prefix, pct(v, 99), prefix,
                pct(v, 99.9), prefix, v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
  return line;
}

double us_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

std::string build_request(const Options& o) {
  std::ostringstream r;
  r << "POST " << o.path << " HTTP/1.1\r\nHost: " << o.host << ":" << o.port
    << "\r\nContent-Type: application/json\r\nOrigin: http://bench.example\r\nContent-Length: "
    << o.body.size() << "\r\n\r\n"
    << o.body;
  return r.str();
}

// Counts SSE events carrying a non-empty `delta.content` (token events), across reads.
struct TokenScanner {
  std::string pending;
  unsigned feed(std::string_view data) {
    pending.append(data);
    unsigned tokens = 0;
    size_t start = 0;
    for (;;) {
      const size_t end = pending.find("\n\n", start);
      if (end == std::string::npos) break;
      const std::string_view ev(pending.data() + start, end - start);
      size_t c = ev.find("\"content\":");
      if (c != std::string_view::npos) {
        c += 10;
        while (c < ev.size() && ev[c] == ' ') ++c;
        if (c + 1 < ev.size() && ev[c] == '"' && ev[c + 1] != '"') ++tokens;
      }
      start = end + 2;
    }
    pending.erase(0, start);
    return tokens;
  }
};

struct Conn {
  explicit Conn(net::any_io_executor ex) : socket(ex) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
  bool open = false;
};

net::awaitable<bool> ensure_open(Conn& c, const tcp::endpoint& ep, Stats& st) {
  if (c.open) co_return true;
  c.buffer.clear();
  auto [ec] = co_await c.socket.async_connect(ep, tuple_awaitable);
  if (ec) {
    st.error("connect: " + ec.message());
    beast::error_code ignored;
    c.socket.close(ignored);
    co_return false;
  }
  c.socket.set_option(tcp::no_delay(true));
  c.open = true;
  co_return true;
}

void close_conn(Conn& c) {
  beast::error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
  c.open = false;
}

// One non-streamed exchange. Returns false on a transport error (the connection is closed).
net::awaitable<bool> exchange(Conn& c, const tcp::endpoint& ep, const std::string& req, Stats& st,
                              int& status) {
  if (!co_await ensure_open(c, ep, st)) co_return false;
  auto [wec, wn] = co_await net::async_write(c.socket, net::buffer(req), tuple_awaitable);
  if (wec) {
    st.error("write: " + wec.message());
    close_conn(c);
    co_return false;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  auto [rec, rn] = co_await http::async_read(c.socket, c.buffer, parser, tuple_awaitable);
  if (rec) {
    st.error("read: " + rec.message());
    close_conn(c);
    co_return false;
  }
  status = parser.get().result_int();
  if (!parser.get().keep_alive()) close_conn(c);
  co_return true;
}

// One streamed exchange: on_token(time, n) for every read that carried n > 0 token events.
// `stop` (optional) ends the read loop early, as a client going away.
template <typename OnToken>
net::awaitable<int> stream_exchange(Conn& c, const tcp::endpoint& ep, const std::string& req,
                                    Stats& st, OnToken on_token, const bool* stop = nullptr) {
  if (!co_await ensure_open(c, ep, st)) co_return 0;
  auto [wec, wn] = co_await net::async_write(c.socket, net::buffer(req), tuple_awaitable);
  if (wec) {
    st.error("write: " + wec.message());
    close_conn(c);
    co_return 0;
  }
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await http::async_read_header(c.socket, c.buffer, parser, tuple_awaitable);
  if (hec) {
    st.error("read header: " + hec.message());
    close_conn(c);
    co_return 0;
  }
  const int status = parser.get().result_int();
  TokenScanner scanner;
  char chunk[16384];
  while (!parser.is_done()) {
    if (stop && *stop) {
      close_conn(c);
      co_return status;
    }
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    auto [ec, n] = co_await http::async_read_some(c.socket, c.buffer, parser, tuple_awaitable);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      if (!(stop && *stop)) st.error("read body: " + ec.message());
      close_conn(c);
      co_return status;
    }
    const size_t got = sizeof chunk - parser.get().body().size;
    if (got > 0) {
      if (unsigned t = scanner.feed(std::string_view(chunk, got))) on_token(Clock::now(), t);
    }
  }
  if (!parser.get().keep_alive()) close_conn(c);
  co_return status;
}

void count_status(Stats& st, int status) {
  if (status >= 200 && status < 300) {
    ++st.ok;
  } else {
    ++st.non2xx;
    if (st.first_error.empty()) st.first_error = "status " + std::to_string(status);
  }
}

// ---------------------------------------------------------------------------------- rate
struct RateRun {
  Options o;
  tcp::endpoint ep;
  std::string req;
  Stats st;
  std::vector<std::unique_ptr<Conn>> idle;
  unsigned live = 0;
  unsigned long outstanding = 0;
  Clock::time_point measure_from;
  unsigned long dropped = 0;

  net::awaitable<void> one(Clock::time_point scheduled) {
    std::unique_ptr<Conn> c;
    if (!idle.empty()) {
      c = std::move(idle.back());
      idle.pop_back();
    } else {
      c = std::make_unique<Conn>(co_await net::this_coro::executor);
      ++live;
    }
    int status = 0;
    const bool ok = co_await exchange(*c, ep, req, st, status);
    const auto done = Clock::now();
    if (ok && scheduled >= measure_from) {
      count_status(st, status);
      st.lat_us.push_back(us_since(scheduled, done));
    }
    if (c->open) {
      idle.push_back(std::move(c));
    } else {
      --live;
    }
    --outstanding;
  }

  net::awaitable<void> run() {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex);
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.rate));
    const auto t0 = Clock::now();
    measure_from =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
    const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o.duration));
    for (unsigned long i = 0;; ++i) {
      const auto at = t0 + interval * static_cast<long>(i);
      if (at >= end) break;
      if (at > Clock::now()) {
        timer.expires_at(at);
        co_await timer.async_wait(tuple_awaitable);
      }
      if (live >= o.max_conns && idle.empty()) {  // the target cannot keep up at all
        if (at >= measure_from) ++dropped;
        continue;
      }
      ++outstanding;
      net::co_spawn(ex, one(at), net::detached);
    }
    while (outstanding > 0) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(tuple_awaitable);
    }
    for (auto& c : idle) close_conn(*c);
    const double achieved = static_cast<double>(st.ok + st.non2xx) / o.duration;
    std::printf(
        "mode=rate rate=%.0f achieved=%.1f ok=%lu non2xx=%lu errors=%lu dropped=%lu conns=%u%s",
        o.rate, achieved, st.ok, st.non2xx, st.errors, dropped, live,
        summary("lat", st.lat_us).c_str());
    if (!st.first_error.empty()) std::printf(" first_error=\"%s\"", st.first_error.c_str());
    std::printf("\n");
  }
};

// -------------------------------------------------------------------------------- closed
net::awaitable<void> closed_worker(const Options& o, tcp::endpoint ep, const std::string& req,
                                   Stats& st, unsigned long& remaining) {
  Conn c(co_await net::this_coro::executor);
  while (remaining > 0) {
    --remaining;
    const auto t0 = Clock::now();
    int status = 0;
    if (co_await exchange(c, ep, req, st, status)) {
      count_status(st, status);
      st.lat_us.push_back(us_since(t0, Clock::now()));
    }
  }
  close_conn(c);
  (void)o;
}

// -------------------------------------------------------------------------------- stream
net::awaitable<void> stream_worker(tcp::endpoint ep, const std::string& req, Stats& st,
                                   Clock::time_point end, Clock::time_point measure_from) {
  Conn c(co_await net::this_coro::executor);
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    const bool measured = t0 >= measure_from;
    Clock::time_point last{};
    bool first = true;
    std::vector<double> ttft, gaps;
    const int status =
        co_await stream_exchange(c, ep, req, st, [&](Clock::time_point t, unsigned n) {
          if (first) {
            ttft.push_back(us_since(t0, t));
            first = false;
          } else {
            gaps.push_back(us_since(last, t));
          }
          for (unsigned k = 1; k < n; ++k) gaps.push_back(0);  // coalesced tokens arrive together
          st.events += n;
          last = t;
        });
    if (status == 0) continue;
    if (!measured) continue;
    count_status(st, status);
    st.lat_us.insert(st.lat_us.end(), ttft.begin(), ttft.end());
    st.gap_us.insert(st.gap_us.end(), gaps.begin(), gaps.end());
  }
  close_conn(c);
}

// ---------------------------------------------------------------------------------- hold
struct HoldRun {
  Options o;
  tcp::endpoint ep;
  std::string req;
  Stats st;
  unsigned connecting = 0;  // started, first token not seen yet
  unsigned established = 0;
  unsigned finished = 0;        // streams that ended (normally or not)
  unsigned long completed = 0;  // streams that ended normally (2xx, whole body read)
  bool stop = false;

  net::awaitable<void> one(bool* counted_slot) {
    Conn c(co_await net::this_coro::executor);
    bool got_first = false;
    Stats mine;
    const int status = co_await stream_exchange(
        c, ep, req, mine,
        [&](Clock::time_point, unsigned) {
          if (!got_first) {
            got_first = true;
            ++established;
            --connecting;
          }
        },
        &stop);
    if (!got_first) --connecting;
    if (status != 0 && (status < 200 || status >= 300)) count_status(st, status);
    if (mine.errors > 0) st.error(mine.first_error);
    st.errors += mine.errors > 0 ? mine.errors - 1 : 0;
    if (status >= 200 && status < 300 && !stop && mine.errors == 0) ++completed;
    if (!stop) ++finished;
    close_conn(c);
    (void)counted_slot;
  }

  net::awaitable<void> run() {
    auto ex = co_await net::this_coro::executor;
    net::steady_timer timer(ex);
    const auto t0 = Clock::now();
    const auto give_up = t0 + std::chrono::seconds(60);
    for (unsigned i = 0; i < o.streams; ++i) {
      while (connecting >= o.ramp && Clock::now() < give_up) {
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(tuple_awaitable);
      }
      ++connecting;
      net::co_spawn(ex, one(nullptr), net::detached);
    }
    while (connecting > 0 && Clock::now() < give_up) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(tuple_awaitable);
    }
    std::printf("READY established=%u errors=%lu non2xx=%lu open_s=%.2f\n", established, st.errors,
                st.non2xx, us_since(t0, Clock::now()) / 1e6);
    std::fflush(stdout);
    timer.expires_after(std::chrono::milliseconds(static_cast<long>(o.hold * 1000)));
    co_await timer.async_wait(tuple_awaitable);
    const unsigned still_open = established - std::min(established, finished);
    const unsigned finished_early = finished;
    if (o.drain) {  // let every stream end on its own (the upstream's answer runs out)
      const auto drain_until = Clock::now() + std::chrono::seconds(120);
      while (finished < o.streams && Clock::now() < drain_until) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(tuple_awaitable);
      }
    }
    stop = true;
    std::printf(
        "mode=hold streams=%u established=%u still_open=%u finished_early=%u completed=%lu "
        "errors=%lu non2xx=%lu",
        o.streams, established, still_open, finished_early, completed, st.errors, st.non2xx);
    if (!st.first_error.empty()) std::printf(" first_error=\"%s\"", st.first_error.c_str());
    std::printf("\n");
    std::fflush(stdout);
    std::exit(0);  // closes every socket at once: the proxies see N clients go away
  }
};

int usage() {
  std::fprintf(
      stderr,
      "usage: loadgen rate|closed|stream|hold --port P (--body-file F | --body S) [--host H]\n"
      "       [--path P] [--rate R] [--duration S] [--warmup S] [--connections C]\n"
      "       [--requests N] [--streams N] [--hold S] [--ramp C] [--max-conns N]\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  Options o;
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = static_cast<unsigned short>(std::atoi(v));
    else if (k == "--path")
      o.path = v;
    else if (k == "--body")
      o.body = v;
    else if (k == "--body-file") {
      std::ifstream f(v);
      std::stringstream s;
      s << f.rdbuf();
      o.body = s.str();
      while (!o.body.empty() && (o.body.back() == '\n' || o.body.back() == '\r')) o.body.pop_back();
    } else if (k == "--rate")
      o.rate = std::atof(v);
    else if (k == "--duration")
      o.duration = std::atof(v);
    else if (k == "--warmup")
      o.warmup = std::atof(v);
    else if (k == "--connections")
      o.connections = static_cast<unsigned>(std::atoi(v));
    else if (k == "--requests")
      o.requests = std::strtoul(v, nullptr, 10);
    else if (k == "--streams")
      o.streams = static_cast<unsigned>(std::atoi(v));
    else if (k == "--hold")
      o.hold = std::atof(v);
    else if (k == "--ramp")
      o.ramp = static_cast<unsigned>(std::atoi(v));
    else if (k == "--max-conns")
      o.max_conns = static_cast<unsigned>(std::atoi(v));
    else if (k == "--drain")
      o.drain = std::atoi(v) != 0;
    else
      return usage();
  }
  if (o.port == 0 || o.body.empty()) return usage();

  net::io_context io(1);
  const tcp::endpoint ep(net::ip::make_address(o.host), o.port);
  const std::string req = build_request(o);

  if (o.mode == "rate") {
    auto run = std::make_shared<RateRun>();
    run->o = o;
    run->ep = ep;
    run->req = req;
    net::co_spawn(io, run->run(), net::detached);
    io.run();
  } else if (o.mode == "closed") {
    Stats st;
    unsigned long remaining = o.requests;
    const auto t0 = Clock::now();
    for (unsigned i = 0; i < o.connections; ++i)
      net::co_spawn(io, closed_worker(o, ep, req, st, remaining), net::detached);
    io.run();
    const double secs = us_since(t0, Clock::now()) / 1e6;
    std::printf("mode=closed ok=%lu non2xx=%lu errors=%lu secs=%.3f rps=%.1f%s", st.ok, st.non2xx,
                st.errors, secs, (st.ok + st.non2xx) / secs, summary("lat", st.lat_us).c_str());
    if (!st.first_error.empty()) std::printf(" first_error=\"%s\"", st.first_error.c_str());
    std::printf("\n");
  } else if (o.mode == "stream") {
    Stats st;
    const auto t0 = Clock::now();
    const auto from =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
    const auto end = from + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.duration));
    for (unsigned i = 0; i < o.connections; ++i)
      net::co_spawn(io, stream_worker(ep, req, st, end, from), net::detached);
    io.run();
    std::printf("mode=stream streams=%lu non2xx=%lu errors=%lu tokens=%lu%s%s", st.ok, st.non2xx,
                st.errors, st.events, summary("ttft", st.lat_us).c_str(),
                summary("gap", st.gap_us).c_str());
    if (!st.first_error.empty()) std::printf(" first_error=\"%s\"", st.first_error.c_str());
    std::printf("\n");
  } else if (o.mode == "hold") {
    auto run = std::make_shared<HoldRun>();
    run->o = o;
    run->ep = ep;
    run->req = req;
    net::co_spawn(io, run->run(), net::detached);
    io.run();
  } else {
    return usage();
  }
  return 0;
}
