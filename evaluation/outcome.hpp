#pragma once
// hg.outcome/1 rows (one JSON object per line, one row per item with every arm in it) and the
// JSONL file they live in. Shared by `eval run|grade|report` and `eval replay|calibrate`.
// Rows stay nlohmann::json: the format is documented in docs/evaluation.md and grows by
// addition, so a reader keeps fields it does not know about.

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::eval {

using nlohmann::json;

inline constexpr std::string_view kOutcomeSchema = "hg.outcome/1";
inline constexpr std::string_view kEvalsetSchema = "hg.evalset/1";
// The arms, in report order.
inline constexpr std::string_view kArmDraft = "draft";
inline constexpr std::string_view kArmEscalate = "escalate";
inline constexpr std::string_view kArmAuto = "auto";
inline constexpr std::string_view kArmAutoRefine = "auto_refine";

// A line longer than this is not a row we wrote: refused rather than buffered without end.
inline constexpr size_t kMaxJsonlLineBytes = 64 * 1024 * 1024;

struct JsonlFile {
  std::vector<json> rows;
  // A last line without its newline (a writer killed mid-line) is dropped, not parsed: it may
  // be cut anywhere, even at a point where it still parses.
  bool dropped_partial_tail = false;
  // "FILE:LINE: message" for each complete line that is not a JSON object (skipped).
  std::vector<std::string> problems;
};

// Reads a JSONL file; a missing file reads as empty.
JsonlFile read_jsonl(const std::string& path);

// Appends JSON lines, one write + flush per row, from any thread. Opening cuts a partial last
// line left by a killed writer so the next row starts on a line of its own.
class JsonlWriter {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  explicit JsonlWriter(const std::string& path, bool truncate = false);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const json& row);

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  std::string path_;
};

// Rewrites a whole file atomically (write to FILE.tmp, rename): `grade` updates rows in place.
void write_jsonl_atomically(const std::string& path, const std::vector<json>& rows);

// The arm object of a row, or nullptr when the row has no such arm (or it is not an object).
const json* find_arm(const json& row, std::string_view arm);
json* find_arm(json& row, std::string_view arm);

// A number field, or nullopt when absent, null or not a number ("missing data is null").
std::optional<double> number_at(const json& object, std::string_view key);
// obj[a][b] as a number, or nullopt.
std::optional<double> number_at(const json& object, std::string_view a, std::string_view b);
// A string field, or "" when absent or not a string.
std::string string_at(const json& object, std::string_view key);

}  // namespace gw::eval
