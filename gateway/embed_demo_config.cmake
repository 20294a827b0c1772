# Writes config/demo.yaml into a C++ source as a raw string literal.
file(READ "${INPUT}" yaml)
file(WRITE "${OUTPUT}.tmp" "// Generated from config/demo.yaml; do not edit.\n#include \"gateway/demo_config.hpp\"\nnamespace gw {\nconst char* const kDemoConfigYaml = R\"yaml(${yaml})yaml\";\n}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
