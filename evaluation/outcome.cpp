#include "evaluation/outcome.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace gw::eval {
namespace {

std::runtime_error io_error(const std::string& what, const std::string& path) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the evaluation commands read and write on one thread
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

// Cuts everything after the last '\n' (a partial row from a killed writer).
void cut_partial_tail(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return;
  std::ifstream in(path, std::ios::binary);
  // Scan back in blocks for the last newline.
  constexpr std::uintmax_t kBlockBytes = 64 * 1024;
  std::uintmax_t end = size;
  std::string block;
  while (end > 0) {
    const std::uintmax_t begin = end > kBlockBytes ? end - kBlockBytes : 0;
    block.resize(static_cast<size_t>(end - begin));
    in.seekg(static_cast<std::streamoff>(begin));
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto nl = block.rfind('\n');
    if (nl != std::string::npos) {
      const std::uintmax_t keep = begin + nl + 1;
      if (keep != size) std::filesystem::resize_file(path, keep);
      return;
    }
    end = begin;
  }
  std::filesystem::resize_file(path, 0);  // not one complete line
}

}  // namespace

JsonlFile read_jsonl(const std::string& path) {
  JsonlFile out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) {  // getline hit the end before a '\n': a partial last line
      out.dropped_partial_tail = !line.empty();
      break;
    }
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > kMaxJsonlLineBytes) {
      out.problems.push_back(path + ":" + std::to_string(number) + ": line too long");
      continue;
    }
    json row = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (row.is_discarded() || !row.is_object()) {
      out.problems.push_back(path + ":" + std::to_string(number) + ": not a JSON object");
      continue;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

JsonlWriter::JsonlWriter(const std::string& path, bool truncate) : path_(path) {
  if (!truncate) cut_partial_tail(path);
  file_ = std::fopen(path.c_str(), truncate ? "wb" : "ab");
  if (file_ == nullptr) throw io_error("cannot open", path);
}

JsonlWriter::~JsonlWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void JsonlWriter::write(const json& row) {
  // Invalid UTF-8 in an answer is replaced, not thrown: the row must still be written.
  std::string line = row.dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  std::lock_guard lock(mutex_);
  // One fwrite + fflush per row: a kill leaves at most the last row partial.
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    throw io_error("cannot write", path_);
  }
}

void write_jsonl_atomically(const std::string& path, const std::vector<json>& rows) {
  const std::string tmp = path + ".tmp";
  {
    JsonlWriter writer(tmp, /*truncate=*/true);
    for (const json& row : rows) writer.write(row);
  }
  std::filesystem::rename(tmp, path);
}

const json* find_arm(const json& row, std::string_view arm) {
  auto arms = row.find("arms");
  if (arms == row.end() || !arms->is_object()) return nullptr;
  auto it = arms->find(arm);
  return it == arms->end() || !it->is_object() ? nullptr : &*it;
}

json* find_arm(json& row, std::string_view arm) {
  return const_cast<json*>(find_arm(static_cast<const json&>(row), arm));
}

std::optional<double> number_at(const json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<double> number_at(const json& object, std::string_view a, std::string_view b) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(a);
  if (it == object.end()) return std::nullopt;
  return number_at(*it, b);
}

std::string string_at(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace gw::eval
