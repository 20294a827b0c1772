#include "evaluation/routellm_import.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

#include "base/utf8.hpp"
#include "evaluation/cli_args.hpp"
#include "evaluation/outcome.hpp"

namespace gw::eval {
namespace {

using nlohmann::json;

std::uint64_t estimated_tokens(const std::string& text) {
  return (utf8::code_points(text) + 3) / 4;  // as the gateway estimates (a token per 4 chars)
}

json arm(std::string_view model, const std::string& prompt, const std::string& text, double score,
         std::optional<bool> correct) {
  json q = {{"score", score}, {"source", "routellm"}};
  if (correct) q["correct"] = *correct;
  return {{"model", model},
          {"status", 200},
          {"error", nullptr},
          {"text", text},
          {"finish_reason", nullptr},
          {"kind", "text"},
          {"usage",
           {{"prompt_tokens", estimated_tokens(prompt)},
            {"completion_tokens", estimated_tokens(text)},
            {"estimated", true}}},
          {"logprobs", nullptr},
          {"cost_usd", nullptr},
          {"quality", q}};
}

json outcome_row(const std::string& id, const std::string& domain, const std::string& source,
                 const std::string& prompt, json draft, json large) {
  const std::string safe_prompt = utf8::sanitize(prompt);
  return {{"schema", kOutcomeSchema},
          {"id", id},
          {"domain", domain},
          {"tags", json::array({"routellm"})},
          {"prompt", safe_prompt},
          {"prompt_chars", utf8::code_points(prompt)},
          {"reference", json::object()},
          {"source", source},
          {"arms", {{"draft", std::move(draft)}, {"escalate", std::move(large)}}}};
}

bool parse_bool(const std::string& s) {
  if (s == "True" || s == "true" || s == "1") return true;
  if (s == "False" || s == "false" || s == "0") return false;
  throw std::runtime_error("expected True or False, got \"" + s + "\"");
}

// The first assistant answer inside an MT-Bench judge prompt.
std::string first_answer(const std::string& judge_prompt) {
  static const std::string kStart = "### Assistant A:\n";
  const auto a = judge_prompt.find(kStart);
  if (a == std::string::npos) return {};
  const auto from = a + kStart.size();
  auto end = judge_prompt.find("\n\n### User:", from);
  if (end == std::string::npos) end = judge_prompt.find("\n\n<|The End of Assistant A", from);
  std::string text =
      judge_prompt.substr(from, end == std::string::npos ? std::string::npos : end - from);
  return text;
}

std::string first_question(const std::string& judge_prompt) {
  static const std::string kStart = "### User:\n";
  const auto a = judge_prompt.find(kStart);
  if (a == std::string::npos) return {};
  const auto from = a + kStart.size();
  const auto end = judge_prompt.find("\n\n### Assistant A:", from);
  return judge_prompt.substr(from, end == std::string::npos ? std::string::npos : end - from);
}

}  // namespace

std::vector<std::vector<std::string>> read_csv(std::istream& in) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && in.peek() == '\n') in.get(c);
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      any = false;
    } else {
      field += c;
    }
    if (field.size() > kMaxCsvFieldBytes) throw std::runtime_error("CSV field too long");
  }
  if (quoted) throw std::runtime_error("CSV: unterminated quoted field");
  if (any) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

std::set<std::string> read_contaminated(const std::vector<std::string>& paths) {
  std::set<std::string> out;
  for (const auto& path : paths) {
    std::ifstream probe(path);
    if (!probe) throw std::runtime_error("cannot read " + path);
    for (const auto& row : read_jsonl(path).rows) {
      auto it = row.find("eval_prompt");
      if (it != row.end() && it->is_string()) out.insert(it->get<std::string>());
    }
  }
  return out;
}

std::vector<json> import_gsm8k(const std::string& csv_path,
                               const std::set<std::string>& contaminated, ImportCounts& counts) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + csv_path);
  const auto records = read_csv(in);
  if (records.empty()) throw std::runtime_error(csv_path + ": empty");
  const auto& head = records.front();
  if (head.size() < 5 || head[0] != "prompt") {
    throw std::runtime_error(
        csv_path + ": expected the columns prompt, WEAK, STRONG, WEAK_response, STRONG_response");
  }
  std::vector<json> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.size() == 1 && r[0].empty()) continue;
    if (r.size() < 5)
      throw std::runtime_error(csv_path + ": record " + std::to_string(i) + " has " +
                               std::to_string(r.size()) + " fields");
    ++counts.read;
    if (contaminated.count(r[0])) {
      ++counts.dropped_contaminated;
      continue;
    }
    const bool weak_ok = parse_bool(r[1]), strong_ok = parse_bool(r[2]);
    char id[32];
    std::snprintf(id, sizeof id, "gsm8k-%04zu", i);
    rows.push_back(outcome_row(id, "gsm8k", "routellm-gsm8k", r[0],
                               arm(head[1], r[0], r[3], weak_ok ? 1.0 : 0.0, weak_ok),
                               arm(head[2], r[0], r[4], strong_ok ? 1.0 : 0.0, strong_ok)));
    ++counts.written;
  }
  return rows;
}

