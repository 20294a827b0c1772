#pragma once
// `eval grade`: automatic checks on every arm of every outcome row, then the optional rubric
// judge and pairwise comparison (cached). Rewrites the outcome file with "quality" filled in.

namespace gw::eval {

int grade_command(int argc, char** argv);

}  // namespace gw::eval
