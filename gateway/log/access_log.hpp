#pragma once
// Structured logs: one JSON object per line on stdout. One line per request; events for
// startup, reload and shutdown. No secrets; prompt text only with server.log_prompts.

#include <string>
#include <string_view>

#include "gateway/trace/request_trace.hpp"

namespace gw {

class AccessLog {
 public:
  explicit AccessLog(int fd = 1) : fd_(fd) {}

  void request(const RequestTrace& t) const;
  // {"ts":..., "level":level, "event":event, "message":message, <extra_json members>}
  void event(std::string_view level, std::string_view event, std::string_view message,
             std::string_view extra_json = {}) const;

 private:
  void write_line(std::string& line) const;
  int fd_;
};

}  // namespace gw
