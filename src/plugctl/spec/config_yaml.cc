#include "plugctl/spec/config_yaml.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace plugctl::spec {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// Thrown from inside the yaml-cpp event callbacks to stop parsing; caught in LoadYaml and
// never seen outside this file.
struct YamlAbort {
  ErrorCode code;
  std::string message;
  int line;  // 1-based, 0 if unknown
};

// Returns the offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == 0) return i;  // NUL is never valid YAML and confuses C-string code paths
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                         : (c >= '0' && c < static_cast<char>('0' + base));
    if (!ok) return false;
  }
  return true;
}

// YAML 1.2 core schema integer: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+.
std::optional<nlohmann::json> ParseCoreInt(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  bool negative = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    digits = s.substr(2);
  } else if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    digits = s.substr(1);
  }
  if (!AllDigits(digits, base)) return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc() && ptr == digits.data() + digits.size()) {
    if (!negative) {
      if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return nlohmann::json(static_cast<int64_t>(magnitude));
      }
      return nlohmann::json(magnitude);
    }
    if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      return nlohmann::json(static_cast<int64_t>(0 - magnitude));
    }
  }
  // Too large for 64 bits: still an integer to a schema, kept as a float.
  double value = 0;
  for (char c : digits) {
    int d = std::isdigit(static_cast<unsigned char>(c))
                ? c - '0'
                : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    value = value * base + d;
  }
  return nlohmann::json(negative ? -value : value);
}

// YAML 1.2 core schema float:
// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?, [-+]?\.inf, \.nan.
std::optional<nlohmann::json> ParseCoreFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    return nlohmann::json(std::numeric_limits<double>::quiet_NaN());
  }
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    double inf = std::numeric_limits<double>::infinity();
    return nlohmann::json(negative ? -inf : inf);
  }
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < body.size() && std::isdigit(static_cast<unsigned char>(body[i]))) ++i;
    return i - start;
  };
  size_t before = digits();
  size_t after = 0;
  if (i < body.size() && body[i] == '.') {
    ++i;
    after = digits();
  }
  if (before == 0 && after == 0) return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves `value` alone on range errors: overflow is ±inf, underflow 0.
    bool tiny = body.find_first_of("eE") != std::string_view::npos &&
                body.find("e-") != std::string_view::npos;
    value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (ec != std::errc() || ptr != body.data() + body.size()) {
    return std::nullopt;
  }
  return nlohmann::json(negative ? -value : value);
}

std::optional<bool> ParseCoreBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool IsCoreNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// A plain scalar under the YAML 1.2 core schema.
nlohmann::json ResolvePlain(const std::string& s) {
  if (IsCoreNull(s)) return nullptr;
  if (auto b = ParseCoreBool(s)) return *b;
  if (auto i = ParseCoreInt(s)) return *i;
  if (auto f = ParseCoreFloat(s)) return *f;
  return s;
}

