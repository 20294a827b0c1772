#include "gateway/completion/whole_completion.hpp"

#include <vector>

#include "gateway/completion/json_members.hpp"
#include "gateway/completion/json_parser.hpp"

namespace gw::chat {

namespace {

using json = nlohmann::json;

// ---- the fast path: simdjson validates, nlohmann's lexer is not run -----------------------

// Bounded: a larger answer goes through nlohmann's SAX parser (memory a small multiple of the
// body whatever its shape), not through the per-thread parser, whose buffers would keep the size
// of the largest answer seen. Chat answers are a few KiB.
constexpr std::size_t kMaxFastAnswerBytes = 1024 * 1024;

// Whether simdjson accepts `body` under the depth limit the SAX readers would apply. When not
// (a byte-order mark, an integer beyond 64 bits, a large answer...), the SAX reader decides.
bool fast_parses(std::string_view body, int max_depth, simdjson::dom::element& root) {
  return body.size() <= kMaxFastAnswerBytes && max_depth == http::kMaxJsonDepth &&
         thread_json_parser_depth_limited() &&
         thread_json_parser().parse(body.data(), body.size()).get(root) == simdjson::SUCCESS;
}

// A validated document fed to a SAX reader in document order, as nlohmann's parser feeds it
// (non-negative integers as unsigned; a key sent twice, twice). The recursion is bounded by the
// parser's depth limit. Floats come without their digits: the facts reader does not need them.
bool feed(simdjson::dom::element e, nlohmann::json_sax<json>& sax) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::OBJECT: {
      simdjson::dom::object object = e.get_object().value_unsafe();
      if (!sax.start_object(object.size())) return false;
      for (auto field : object) {
        std::string key(field.key);
        if (!sax.key(key) || !feed(field.value, sax)) return false;
      }
      return sax.end_object();
    }
    case Type::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();
      if (!sax.start_array(array.size())) return false;
      for (auto element : array) {
        if (!feed(element, sax)) return false;
      }
      return sax.end_array();
    }
    case Type::INT64: {
      const std::int64_t v = e.get_int64().value_unsafe();
      return v >= 0 ? sax.number_unsigned(static_cast<std::uint64_t>(v)) : sax.number_integer(v);
    }
    case Type::UINT64:
      return sax.number_unsigned(e.get_uint64().value_unsafe());
    case Type::DOUBLE: {
      const std::string no_digits;
      return sax.number_float(e.get_double().value_unsafe(), no_digits);
    }
    case Type::STRING: {
      std::string text(e.get_string().value_unsafe());
      return sax.string(text);
    }
    case Type::BOOL:
      return sax.boolean(e.get_bool().value_unsafe());
    case Type::NULL_VALUE:
      return sax.null();
  }
  return false;
}

// `body` with its top-level "model" set to `model` (when it has one and `model` is not empty),
// every other byte as the upstream sent it; nullopt when its members cannot be copied as they
// are (see raw_members).
std::optional<std::string> with_model(std::string_view body, std::string_view model) {
  auto members = raw_members(body);
  if (!members) return std::nullopt;
  if (!model.empty()) {
    for (const RawMember& m : *members) {
      if (m.key != "model") continue;
      const auto at = static_cast<std::size_t>(m.bytes.data() - body.data());
      std::string out;
      out.reserve(body.size() + model.size());
      out.append(body.substr(0, at)).append("\"model\":");
      http::append_json_string(out, model);
      out.append(body.substr(at + m.bytes.size()));
      return out;
    }
  }
  return std::string(body);
}

// ---- reading -----------------------------------------------------------------------------

// What a container is to the reader, from its place in the body.
enum class Role {
  root,
  usage,       // root.usage
  choices,     // root.choices
  choice0,     // choices[0]
  message,     // choices[0].message
  logprobs,    // choices[0].logprobs
  lp_content,  // choices[0].logprobs.content
  lp_entry,    // choices[0].logprobs.content[i], i > 0: only its "logprob" is read
  kept,        // kept as a small JSON value (tool calls, the first token's entry)
  ignored,
};

struct ReadFrame {
  Role role = Role::ignored;
  bool array = false;
  std::size_t index = 0;  // arrays: the index of the next element
  std::string key;        // objects: the key of the value being read
  json* kept = nullptr;   // Role::kept: the value being built
  bool lp_entry = false;  // a logprobs.content entry (its "logprob" is collected)
};

