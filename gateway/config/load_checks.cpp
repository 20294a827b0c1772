// Layer 2 of the validation: fields against each other, after every section was read.
#include "gateway/config/loader.hpp"

#include <algorithm>

namespace gw::config::detail {

void Loader::check_cross_fields(Config& config) {
  auto& routing = config.routing;
  std::vector<std::string_view> names;
  for (std::size_t i = 0; i < config.models.size(); ++i) {
    const auto& model = config.models[i];
    names.push_back(model.name);
    if (model.name == routing.model_alias) {
      report(marks_.model_keys[i], "models." + model.name + ": model name " +
                                       in_quotes(model.name) +
                                       " clashes with routing.model_alias; rename one of them");
    }
  }
  if (!names.empty()) {
    // Without a routing section the first model drafts and the last one escalates.
    if (routing.draft.empty()) routing.draft = config.models.front().name;
    if (routing.escalate.empty()) routing.escalate = config.models.back().name;
    check_model_ref(marks_.draft, "routing.draft", routing.draft, names);
    check_model_ref(marks_.escalate, "routing.escalate", routing.escalate, names);
  }

  const auto& after = routing.after_draft;
  if (after.chars_under > 0 && after.chars_over > 0 && after.chars_under >= after.chars_over) {
    report(marks_.chars_under.value_or(YAML::Mark::null_mark()),
           "routing.after_draft.chars_under: must be less than chars_over (" +
               std::to_string(after.chars_over) + "), got " + std::to_string(after.chars_under));
  }
  if (routing.on_escalate == OnEscalate::refine &&
      routing.refine_prompt.find("{draft}") == std::string::npos) {
    report(marks_.refine_prompt.value_or(marks_.on_escalate.value_or(YAML::Mark::null_mark())),
           "routing.refine_prompt: must contain {draft} when on_escalate is 'refine'");
  }

  const auto& server = config.server;
  if (server.listen.port != 0 && server.listen.port == server.admin_listen.port &&
      server.listen.host == server.admin_listen.host) {
    report(marks_.admin_listen.value_or(YAML::Mark::null_mark()),
           "server.admin_listen: must differ from server.listen (" + server.listen.host + ":" +
               std::to_string(server.listen.port) + ")");
  }
}

void Loader::check_model_ref(const std::optional<YAML::Mark>& mark, const std::string& path,
                             const std::string& name, const std::vector<std::string_view>& names) {
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string message = path + ": unknown model " + in_quotes(name);
  if (auto hint = closest(name, names)) {
    message += " (did you mean '" + *hint + "'?)";
  } else {
    std::string all;
    for (auto n : names) all += (all.empty() ? "" : ", ") + std::string(n);
    message += " (configured: " + all + ")";
  }
  report(mark.value_or(YAML::Mark::null_mark()), message);
}

}  // namespace gw::config::detail
