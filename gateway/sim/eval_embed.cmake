# Compiles eval/questions.jsonl into llm-sim as gw::sim::kEmbeddedEvalSet (INPUT -> OUTPUT).
file(READ ${INPUT} content)
file(WRITE ${OUTPUT} "// Generated from eval/questions.jsonl by gateway/sim/eval_embed.cmake.\n"
  "#include \"gateway/sim/eval_answers.hpp\"\n"
  "namespace gw::sim {\nconst std::string_view kEmbeddedEvalSet = R\"hgevalset(${content})hgevalset\";\n}\n")