// Reads choices[0] into a reduced completion, {"choices":[{message, finish_reason, logprobs:
// {content:[first entry]}}]}, and every token's logprob into a vector: read_completion() then
// reads the reduced body as it reads a whole one, without the rest ever being a tree.
class CompletionFactsReader : public nlohmann::json_sax<json> {
 public:
  explicit CompletionFactsReader(int max_depth) : max_depth_(max_depth) {}

  bool seen_choice0 = false;
  bool seen_message = false;
  json message = json::object();
  json finish_reason;  // null unless a string
  json first_entry;    // choices[0].logprobs.content[0]; null when absent
  std::vector<double> logprobs;
  Usage usage;

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool v) override { return scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(json(v)); }
  bool string(string_t& v) override { return scalar(json(std::move(v))); }
  bool binary(binary_t&) override { return scalar(json(nullptr)); }

  bool key(string_t& k) override {
    frames_.back().key = std::move(k);
    return true;
  }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // The value now starting, seen from its parent: the parent's role, its key or index.
  bool is(Role parent, std::string_view key) const {
    const ReadFrame& p = frames_.back();
    return p.role == parent && !p.array && p.key == key;
  }

  // A new JSON value under the kept value of the current frame (its key or the next element).
  json* keep(json value) {
    if (++kept_values_ > kMaxKeptJsonValues) return nullptr;
    ReadFrame& p = frames_.back();
    if (p.array) {
      p.kept->push_back(std::move(value));
      return &p.kept->back();
    }
    json& slot = (*p.kept)[p.key];
    slot = std::move(value);
    return &slot;
  }

  bool scalar(json v) {
    if (frames_.empty()) return true;  // a bare scalar body: nothing to read
    ReadFrame& p = frames_.back();
    bool ok = true;
    if (p.role == Role::kept) {
      if (p.lp_entry && !p.array && p.key == "logprob" && v.is_number()) {
        logprobs.push_back(v.get<double>());
      }
      ok = keep(std::move(v)) != nullptr;
    } else if (p.role == Role::usage && !p.array) {
      if (p.key == "prompt_tokens" && v.is_number_unsigned()) {
        usage.prompt_tokens = v.get<std::uint64_t>();
      } else if (p.key == "completion_tokens" && v.is_number_unsigned()) {
        usage.completion_tokens = v.get<std::uint64_t>();
      }
    } else if (is(Role::choice0, "finish_reason")) {
      finish_reason = std::move(v);
    } else if (p.role == Role::message && !p.array && (p.key == "content" || p.key == "refusal")) {
      message[p.key] = std::move(v);
    } else if (p.role == Role::lp_entry && !p.array && p.key == "logprob" && v.is_number()) {
      logprobs.push_back(v.get<double>());
    }
    if (p.array) ++p.index;
    return ok;
  }

  bool open(bool array) {
    if (static_cast<int>(frames_.size()) >= max_depth_) return false;  // aborts the parse
    ReadFrame next;
    next.array = array;
    if (frames_.empty()) {
      next.role = Role::root;
    } else {
      ReadFrame& p = frames_.back();
      if (p.role == Role::kept) {
        next.role = Role::kept;
        next.kept = keep(array ? json::array() : json::object());
        if (!next.kept) return false;
      } else if (is(Role::root, "usage") && !array) {
        next.role = Role::usage;
        usage = Usage{};
        usage.present = true;
      } else if (is(Role::root, "choices") && array) {
        next.role = Role::choices;
      } else if (p.role == Role::choices && p.index == 0 && !array) {
        next.role = Role::choice0;
        seen_choice0 = true;
      } else if (is(Role::choice0, "message") && !array) {
        next.role = Role::message;
        seen_message = true;
      } else if (is(Role::choice0, "logprobs") && !array) {
        next.role = Role::logprobs;
      } else if (is(Role::logprobs, "content") && array) {
        next.role = Role::lp_content;
      } else if (p.role == Role::lp_content && !array && p.index == 0) {
        // The first token's entry whole: its alternatives (top_logprobs) tell the margin.
        next.role = Role::kept;
        next.lp_entry = true;
        first_entry = json::object();
        next.kept = &first_entry;
      } else if (p.role == Role::lp_content && !array) {
        next.role = Role::lp_entry;
      } else if (p.role == Role::message && !p.array &&
                 (p.key == "tool_calls" || p.key == "function_call")) {
        next.role = Role::kept;
        json& slot = message[p.key];
        slot = array ? json::array() : json::object();
        next.kept = &slot;
      }
    }
    frames_.push_back(std::move(next));
    return true;
  }

  bool close() {
    frames_.pop_back();
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }

  int max_depth_;
  std::vector<ReadFrame> frames_;
  std::size_t kept_values_ = 0;
};