// How a YAML 1.1 reader (kubectl's go-yaml v2, SnakeYAML in the Higress console) would read a
// plain scalar differently from YAML 1.2; empty if it would not.
std::string Yaml11Difference(std::string_view s) {
  static constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
  for (std::string_view t : kTrue) {
    if (s == t) return "the boolean true";
  }
  for (std::string_view f : kFalse) {
    if (s == f) return "the boolean false";
  }
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  if (body.size() > 1 && body[0] == '0' && AllDigits(body, 10)) {
    return AllDigits(body, 8) ? "an octal number" : "a string";
  }
  if (body.size() > 2 && body[0] == '0' && body[1] == 'b' &&
      body.find_first_not_of("01_", 2) == std::string_view::npos) {
    return "a binary number";
  }
  if (!body.empty() && std::isdigit(static_cast<unsigned char>(body[0])) &&
      body.find('_') != std::string_view::npos &&
      body.find_first_not_of("0123456789_.", 0) == std::string_view::npos) {
    return "a number";
  }
  // Sexagesimal: [1-9][0-9_]*(:[0-5]?[0-9])+ ("1:30" is 90).
  size_t colon = body.find(':');
  if (colon != std::string_view::npos && colon > 0 && body[0] != '0' &&
      AllDigits(body.substr(0, colon), 10)) {
    bool sexagesimal = true;
    std::string_view rest = body.substr(colon);
    while (!rest.empty() && sexagesimal) {
      rest.remove_prefix(1);  // ':'
      size_t end = rest.find(':');
      std::string_view part = rest.substr(0, end);
      sexagesimal = !part.empty() && part.size() <= 2 && AllDigits(part, 10) &&
                    (part.size() == 1 || part[0] <= '5');
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (sexagesimal) return "a base-60 number";
  }
  return {};
}

// Builds JSON values from yaml-cpp parser events, one document at a time.
class JsonBuilder final : public YAML::EventHandler {
 public:
  explicit JsonBuilder(const YamlLimits& limits) : limits_(limits) {}

  // Takes the finished document out of the builder.
  YamlDocument TakeDocument() {
    YamlDocument doc = std::move(doc_);
    doc_ = YamlDocument();
    anchors_.clear();
    return doc;
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) {
      SetKey("null", mark);
      return;
    }
    Slot slot = NextSlot(mark);
    CountValues(1, mark);
    Place(nullptr, slot, anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw YamlAbort{ErrorCode::kInvalidArgument,
                      "alias refers to an anchor that is not complete yet (recursive alias)",
                      mark.line + 1};
    }
    if (ExpectingKey()) {
      const nlohmann::json& key = it->second.value;
      if (key.is_structured()) {
        throw YamlAbort{ErrorCode::kInvalidArgument,
                        "a mapping key is a mapping or sequence (unsupported)", mark.line + 1};
      }
      SetKey(key.is_string() ? key.get<std::string>() : key.dump(), mark);
      return;
    }
    Slot slot = NextSlot(mark);
    CountValues(it->second.count, mark);
    Place(it->second.value, slot, 0, it->second.count);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (ExpectingKey()) {
      if (tag == "?") NoteYaml11(value, mark, /*is_key=*/true);
      SetKey(value, mark);
      if (anchor != 0) StoreAnchor(anchor, value, 1, mark);
      return;
    }
    Slot slot = NextSlot(mark);
    CountValues(1, mark);
    Place(Resolve(tag, value, slot, mark), slot, anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    StartContainer(mark, tag, anchor, /*is_map=*/false);
  }
  void OnSequenceEnd() override { EndContainer(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    StartContainer(mark, tag, anchor, /*is_map=*/true);
  }
  void OnMapEnd() override { EndContainer(); }

 private:
  // Where the next value goes.
  struct Slot {
    std::string pointer;
    std::string path;
    int line = 0;
  };
  struct Frame {
    nlohmann::json value;
    bool is_map = false;
    Slot slot;
    YAML::anchor_t anchor = 0;
    size_t nodes = 1;  // values in this container's subtree, itself included
    // Mapping state: the key waiting for its value, and the line of every key seen.
    bool has_key = false;
    std::string key;
    int key_line = 0;
    std::unordered_map<std::string, int> key_lines;
  };
  struct Anchored {
    nlohmann::json value;
    size_t count = 0;
  };

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().is_map && !stack_.back().has_key;
  }

  void SetKey(std::string key, const YAML::Mark& mark) {
    Frame& top = stack_.back();
    top.key = std::move(key);
    top.key_line = mark.line + 1;
    top.has_key = true;
  }

  Slot NextSlot(const YAML::Mark& mark) const {
    if (stack_.empty()) return {"", "", mark.line + 1};
    const Frame& top = stack_.back();
    if (top.is_map) {
      return {AppendPointer(top.slot.pointer, top.key), AppendPath(top.slot.path, top.key),
              top.key_line};
    }
    size_t index = top.value.size();
    return {AppendPointer(top.slot.pointer, index), AppendPath(top.slot.path, index),
            mark.line + 1};
  }

  void CountValues(size_t n, const YAML::Mark& mark) {
    if (n > limits_.max_values || values_ > limits_.max_values - n) {
      throw YamlAbort{
          ErrorCode::kResourceExhausted,
          fmt::format("more than {} values after alias expansion (YAML bomb?)", limits_.max_values),
          mark.line + 1};
    }
    values_ += n;
  }

  void StoreAnchor(YAML::anchor_t anchor, const nlohmann::json& value, size_t count,
                   const YAML::Mark& mark) {
    // The stored copy costs memory too: count it against the same budget.
    CountValues(count, mark);
    anchors_[anchor] = Anchored{value, count};
  }

  void Note(const Slot& slot, std::string message) {
    doc_.notes.push_back(YamlNote{slot.line, slot.pointer, slot.path, std::move(message), false});
  }

  // An integer too large for 64 bits is kept as the nearest float: a schema still sees an
  // integer, but the value is no longer the one written, and JSON/Kubernetes readers (int64)
  // cannot hold it. Consumers that must not change values treat the note as an error.
  void NoteBeyond64Bits(std::string_view text, const nlohmann::json& value, const Slot& slot) {
    if (!value.is_number_float()) return;
    auto as_int = ParseCoreInt(text);
    if (!as_int || !as_int->is_number_float()) return;
    doc_.notes.push_back(
        YamlNote{slot.line, slot.pointer, slot.path,
                 fmt::format("integer {} does not fit in 64 bits; it is read as the float {}", text,
                             value.dump()),
                 /*changes_value=*/true});
  }

  void NoteYaml11(const std::string& text, const YAML::Mark& mark, bool is_key) {
    std::string other = Yaml11Difference(text);
    if (other.empty()) return;
    Slot slot = is_key ? NextKeySlot(text, mark) : NextSlot(mark);
    Note(slot, fmt::format("plain {} `{}` is read as {} here (YAML 1.2) but as {} by YAML 1.1 "
                           "readers such as kubectl; quote it to remove the doubt",
                           is_key ? "key" : "scalar", text,
                           is_key ? "a string" : JsonTypeName(ResolvePlain(text)), other));
  }

  Slot NextKeySlot(const std::string& key, const YAML::Mark& mark) const {
    const Frame& top = stack_.back();
    return {AppendPointer(top.slot.pointer, key), AppendPath(top.slot.path, key), mark.line + 1};
  }

  nlohmann::json Resolve(const std::string& tag, const std::string& text, const Slot& slot,
                         const YAML::Mark& mark) {
    if (tag == "?") {
      NoteYaml11(text, mark, /*is_key=*/false);
      nlohmann::json value = ResolvePlain(text);
      NoteBeyond64Bits(text, value, slot);
      return value;
    }
    if (tag == "!") return text;  // quoted or block scalar
    if (tag.rfind(kTagPrefix, 0) == 0) {
      std::string_view kind = std::string_view(tag).substr(kTagPrefix.size());
      auto bad = [&](std::string_view what) {
        return YamlAbort{ErrorCode::kInvalidArgument,
                         fmt::format("!!{} value \"{}\" is not {}", kind, text, what),
                         mark.line + 1};
      };
      if (kind == "str" || kind == "binary" || kind == "timestamp") return text;
      if (kind == "null") return nullptr;
      if (kind == "bool") {
        if (auto b = ParseCoreBool(text)) return *b;
        throw bad("a boolean");
      }
      if (kind == "int") {
        if (auto i = ParseCoreInt(text)) {
          NoteBeyond64Bits(text, *i, slot);
          return *i;
        }
        throw bad("an integer");
      }
      if (kind == "float") {
        if (auto i = ParseCoreInt(text)) return i->get<double>();
        if (auto f = ParseCoreFloat(text)) return *f;
        throw bad("a number");
      }
    }
    Note(slot, fmt::format("unknown tag `{}` ignored; the value is read as a string", tag));
    return text;
  }

  void StartContainer(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                      bool is_map) {
    if (ExpectingKey()) {
      throw YamlAbort{ErrorCode::kInvalidArgument,
                      "a mapping key is a mapping or sequence (unsupported)", mark.line + 1};
    }
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      throw YamlAbort{ErrorCode::kResourceExhausted,
                      fmt::format("nesting deeper than {} levels", limits_.max_depth),
                      mark.line + 1};
    }
    Frame frame;
    frame.slot = NextSlot(mark);
    CountValues(1, mark);
    frame.value = is_map ? nlohmann::json::object() : nlohmann::json::array();
    frame.is_map = is_map;
    frame.anchor = anchor;
    std::string expected = is_map ? "map" : "seq";
    if (tag != "?" && tag != "!" && tag != std::string(kTagPrefix) + expected &&
        !(is_map && tag == std::string(kTagPrefix) + "set") &&
        !(!is_map &&
          (tag == std::string(kTagPrefix) + "omap" || tag == std::string(kTagPrefix) + "pairs"))) {
      Note(frame.slot, fmt::format("unknown tag `{}` ignored", tag));
    }
    stack_.push_back(std::move(frame));
  }

  void EndContainer() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    Place(std::move(frame.value), frame.slot, frame.anchor, frame.nodes);
  }

  void Place(nlohmann::json value, const Slot& slot, YAML::anchor_t anchor, size_t count) {
    doc_.lines.Set(slot.pointer, slot.line);
    if (anchor != 0) {
      YAML::Mark mark;
      mark.line = slot.line - 1;
      StoreAnchor(anchor, value, count, mark);
    }
    if (stack_.empty()) {
      doc_.value = std::move(value);
      return;
    }
    Frame& top = stack_.back();
    top.nodes += count;
    if (!top.is_map) {
      top.value.push_back(std::move(value));
      return;
    }
    auto [it, inserted] = top.key_lines.try_emplace(top.key, top.key_line);
    if (!inserted) {
      Note(slot, fmt::format("duplicate key \"{}\" (also on line {}); the last value wins", top.key,
                             it->second));
      it->second = top.key_line;
    }
    top.value[top.key] = std::move(value);
    top.has_key = false;
  }

  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  YamlDocument doc_;
  size_t values_ = 0;  // across the whole stream
};

}  // namespace

