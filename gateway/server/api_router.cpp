#include "gateway/server/api_router.hpp"

#include <cctype>

#include "gateway/admin/admin_handlers.hpp"
#include "gateway/api/models_handler.hpp"
#include "gateway/api/passthrough_handler.hpp"
#include "gateway/chat/chat_handler.hpp"
#include "gateway/ui/assets.hpp"

namespace gw {

namespace {

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

net::awaitable<void> method_not_allowed(Exchange& ex, std::string_view allowed) {
  co_await ex.reply_error(http::make_error(405,
                                           "method " + std::string(ex.trace.method) +
                                               " is not allowed on " + ex.trace.path + " (use " +
                                               std::string(allowed) + ")",
                                           "method_not_allowed"));
}

// The playground page and its files; off with server.playground: false.
const ui::Asset* playground_asset(const Exchange& ex, std::string_view path) {
  auto method = ex.req.method();
  if (!ex.cfg().server.playground) return nullptr;
  if (method != bhttp::verb::get && method != bhttp::verb::head) return nullptr;
  if (path == "/" || path == "/playground") return ui::find_asset("/ui/index.html");
  if (path.substr(0, 4) == "/ui/") return ui::find_asset(path);
  return nullptr;
}

// Cold replies are coroutines of their own: their temporaries would otherwise sit in
// route_api's frame, which lives as long as the stream it routes.
net::awaitable<void> reply_unauthorized(Exchange& ex) {
  co_await ex.reply_error(http::make_error(
      401, "invalid or missing API key: send 'Authorization: Bearer <key>'", "invalid_api_key"));
}

net::awaitable<void> reply_asset(Exchange& ex, const ui::Asset& asset) {
  co_await ex.reply(200, std::string(asset.body), asset.content_type);
}

net::awaitable<void> not_found(Exchange& ex) {
  co_await ex.reply_error(
      http::make_error(404, "no route for " + std::string(ex.trace.path), "not_found"));
}

}  // namespace

bool authorized(const config::Auth& auth, std::string_view header) {
  if (auth.api_keys.empty()) return true;
  // The scheme is case-insensitive (RFC 9110 §11.1): "bearer k" is as good as "Bearer k".
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size()) return false;
  for (std::size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kBearer[i]) return false;
  }
  auto key = header.substr(kBearer.size());
  bool ok = false;
  for (const auto& k : auth.api_keys) ok |= equal_constant_time(key, k);
  return ok;
}

net::awaitable<void> route_api(Exchange& ex) {
  auto path = path_of(ex.req.target());
  auto method = ex.req.method();
  if (method == bhttp::verb::options) {
    co_await ex.reply_preflight();
    co_return;
  }
  bool chat = path == "/v1/chat/completions";
  bool models = path == "/v1/models";
  // /v1/models/{id}: ids may hold ':' or an encoded '/' (Ollama's `phi4-mini:latest`).
  constexpr std::string_view kModelPrefix = "/v1/models/";
  bool model =
      path.size() > kModelPrefix.size() && path.substr(0, kModelPrefix.size()) == kModelPrefix;
  const api::Endpoint* passthrough = nullptr;
  for (const api::Endpoint* e : {&api::kResponses, &api::kCompletions, &api::kEmbeddings}) {
    if (path == e->path) passthrough = e;
  }
  if (chat || models || model || passthrough) {
    if (!authorized(ex.cfg().auth, ex.req[bhttp::field::authorization])) {
      co_await reply_unauthorized(ex);
      co_return;
    }
    if ((chat || passthrough) && method != bhttp::verb::post) {
      co_await method_not_allowed(ex, "POST");
      co_return;
    }
    if (models && method != bhttp::verb::get && method != bhttp::verb::head) {
      co_await method_not_allowed(ex, "GET");
      co_return;
    }
    if (model && method != bhttp::verb::get && method != bhttp::verb::head) {
      co_await method_not_allowed(ex, "GET");
      co_return;
    }
    // Not `co_await (c ? a : b)`: GCC 12 destroys that temporary awaitable twice.
    if (chat) {
      co_await chat::handle_chat(ex);
    } else if (passthrough) {
      co_await api::handle_passthrough(ex, *passthrough);
    } else if (model) {
      co_await api::handle_model(ex, path.substr(kModelPrefix.size()));
    } else {
      co_await api::handle_models(ex);
    }
    co_return;
  }
  if (const ui::Asset* asset = playground_asset(ex, path)) {
    co_await reply_asset(ex, *asset);
    co_return;
  }
  co_await not_found(ex);
}

net::awaitable<void> route_admin(Exchange& ex) {
  auto path = path_of(ex.req.target());
  // No `co_return co_await`: GCC 12 miscompiles it after an earlier co_return.
  if (ex.req.method() != bhttp::verb::get && ex.req.method() != bhttp::verb::head) {
    co_await method_not_allowed(ex, "GET");
  } else if (path == "/healthz") {
    co_await admin::handle_healthz(ex);
  } else if (path == "/readyz") {
    co_await admin::handle_readyz(ex);
  } else if (path == "/metrics") {
    co_await admin::handle_metrics(ex);
  } else {
    co_await not_found(ex);
  }
}

}  // namespace gw
