// llm-sim: the standalone OpenAI-compatible model simulator.
#include <pthread.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gateway/sim/simulator.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: llm-sim [--listen HOST:PORT] [--threads N] [--seed N] [--model SPEC]...\n"
    "  --listen HOST:PORT  address to serve on (default 127.0.0.1:5273; port 0 = any free)\n"
    "  --threads N         worker threads, each with its own SO_REUSEPORT acceptor (default 1)\n"
    "  --seed N            seed of the generated answers (default 1)\n"
    "  --model SPEC        a model to serve, repeatable; without any, every name is accepted.\n"
    "                      SPEC = NAME[:ttft_ms=MS,tokens_per_s=N,answer_tokens=N,logprob=X,"
    "accuracy=P,text=...]\n"
    "  --help              this text\n"
    "Directives in the last user message script behaviour, e.g. [sim:refuse], [sim:error=503],\n"
    "[sim:tokens=10@phi-4-mini]; see gateway/sim/directives.hpp.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename T>
T parse_uint(std::string_view flag, std::string_view value, T min, T max) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || out < min ||
      out > max) {
    throw UsageError(std::string(flag) + ": expected an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got \"" + std::string(value) + "\"");
  }
  return out;
}

void parse_listen(std::string_view value, gw::sim::Options& options) {
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw UsageError("--listen: expected HOST:PORT, got \"" + std::string(value) + "\"");
  }
  std::string_view host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  options.host = std::string(host);
  options.port = parse_uint<uint16_t>("--listen port", value.substr(colon + 1), 0, 65535);
}

// Returns false when --help was asked for.
bool parse_args(int argc, char** argv, gw::sim::Options& options) {
  options.port = 5273;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    std::string_view value;
    bool inline_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (arg != "--listen" && arg != "--threads" && arg != "--seed" && arg != "--model") {
      throw UsageError("unknown flag \"" + std::string(arg) + "\"");
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(std::string(arg) + ": missing value");
      value = argv[++i];
    }
    if (arg == "--listen") {
      parse_listen(value, options);
    } else if (arg == "--threads") {
      options.threads = parse_uint<unsigned>(arg, value, 1, 1024);
    } else if (arg == "--seed") {
      options.seed = parse_uint<uint64_t>(arg, value, 0, UINT64_MAX);
    } else {
      try {
        options.models.push_back(gw::sim::parse_profile(value));
      } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--model: ") + e.what());
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gw::sim::Options options;
  try {
    if (!parse_args(argc, argv, options)) {
      std::cout << kUsage;
      return 0;
    }
  } catch (const UsageError& e) {
    std::cerr << "llm-sim: " << e.what() << "\n" << kUsage;
    return 2;
  }

  // Block the stop signals before any thread exists so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  gw::sim::Simulator simulator(options);
  uint16_t port = 0;
  try {
    port = simulator.start();
  } catch (const std::invalid_argument& e) {  // a --listen host that is not an address
    std::cerr << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "llm-sim: cannot listen on " << options.host << ":" << options.port << ": "
              << e.what() << "\n";
    return 1;
  }
  std::cout << "llm-sim listening on " << options.host << ":" << port << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  simulator.stop();
  return 0;
}