// ---- rewriting ---------------------------------------------------------------------------

// choices[*].logprobs.content[*].top_logprobs is `top`.
enum class EmitRole { root, choices, choice, usage, logprobs, lp_content, lp_entry, top, other };

struct EmitFrame {
  EmitRole role = EmitRole::other;
  bool array = false;
  bool first = true;      // no member or element emitted yet
  std::size_t count = 0;  // arrays: elements seen (emitted or not)
};

// Re-emits the body's SAX events as compact JSON, with the edits applied on the way.
class CompletionRewriter : public nlohmann::json_sax<json> {
 public:
  CompletionRewriter(const CompletionEdits& edits, int max_depth, std::size_t size_hint)
      : edits_(edits), max_depth_(max_depth) {
    out.reserve(size_hint + 64);
  }

  std::string out;

  bool null() override {
    return scalar([&] { out += "null"; });
  }
  bool boolean(bool v) override {
    return scalar([&] { out += v ? "true" : "false"; });
  }
  bool number_integer(number_integer_t v) override {
    return scalar([&] { out += std::to_string(v); });
  }
  bool number_unsigned(number_unsigned_t v) override {
    return scalar([&] { out += std::to_string(v); });
  }
  bool number_float(number_float_t, const string_t& s) override {
    return scalar([&] { out += s; });  // the upstream's own digits
  }
  bool string(string_t& v) override {
    return scalar([&] { http::append_json_string(out, v); });
  }
  bool binary(binary_t&) override {
    return scalar([&] { out += "null"; });
  }

  bool key(string_t& k) override {
    if (skip_depth_ > 0) return true;
    EmitFrame& f = frames_.back();
    if (!f.first) out += ',';
    f.first = false;
    http::append_json_string(out, k);
    out += ':';
    key_ = std::move(k);
    if (f.role == EmitRole::root && key_ == "model" && !edits_.model.empty()) {
      http::append_json_string(out, edits_.model);
      skip_next_ = true;
    } else if (f.role == EmitRole::choice && key_ == "logprobs" && edits_.strip_logprobs) {
      out += "null";
      skip_next_ = true;
    } else if (f.role == EmitRole::root && key_ == "usage" && edits_.usage) {
      usage_seen_ = true;
      usage_next_ = true;
    } else if (f.role == EmitRole::usage && edits_.usage && usage_key(key_)) {
      out += std::to_string(usage_count(*edits_.usage, key_));
      skip_next_ = true;
    }
    return true;
  }

  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close('}'); }
  bool end_array() override { return close(']'); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  static bool usage_key(std::string_view k) {
    return k == "prompt_tokens" || k == "completion_tokens" || k == "total_tokens";
  }
  // The usage is a parameter, not read from edits_ here: only a caller that checked it has one.
  std::uint64_t usage_count(const Usage& u, std::string_view k) {
    if (k == "prompt_tokens") {
      seen_prompt_ = true;
      return u.prompt_tokens;
    }
    if (k == "completion_tokens") {
      seen_completion_ = true;
      return u.completion_tokens;
    }
    seen_total_ = true;
    return u.prompt_tokens + u.completion_tokens;
  }
  void append_missing_usage(const Usage& u, bool first) {
    auto member = [&](const char* name, std::uint64_t v, bool seen) {
      if (seen) return;
      if (!first) out += ',';
      first = false;
      out.append("\"").append(name).append("\":").append(std::to_string(v));
    };
    member("prompt_tokens", u.prompt_tokens, seen_prompt_);
    member("completion_tokens", u.completion_tokens, seen_completion_);
    member("total_tokens", u.prompt_tokens + u.completion_tokens, seen_total_);
  }
  // Called only with a usage to write (usage_next_ and usage_seen_ are set only then).
  void emit_usage_object() {
    seen_prompt_ = seen_completion_ = seen_total_ = false;
    out += '{';
    if (edits_.usage) append_missing_usage(*edits_.usage, true);
    out += '}';
  }

  // A value starts (not inside a skipped container): the comma before an array element; false
  // when the value is not emitted (a container is then skipped whole).
  bool begin_value() {
    if (skip_next_) {
      skip_next_ = false;
      return false;
    }
    if (!frames_.empty() && frames_.back().array) {
      EmitFrame& f = frames_.back();
      const std::size_t index = f.count++;
      if (f.role == EmitRole::top && edits_.keep_top_logprobs &&
          index >= *edits_.keep_top_logprobs) {
        return false;
      }
      if (!f.first) out += ',';
      f.first = false;
    }
    return true;
  }

  template <class Emit>
  bool scalar(Emit emit) {
    if (usage_next_ && skip_depth_ == 0) {  // "usage" that is not an object: replaced
      usage_next_ = false;
      emit_usage_object();
      return true;
    }
    if (skip_depth_ == 0 && begin_value()) emit();
    return true;
  }

  bool open(bool array) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    if (usage_next_) {
      usage_next_ = false;
      if (array) {  // "usage" that is not an object: replaced, its contents skipped
        emit_usage_object();
        skip_depth_ = 1;
        return true;
      }
    }
    if (!begin_value()) {
      skip_depth_ = 1;
      return true;
    }
    if (static_cast<int>(frames_.size()) >= max_depth_) return false;
    EmitRole role = EmitRole::other;
    if (frames_.empty()) {
      role = EmitRole::root;
    } else {
      const EmitFrame& p = frames_.back();
      if (p.role == EmitRole::root && !array && key_ == "usage") {
        role = EmitRole::usage;
        seen_prompt_ = seen_completion_ = seen_total_ = false;
      } else if (p.role == EmitRole::root && array && key_ == "choices") {
        role = EmitRole::choices;
      } else if (p.role == EmitRole::choices && !array) {
        role = EmitRole::choice;
      } else if (p.role == EmitRole::choice && !array && key_ == "logprobs") {
        role = EmitRole::logprobs;
      } else if (p.role == EmitRole::logprobs && array && key_ == "content") {
        role = EmitRole::lp_content;
      } else if (p.role == EmitRole::lp_content && !array) {
        role = EmitRole::lp_entry;
      } else if (p.role == EmitRole::lp_entry && array && key_ == "top_logprobs") {
        role = EmitRole::top;
      }
    }
    EmitFrame frame;
    frame.role = role;
    frame.array = array;
    frames_.push_back(frame);
    out += array ? '[' : '{';
    return true;
  }

  bool close(char bracket) {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    const EmitFrame f = frames_.back();
    frames_.pop_back();
    if (f.role == EmitRole::usage && edits_.usage) append_missing_usage(*edits_.usage, f.first);
    if (f.role == EmitRole::root && !f.array && edits_.usage && !usage_seen_) {
      if (!f.first) out += ',';
      out += "\"usage\":";
      emit_usage_object();
    }
    out += bracket;
    return true;
  }

  const CompletionEdits& edits_;
  int max_depth_;
  std::vector<EmitFrame> frames_;
  std::string key_;
  int skip_depth_ = 0;       // inside a skipped container
  bool skip_next_ = false;   // the next value is skipped (its replacement is out already)
  bool usage_next_ = false;  // the next value is the top-level usage (edited)
  bool usage_seen_ = false;
  bool seen_prompt_ = false, seen_completion_ = false, seen_total_ = false;
};

}  // namespace

