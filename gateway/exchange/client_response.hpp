#pragma once
// ClientResponse: the answer to one client request, as the routing flows see it. The other
// half of the seam between routing and I/O (upstream/model_stream.hpp is the first): Exchange
// implements it over the client's socket, and unit tests record it (tests/gateway/chat/).
//
// Every method that writes returns false when the client could not be written to; the flows
// then stop.

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "gateway/http/openai_error.hpp"

namespace gw {

class ClientResponse {
 public:
  // A whole response.
  virtual boost::asio::awaitable<bool> reply(unsigned status, std::string body,
                                             std::string_view content_type) = 0;
  virtual boost::asio::awaitable<bool> reply_error(http::OpenAiError err) = 0;

  // A response written piece by piece (SSE).
  virtual boost::asio::awaitable<bool> begin_stream(unsigned status,
                                                    std::string_view content_type) = 0;
  virtual boost::asio::awaitable<bool> write_chunk(std::string_view bytes) = 0;
  virtual boost::asio::awaitable<bool> end_stream() = 0;
  // Ends a started stream with an OpenAI error event and no [DONE]: how a stream that cannot
  // finish ends, never silently.
  virtual boost::asio::awaitable<bool> end_stream_with_error(http::OpenAiError err) = 0;

  virtual bool head_sent() const = 0;
  virtual unsigned sent_status() const = 0;  // the status line written, 0 = none
  // The whole response is out: a reply written, or a stream ended.
  virtual bool complete() const = 0;
  // A stream whose head is out, not ended, and whose framing no failed write has broken.
  virtual bool stream_open() const = 0;

 protected:
  ~ClientResponse() = default;  // not owned through this interface
};

}  // namespace gw
