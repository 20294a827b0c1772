#pragma once
// RequestBody: Beast's string_body, read by appending. string_body's reader resizes the string
// before copying each chunk in, so every body byte is zeroed and then overwritten: for a 1 MB
// RAG request that memset was 8% of the `auto` route's CPU (issue 15). Appending into the
// capacity reserved from Content-Length copies each byte once; the reserve leaves the padding
// simdjson needs to validate the body in place (http::kJsonReadPaddingBytes). Serialising is
// string_body's.

#include <cstdint>
#include <string>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional/optional.hpp>

#include "gateway/http/json_text.hpp"

namespace gw {

struct RequestBody : boost::beast::http::string_body {
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>& /*head*/, std::string& body)
        : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.max_size() - http::kJsonReadPaddingBytes) {
        ec = boost::beast::http::error::buffer_overflow;
        return;
      }
      // The parser's body_limit (server.max_body_bytes) has already refused a larger length.
      body_.reserve(static_cast<std::size_t>(*length) + http::kJsonReadPaddingBytes);
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      std::size_t n = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        if (b.size() > body_.max_size() - body_.size()) {
          ec = boost::beast::http::error::buffer_overflow;
          return n;
        }
        body_.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      ec = {};
      return n;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    std::string& body_;
  };
};

}  // namespace gw
