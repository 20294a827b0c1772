# The daemon: libraries split by concern, so tests link only what they need.
add_library(gateway_http STATIC
  http/openai_error.cpp http/rate_limit_hints.cpp http/cors.cpp http/sse_parser.cpp http/json_text.cpp
  trace/request_trace.cpp log/access_log.cpp chat/chat_request.cpp chat/completion.cpp
  chat/upstream_body.cpp server/request_framing.cpp)
# Reading untrusted upstream answers: bounded extractors, secret redaction.
target_sources(gateway_http PRIVATE http/error_fields.cpp http/redact.cpp chat/whole_completion.cpp)
# The other OpenAI endpoints' request bodies (pure parsing, unit-tested).
target_sources(gateway_http PRIVATE api/passthrough_request.cpp http/path_segment.cpp
  http/request_checks.cpp)
# A draft's tool calls, whole or from stream deltas, for the judge.
target_sources(gateway_http PRIVATE chat/draft_tool_calls.cpp)
target_include_directories(gateway_http PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(gateway_http PUBLIC nlohmann_json::nlohmann_json gateway_config policies
  Threads::Threads)

add_library(gateway_core STATIC
  upstream/pool.cpp upstream/call.cpp
  exchange/serving_config.cpp exchange/exchange.cpp server/client_session.cpp server/api_router.cpp server/gateway.cpp
  chat/chat_handler.cpp chat/forward.cpp chat/stream_relay.cpp chat/hybrid_flow.cpp
  api/models_handler.cpp api/passthrough_handler.cpp
  admin/admin_handlers.cpp metrics/metrics.cpp metrics/cost.cpp)
# The decision log (routing.decision_log): hg.decision/1 lines for `eval calibrate`.
target_sources(gateway_core PRIVATE log/decision_log.cpp)
# SIGHUP's reload on a thread of its own (not an I/O thread).
target_sources(gateway_core PRIVATE server/config_reloader.cpp)
target_link_libraries(gateway_core PUBLIC gateway_http gateway_config policies
  Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads prometheus-cpp::core)

add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/demo_config.cpp
  COMMAND ${CMAKE_COMMAND} -DINPUT=${PROJECT_SOURCE_DIR}/config/demo.yaml
          -DOUTPUT=${CMAKE_CURRENT_BINARY_DIR}/demo_config.cpp
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_demo_config.cmake
  DEPENDS ${PROJECT_SOURCE_DIR}/config/demo.yaml ${CMAKE_CURRENT_SOURCE_DIR}/embed_demo_config.cmake)

add_executable(hybrid-gateway main.cpp ${CMAKE_CURRENT_BINARY_DIR}/demo_config.cpp)
target_link_libraries(hybrid-gateway PRIVATE gateway_core llm_sim_core)

# The browser playground: every file in gateway/ui/ compiled in.
file(GLOB UI_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ui/*.html
     ${CMAKE_CURRENT_SOURCE_DIR}/ui/*.js ${CMAKE_CURRENT_SOURCE_DIR}/ui/*.css
     ${CMAKE_CURRENT_SOURCE_DIR}/ui/*.svg)
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cpp
  COMMAND ${CMAKE_COMMAND} -DUI_DIR=${CMAKE_CURRENT_SOURCE_DIR}/ui
          -DOUTPUT=${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cpp
          -P ${CMAKE_CURRENT_SOURCE_DIR}/ui/embed_ui.cmake
  DEPENDS ${UI_FILES} ${CMAKE_CURRENT_SOURCE_DIR}/ui/embed_ui.cmake)
target_sources(gateway_core PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cpp)
target_sources(gateway_core PRIVATE shadow/sampler.cpp shadow/shadow.cpp metrics/shadow_metrics.cpp)
# The shadow judge asks the evaluation command's pairwise prompt (evaluation/judge.hpp).
target_link_libraries(gateway_core PUBLIC evaluation)
