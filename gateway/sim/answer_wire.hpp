#pragma once
// How one OpenAI API renders a planned answer: whole, or as the SSE events of a stream. The
// session paces the events; each API (Responses, legacy completions) has its own wire.

#include <string>
#include <vector>

namespace gw::sim {

class AnswerWire {
 public:
  virtual ~AnswerWire() = default;
  virtual std::string body() const = 0;                  // the non-streamed answer
  virtual std::vector<std::string> opening() const = 0;  // events before the first token
  virtual std::string token(size_t i) const = 0;         // the event carrying token i
  virtual std::vector<std::string> closing() const = 0;  // finish, usage, end of stream
};

}  // namespace gw::sim
