#pragma once
// `eval report`: summary.json, report.md and one self-contained report.html from graded
// hg.outcome/1 rows. Every figure is computed in summarize() from the rows, nothing else.

#include <nlohmann/json.hpp>
#include <vector>

namespace gw::eval {

int report_command(int argc, char** argv);

}  // namespace gw::eval
