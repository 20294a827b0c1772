#pragma once
// `eval report`: summary.json, report.md and one self-contained report.html (inline SVG and
// CSS, no script, nothing fetched) from graded hg.outcome/1 rows. Every figure comes from
// summarize(), which reads only the rows: the report is traceable to the outcome file.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gw::eval {

inline constexpr uint64_t kDefaultRequestsPerDay = 10000;
inline constexpr size_t kWorstDrafts = 10;
inline constexpr std::string_view kSummarySchema = "hg.eval-summary/1";

struct ReportOptions {
  uint64_t requests_per_day = kDefaultRequestsPerDay;
  bool show_text = false;
  std::string source;  // the outcome file's name, for the header
};

// Rows: the last row per id wins. Percentiles are nearest-rank (policies::nearest_rank_percentile).
nlohmann::json summarize(const std::vector<nlohmann::json>& rows, const ReportOptions& options);
std::string render_markdown(const nlohmann::json& summary);
std::string render_html(const nlohmann::json& summary);

int report_command(int argc, char** argv);

}  // namespace gw::eval
