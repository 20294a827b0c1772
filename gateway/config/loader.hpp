#pragma once
// Internal to the config loader (gateway/config/load*.cpp): the Loader reads each section
// (load_server.cpp, load_models.cpp, load_routing.cpp), then checks fields against each other
// (load_checks.cpp).

#include "gateway/config/yaml_reader.hpp"

namespace gw::config::detail {

// Where the cross-field checks point; set while reading.
struct Marks {
  std::vector<YAML::Mark> model_keys;  // parallel to Config::models
  std::optional<YAML::Mark> admin_listen;
  std::optional<YAML::Mark> draft;
  std::optional<YAML::Mark> escalate;
  std::optional<YAML::Mark> chars_under;
  std::optional<YAML::Mark> refine_prompt;
  std::optional<YAML::Mark> on_escalate;
};

class Loader : public YamlReader {
 public:
  Loader(std::string file, EnvLookup env) : YamlReader(std::move(file)), env_(std::move(env)) {}

  void load(const YAML::Node& root, Config& config);

 private:
  // Layer 1: each field on its own.
  void read_server(const Entry& e, Server& s);
  // An explicit list replaces the default ["*"]; an empty list allows no cross-origin page.
  void read_cors(const Entry& e, Cors& c);
  // SPEC: "unset = open". An unset (or empty) variable leaves the gateway open, and the
  // daemon says so at startup; a value that holds no key at all (", ,") is an error.
  void read_auth(const Entry& e, Auth& a);
  void read_price(const Entry& e, Price& p);
  void read_model(const YAML::Node& key, const Entry& e, Model& m);
  void read_models(const Entry& e, std::vector<Model>& models);
  void read_routing(const Entry& e, Routing& r);
  void read_on_escalate(const Entry& e, OnEscalate& out);
  void read_before_draft(const Entry& e, BeforeDraft& before);
  void read_after_draft(const Entry& e, AfterDraft& after);
  void read_stream(const Entry& e, Routing& r);  // routing.stream: the hold window
  void read_decision_log(const Entry& e, std::string& path);
  void read_shadow(const Entry& e, Shadow& s);

  // Layer 2: fields against each other.
  void check_cross_fields(Config& config);
  void check_model_ref(const std::optional<YAML::Mark>& mark, const std::string& path,
                       const std::string& name, const std::vector<std::string_view>& names);

  EnvLookup env_;
  Marks marks_;
};

}  // namespace gw::config::detail
