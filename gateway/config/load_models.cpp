// The models section: every upstream model, by the name clients use.
#include "gateway/config/loader.hpp"

#include "gateway/config/address.hpp"

namespace gw::config::detail {

void Loader::read_price(const Entry& e, Price& p) {
  auto amount = [&](double& out) {
    return [&](const Entry& f) {
      double value = 0;
      if (!read_double(f, value)) return;
      if (value < 0) {
        report(f, "price must not be negative, got " + f.value.Scalar());
        return;
      }
      out = value;
    };
  };
  read_mapping(e, {
                      {"input_per_mtok", amount(p.input_per_mtok)},
                      {"output_per_mtok", amount(p.output_per_mtok)},
                      {"per_second", amount(p.per_second)},
                  });
}

void Loader::read_model(const YAML::Node& key, const Entry& e, Model& m) {
  bool has_upstream = false;
  read_mapping(
      e, {
             {"upstream",
              [&](const Entry& f) {
                has_upstream = true;
                if (!read_string(f, m.upstream)) return;
                std::string why;
                if (auto url = parse_upstream_url(m.upstream, why)) {
                  m.url = *url;
                } else {
                  report(f, "invalid URL " + in_quotes(m.upstream) + " (" + why + ")");
                }
              }},
             {"upstream_model", [&](const Entry& f) { read_nonempty_string(f, m.upstream_model); }},
             {"api_key_env", [&](const Entry& f) { read_env_name(f, m.api_key_env); }},
             {"timeout_ms", [&](const Entry& f) { read_timeout(f, m.timeout_ms); }},
             {"connect_timeout_ms", [&](const Entry& f) { read_timeout(f, m.connect_timeout_ms); }},
             {"idle_timeout_ms", [&](const Entry& f) { read_timeout(f, m.idle_timeout_ms); }},
             {"price", [&](const Entry& f) { read_price(f, m.price); }},
         });
  if (!has_upstream && (e.value.IsMap() || e.value.IsNull())) {
    report(key.Mark(), e.path + ": missing required key 'upstream'");
  }
  if (m.upstream_model.empty()) m.upstream_model = m.name;
  // An unset variable means "no Authorization header", not an error: Foundry Local,
  // Ollama, llama-server and vLLM need no key by default.
  if (!m.api_key_env.empty()) m.api_key = env_(m.api_key_env).value_or("");
}

void Loader::read_models(const Entry& e, std::vector<Model>& models) {
  const std::string expected = "expected a mapping of model name to its settings, got ";
  if (!e.value.IsMap() && !e.value.IsNull()) {
    report(e, expected + describe(e.value));
    return;
  }
  if (e.value.IsNull() || e.value.size() == 0) {
    report(e, "at least one model is required");
    return;
  }
  for_each_pair(e, [&](const YAML::Node& key, const Entry& child) {
    if (key.Scalar().empty()) {
      report(key.Mark(), "models: a model name must not be empty");
      return;
    }
    Model m;
    m.name = key.Scalar();
    read_model(key, child, m);
    marks_.model_keys.push_back(key.Mark());
    models.push_back(std::move(m));
  });
}

}  // namespace gw::config::detail