int LineMap::Find(std::string_view pointer) const {
  std::string key(pointer);
  while (true) {
    auto it = lines_.find(key);
    if (it != lines_.end()) return it->second;
    if (key.empty()) return 0;
    key.resize(key.rfind('/'));
  }
}

YamlLoadResult LoadYaml(std::string_view text, const YamlLimits& limits) {
  YamlLoadResult result;
  auto fail = [&](ErrorCode code, std::string message, int line) {
    result.documents.clear();
    result.error = Error(code, std::move(message));
    result.error_line = line;
    return std::move(result);
  };
  if (text.size() > limits.max_bytes) {
    return fail(ErrorCode::kResourceExhausted,
                fmt::format("YAML input is {} bytes, more than the limit of {}", text.size(),
                            limits.max_bytes),
                0);
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    std::string_view before = text.substr(0, bad);
    int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    size_t line_start = before.rfind('\n');
    size_t column = bad - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    return fail(ErrorCode::kInvalidArgument,
                fmt::format("column {}: {} (YAML must be UTF-8)", column,
                            text[bad] == '\0' ? "NUL byte" : "invalid UTF-8 byte sequence"),
                line);
  }
  // yaml-cpp reports problems by throwing; nothing thrown here leaves this function.
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    JsonBuilder builder(limits);
    while (parser.HandleNextDocument(builder)) {
      if (static_cast<int>(result.documents.size()) >= limits.max_documents) {
        return fail(ErrorCode::kResourceExhausted,
                    fmt::format("more than {} YAML documents", limits.max_documents), 0);
      }
      result.documents.push_back(builder.TakeDocument());
    }
  } catch (const YamlAbort& abort) {
    return fail(abort.code, abort.message, abort.line);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    std::string message = e.msg;
    if (line > 0) message = fmt::format("column {}: {}", e.mark.column + 1, message);
    return fail(ErrorCode::kInvalidArgument, "invalid YAML: " + message, line);
  } catch (const std::exception& e) {
    return fail(ErrorCode::kInvalidArgument, fmt::format("invalid YAML: {}", e.what()), 0);
  }
  return result;
}

