#include "evaluation/report.hpp"
namespace gw::eval {
int report_command(int, char**) {
  return 0;
}
}  // namespace gw::eval
