#pragma once
// `hybrid-gateway eval <command> ...`: argv[0] is the program, argv[1] "eval".

namespace gw::eval {

int eval_main(int argc, char** argv);

}  // namespace gw::eval