std::optional<CompletionFacts> read_completion_facts(std::string_view body, int max_depth) {
  CompletionFactsReader reader(max_depth);
  simdjson::dom::element root;
  const bool read = fast_parses(body, max_depth, root)
                        ? feed(root, reader)
                        : json::sax_parse(body, &reader, json::input_format_t::json, true, false);
  if (!read) return std::nullopt;
  if (!reader.seen_choice0 || !reader.seen_message) return std::nullopt;
  json choice = {{"message", std::move(reader.message)},
                 {"finish_reason", std::move(reader.finish_reason)}};
  if (!reader.first_entry.is_null()) {
    choice["logprobs"] = {{"content", json::array({std::move(reader.first_entry)})}};
  }
  json reduced = {{"choices", json::array({std::move(choice)})}};
  auto draft = read_completion(reduced);
  if (!draft) return std::nullopt;
  CompletionFacts facts{std::move(*draft), reader.usage};
  facts.draft.logprobs = std::move(reader.logprobs);
  facts.draft.tokens = facts.draft.logprobs.size();
  return facts;
}

std::optional<std::string> rewrite_completion(std::string_view body, const CompletionEdits& edits,
                                              int max_depth) {
  // The usual edit, the routed model's name alone, is a splice: no re-serialisation.
  simdjson::dom::element root;
  if (!edits.strip_logprobs && !edits.usage && !edits.keep_top_logprobs &&
      fast_parses(body, max_depth, root)) {
    if (auto out = with_model(body, edits.model)) return out;
  }
  CompletionRewriter writer(edits, max_depth, body.size());
  if (!json::sax_parse(body, &writer, json::input_format_t::json, true, false)) return std::nullopt;
  return std::move(writer.out);
}

}  // namespace gw::chat
