// The server, cors and auth sections.
#include "gateway/config/loader.hpp"

#include <sstream>

#include "gateway/config/address.hpp"

namespace gw::config::detail {

void Loader::read_server(const Entry& e, Server& s) {
  read_mapping(
      e, {
             {"listen", [&](const Entry& f) { read_address(f, s.listen); }},
             {"admin_listen",
              [&](const Entry& f) {
                marks_.admin_listen = f.mark();
                read_address(f, s.admin_listen);
              }},
             {"threads", [&](const Entry& f) { read_uint(f, s.threads, 0, kMaxThreads); }},
             {"max_body_bytes",
              [&](const Entry& f) { read_uint(f, s.max_body_bytes, 1, kMaxBodyBytes); }},
             {"max_header_bytes",
              [&](const Entry& f) {
                read_uint(f, s.max_header_bytes, kMinHeaderBytes, kMaxHeaderBytes);
              }},
             {"request_timeout_ms", [&](const Entry& f) { read_timeout(f, s.request_timeout_ms); }},
             {"header_timeout_ms", [&](const Entry& f) { read_timeout(f, s.header_timeout_ms); }},
             {"idle_timeout_ms", [&](const Entry& f) { read_timeout(f, s.idle_timeout_ms); }},
             {"drain_timeout_ms", [&](const Entry& f) { read_timeout(f, s.drain_timeout_ms); }},
             {"log_prompts", [&](const Entry& f) { read_bool(f, s.log_prompts); }},
             {"playground", [&](const Entry& f) { read_bool(f, s.playground); }},
         });
}

void Loader::read_cors(const Entry& e, Cors& c) {
  read_mapping(e, {{"allow_origins", [&](const Entry& f) {
                      c.allow_origins.clear();
                      read_list(f, [&](const Entry& item) {
                        if (item.value.IsNull()) {
                          report(item,
                                 "expected a string, got nothing (write \"null\" in quotes "
                                 "to allow file:// pages)");
                          return;
                        }
                        std::string origin;
                        if (!read_string(item, origin)) return;
                        std::string why;
                        if (!is_valid_origin(origin, why)) {
                          report(item, "invalid origin " + in_quotes(origin) + " (" + why + ")");
                          return;
                        }
                        c.allow_origins.push_back(std::move(origin));
                      });
                    }}});
}

void Loader::read_auth(const Entry& e, Auth& a) {
  read_mapping(e, {{"api_keys_env", [&](const Entry& f) {
                      if (!read_env_name(f, a.api_keys_env) || a.api_keys_env.empty()) return;
                      const std::string where =
                          "environment variable " + a.api_keys_env + " (" + f.path + ")";
                      const std::string remedy = "; unset it to run without authentication";
                      auto value = env_(a.api_keys_env);
                      if (!value || value->empty()) return;
                      std::stringstream keys(*value);
                      for (std::string key; std::getline(keys, key, ',');) {
                        if (auto trimmed = trim(key); !trimmed.empty()) {
                          a.api_keys.push_back(std::move(trimmed));
                        }
                      }
                      if (a.api_keys.empty()) report(f.mark(), where + " holds no keys" + remedy);
                    }}});
}

}  // namespace gw::config::detail
