#pragma once
// config/demo.yaml, compiled in so `--demo` needs no file.

namespace gw {
extern const char* const kDemoConfigYaml;
}