std::vector<json> import_mtbench(const std::string& judgements_path,
                                 const std::string& questions_path,
                                 const std::set<std::string>& contaminated, ImportCounts& counts) {
  std::ifstream probe(judgements_path);
  if (!probe) throw std::runtime_error("cannot read " + judgements_path);
  struct ModelScores {
    double sum = 0;
    int n = 0;
    std::string first_answer;
  };
  struct Question {
    std::string first_turn, second_turn;
    std::map<std::string, ModelScores> models;
  };
  std::map<long long, Question> questions;
  for (const auto& j : read_jsonl(judgements_path).rows) {
    const auto qid = number_at(j, "question_id");
    const auto score = number_at(j, "score");
    const std::string model = string_at(j, "model");
    if (!qid || !score || model.empty() || *score < 1) continue;  // -1: the judge failed
    Question& q = questions[static_cast<long long>(*qid)];
    ModelScores& m = q.models[model];
    m.sum += *score;
    ++m.n;
    const std::string prompt = string_at(j, "user_prompt");
    if (number_at(j, "turn").value_or(1) == 1 || m.first_answer.empty()) {
      if (auto a = first_answer(prompt); !a.empty()) m.first_answer = a;
    }
    if (q.first_turn.empty()) q.first_turn = first_question(prompt);
  }
  if (!questions_path.empty()) {
    for (const auto& j : read_jsonl(questions_path).rows) {
      const auto qid = number_at(j, "question_id");
      auto turns = j.find("turns");
      if (!qid || turns == j.end() || !turns->is_array()) continue;
      auto it = questions.find(static_cast<long long>(*qid));
      if (it == questions.end()) continue;
      if (turns->size() > 0 && (*turns)[0].is_string()) it->second.first_turn = (*turns)[0];
      if (turns->size() > 1 && (*turns)[1].is_string()) it->second.second_turn = (*turns)[1];
    }
  }
  std::vector<json> rows;
  for (const auto& [qid, q] : questions) {
    ++counts.read;
    if (contaminated.count(q.first_turn) ||
        (!q.second_turn.empty() && contaminated.count(q.second_turn))) {
      ++counts.dropped_contaminated;
      continue;
    }
    auto weak = q.models.find(std::string(kRouteLlmWeak));
    auto strong = q.models.find(std::string(kRouteLlmStrong));
    if (weak == q.models.end() || strong == q.models.end()) continue;
    const auto scaled = [](const ModelScores& m) { return (m.sum / m.n - 1) / 9; };
    rows.push_back(outcome_row("mtbench-" + std::to_string(qid), "mt-bench", "routellm-mtbench",
                               q.first_turn,
                               arm(kRouteLlmWeak, q.first_turn, weak->second.first_answer,
                                   scaled(weak->second), std::nullopt),
                               arm(kRouteLlmStrong, q.first_turn, strong->second.first_answer,
                                   scaled(strong->second), std::nullopt)));
    ++counts.written;
  }
  return rows;
}

int import_command(int argc, char** argv) {
  constexpr const char* kUsage =
      "usage: hybrid-gateway eval import routellm [--gsm8k CSV] [--mtbench JUDGEMENTS.jsonl]\n"
      "         [--mtbench-questions question.jsonl] [--contaminated FILE.jsonl]... --out "
      "ROWS.jsonl\n";
  try {
    if (argc < 4 || std::string_view(argv[3]) != "routellm") {
      if (argc >= 4 &&
          (std::string_view(argv[3]) == "--help" || std::string_view(argv[3]) == "-h")) {
        std::fputs(kUsage, stdout);
        return 0;
      }
      throw UsageError("the only source is 'routellm'");
    }
    std::string gsm8k, mtbench, questions, out;
    std::vector<std::string> contaminated_paths;
    CliArgs args(argc, argv, 4);
    while (args.more()) {
      const auto flag = args.flag();
      if (flag == "--gsm8k") {
        gsm8k = args.value();
      } else if (flag == "--mtbench") {
        mtbench = args.value();
      } else if (flag == "--mtbench-questions") {
        questions = args.value();
      } else if (flag == "--contaminated") {
        contaminated_paths.push_back(args.value());
      } else if (flag == "--out") {
        out = args.value();
      } else if (flag == "--help" || flag == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else {
        throw UsageError("unknown flag " + std::string(flag));
      }
    }
    if (out.empty() || (gsm8k.empty() && mtbench.empty())) {
      throw UsageError("--out and at least one of --gsm8k, --mtbench are required");
    }
    const auto contaminated = read_contaminated(contaminated_paths);
    std::vector<json> rows;
    ImportCounts counts;
    if (!gsm8k.empty()) {
      auto g = import_gsm8k(gsm8k, contaminated, counts);
      rows.insert(rows.end(), g.begin(), g.end());
    }
    if (!mtbench.empty()) {
      auto m = import_mtbench(mtbench, questions, contaminated, counts);
      rows.insert(rows.end(), m.begin(), m.end());
    }
    write_jsonl_atomically(out, rows);
    std::printf("read %zu, dropped as contaminated %zu, wrote %zu rows to %s\n", counts.read,
                counts.dropped_contaminated, counts.written, out.c_str());
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hybrid-gateway eval import: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hybrid-gateway eval import: %s\n", e.what());
    return 1;
  }
}

}  // namespace gw::eval
