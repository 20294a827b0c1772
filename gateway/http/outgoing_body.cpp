#include "gateway/http/outgoing_body.hpp"

namespace gw::http {

std::size_t OutgoingBody::size() const {
  std::size_t n = owned.size();
  for (std::string_view piece : borrowed) n += piece.size();
  return n;
}

std::string OutgoingBody::text() const {
  std::string out;
  out.reserve(size());
  out += owned;
  for (std::string_view piece : borrowed) out += piece;
  return out;
}

}  // namespace gw::http
