#include "gateway/sim/state.hpp"

#include "gateway/sim/reply.hpp"

namespace gw::sim {

SimState::SimState(Options options) : options_(std::move(options)) {
  models_body_ = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < options_.models.size(); ++i) {
    if (i) models_body_ += ',';
    models_body_ += "{\"id\":";
    append_json_string(models_body_, options_.models[i].name);
    models_body_ += ",\"object\":\"model\",\"created\":0,\"owned_by\":\"llm-sim\"}";
  }
  models_body_ += "]}";
}

const ModelProfile* SimState::find_profile(std::string_view model) const {
  if (options_.models.empty()) return &default_profile_;
  for (const ModelProfile& p : options_.models) {
    if (p.name == model) return &p;
  }
  return nullptr;
}

void SimState::record(std::string_view body, std::string_view authorization,
                      std::string_view path) {
  std::lock_guard lock(last_mutex_);
  last_.body.assign(body);
  last_.authorization.assign(authorization);
  last_.path.assign(path);
}

LastRequest SimState::last_request() const {
  std::lock_guard lock(last_mutex_);
  return last_;
}

Stats SimState::stats() const {
  return Stats{requests.load(std::memory_order_relaxed),
               open_connections.load(std::memory_order_relaxed),
               active_streams.load(std::memory_order_relaxed),
               aborted_streams.load(std::memory_order_relaxed)};
}

}  // namespace gw::sim
