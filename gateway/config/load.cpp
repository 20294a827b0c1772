#include "gateway/config/load.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gateway/config/loader.hpp"

namespace gw::config {

namespace detail {

void Loader::load(const YAML::Node& root, Config& config) {
  bool has_models = false;
  Entry top{YAML::Mark::null_mark(), root, ""};
  read_mapping(top, {
                        {"server", [&](const Entry& e) { read_server(e, config.server); }},
                        {"cors", [&](const Entry& e) { read_cors(e, config.cors); }},
                        {"auth", [&](const Entry& e) { read_auth(e, config.auth); }},
                        {"models",
                         [&](const Entry& e) {
                           has_models = true;
                           read_models(e, config.models);
                         }},
                        {"routing", [&](const Entry& e) { read_routing(e, config.routing); }},
                    });
  if (!has_models && (root.IsMap() || root.IsNull())) {
    report(root.IsNull() ? YAML::Mark::null_mark() : root.Mark(),
           "missing required key 'models' (at least one upstream model)");
  }
  check_cross_fields(config);
}

}  // namespace detail

std::string Problem::str() const {
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

namespace {

using detail::kMaxConfigFileBytes;

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): load time
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// Where each YAML document of a file starts; nothing else is kept.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// A config file holds one document. Documents are counted, at most two, instead of calling
// YAML::LoadAll: Debian's yaml-cpp 0.7 reports an empty document at the same position for ever
// on some malformed input (a leading ','; yaml-cpp #1040), and LoadAll then never returns.
constexpr std::size_t kMaxDocumentsCounted = 2;

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& source_name,
                       const EnvLookup& env) {
  LoadResult result;
  YAML::Node document;
  std::optional<YAML::Mark> second_document;
  try {
    std::istringstream in{std::string(yaml)};
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks.size() < kMaxDocumentsCounted && parser.HandleNextDocument(starts)) {
    }
    if (starts.marks.size() == kMaxDocumentsCounted &&
        starts.marks[1].pos <= starts.marks[0].pos) {  // the parser made no progress
      const auto& at = starts.marks[0];
      const auto pos = static_cast<std::size_t>(at.pos);
      std::string what = pos < yaml.size() ? "'" + std::string(1, yaml[pos]) + "'" : "end of file";
      result.problems.push_back(
          {source_name, at.line + 1, at.column + 1, "YAML syntax error: unexpected " + what});
      return result;
    }
    if (!starts.marks.empty()) document = YAML::Load(std::string(yaml));
    if (starts.marks.size() > 1) second_document = starts.marks[1];
  } catch (const YAML::Exception& e) {
    Problem p{source_name, 0, 0, "YAML syntax error: " + e.msg};
    if (!e.mark.is_null()) {
      p.line = e.mark.line + 1;
      p.column = e.mark.column + 1;
    }
    result.problems.push_back(std::move(p));
    return result;
  }

  auto config = std::make_shared<Config>();
  config->source = source_name;
  detail::Loader loader(source_name, env ? env : EnvLookup(process_env));
  loader.load(document, *config);
  result.problems = loader.take_problems();
  if (second_document) {
    result.problems.push_back({source_name, second_document->line + 1, second_document->column + 1,
                               "only one YAML document is allowed per file"});
  }
  if (result.problems.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_file(const std::string& path, const EnvLookup& env) {
  auto cannot_read = [&](const std::string& why) {
    LoadResult result;
    result.problems.push_back({path, 0, 0, "cannot read configuration: " + why});
    return result;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return cannot_read("is a directory");
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxConfigFileBytes) {
    return cannot_read("larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return cannot_read(std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  // Bounded while reading too: a pipe or a device has no size to check first.
  std::string text;
  std::array<char, 64 * 1024> chunk;
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return cannot_read("larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
    }
  }
  if (in.bad()) return cannot_read(std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
  return load_string(text, path, env);
}

}  // namespace gw::config