Result<std::vector<YamlDocument>> ParseYamlStream(std::string_view text, const YamlLimits& limits) {
  YamlLoadResult loaded = LoadYaml(text, limits);
  if (loaded.error) {
    if (loaded.error_line > 0) {
      return tl::unexpected(loaded.error->WithContext(fmt::format("line {}", loaded.error_line)));
    }
    return tl::unexpected(*loaded.error);
  }
  return std::move(loaded.documents);
}

Result<YamlDocument> ParseYamlDocument(std::string_view text, const YamlLimits& limits) {
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<YamlDocument> docs, ParseYamlStream(text, limits));
  if (docs.empty()) return YamlDocument{};
  if (docs.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "expected one YAML document, found {} (separated by ---)", docs.size());
  }
  return std::move(docs.front());
}

// ---- paths ----

std::string AppendPointer(std::string_view pointer, std::string_view key) {
  std::string out(pointer);
  out.reserve(out.size() + key.size() + 1);
  out += '/';
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string AppendPointer(std::string_view pointer, size_t index) {
  return fmt::format("{}/{}", pointer, index);
}

namespace {

bool IsPlainPathKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '.' || c == '[' || c == ']' || c == '"' || c == '\'' || u == 0x7F) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string AppendPath(std::string_view path, std::string_view key) {
  if (!IsPlainPathKey(key)) {
    return fmt::format("{}[{}]", path,
                       nlohmann::json(std::string(key))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string AppendPath(std::string_view path, size_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string JoinPath(std::string_view base, std::string_view rest) {
  if (base.empty()) return std::string(rest);
  if (rest.empty()) return std::string(base);
  if (rest.front() == '[') return fmt::format("{}{}", base, rest);
  return fmt::format("{}.{}", base, rest);
}

std::string_view JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "integer";
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "value";
  }
}

std::string DescribeValue(const nlohmann::json& value, size_t max_chars) {
  std::string text;
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    double d = value.get<double>();
    text = std::isnan(d) ? ".nan" : (d > 0 ? ".inf" : "-.inf");
  } else {
    text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > max_chars) {
    size_t cut = max_chars;
    // Do not cut a UTF-8 sequence in half.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "…";
  }
  return text;
}

}  // namespace plugctl::spec
