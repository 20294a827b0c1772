#include "gateway/api/models_handler.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

#include "gateway/http/path_segment.hpp"

namespace gw::api {

namespace {

// Bounded: an unknown id is echoed in the 404 message, this much of it.
constexpr std::size_t kMaxShownIdBytes = 256;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json model_object(const config::Model& m, std::int64_t created) {
  return {{"id", m.name},
          {"object", "model"},
          {"created", created},
          {"owned_by", "hybrid-gateway"},
          {"upstream_model", m.upstream_model},
          {"price",
           {{"input_per_mtok", m.price.input_per_mtok},
            {"output_per_mtok", m.price.output_per_mtok},
            {"per_second", m.price.per_second}}}};
}

nlohmann::json alias_object(const config::Config& cfg, std::int64_t created) {
  return {{"id", cfg.routing.model_alias},
          {"object", "model"},
          {"created", created},
          {"owned_by", "hybrid-gateway"},
          {"routing",
           {{"draft", cfg.routing.draft},
            {"escalate", cfg.routing.escalate},
            {"on_escalate", policies::to_string(cfg.routing.on_escalate)},
            {"hold_tokens", cfg.routing.hold_tokens}}}};
}

}  // namespace

net::awaitable<void> handle_models(Exchange& ex) {
  const auto& cfg = ex.cfg();
  const auto created = unix_now();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& m : cfg.models) data.push_back(model_object(m, created));
  data.push_back(alias_object(cfg, created));
  nlohmann::json list = {{"object", "list"}, {"data", std::move(data)}};
  co_await ex.reply(200, list.dump(), "application/json");
}

net::awaitable<void> handle_model(Exchange& ex, std::string_view encoded_id) {
  const auto& cfg = ex.cfg();
  const auto id = http::decode_path_segment(encoded_id);
  nlohmann::json object;
  if (id && *id == cfg.routing.model_alias) {
    object = alias_object(cfg, unix_now());
  } else if (const config::Model* m = id ? cfg.find_model(*id) : nullptr) {
    object = model_object(*m, unix_now());
  }
  if (object.is_null()) {
    const std::string shown = (id ? *id : std::string(encoded_id)).substr(0, kMaxShownIdBytes);
    co_await ex.reply_error(http::model_not_found(shown));
    co_return;
  }
  co_await ex.reply(200, object.dump(), "application/json");
}

}  // namespace gw::api
