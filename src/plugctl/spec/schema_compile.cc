// Compiling OpenAPI 3.0 schema documents into a Schema, with findings about the document.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "plugctl/spec/schema.h"
#include "plugctl/spec/schema_internal.h"
#include "plugctl/spec/schema_regex.h"

namespace plugctl::spec {

namespace schema_internal {

namespace {

std::optional<SchemaType> ParseSchemaType(std::string_view name) {
  if (name == "object") return SchemaType::kObject;
  if (name == "array") return SchemaType::kArray;
  if (name == "string") return SchemaType::kString;
  if (name == "integer") return SchemaType::kInteger;
  if (name == "number") return SchemaType::kNumber;
  if (name == "boolean") return SchemaType::kBoolean;
  return std::nullopt;
}

// Hard bounds for hostile schemas and configurations.
constexpr int kMaxSchemaDepth = 200;  // nested schema objects in one document

bool IsLocale(std::string_view s) {
  // BCP 47-ish: a 2-3 letter language, then subtags of 2-8 letters/digits ("en-US", "zh-Hans").
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i < 2 || i > 3) return false;
  while (i < s.size()) {
    if (s[i] != '-' && s[i] != '_') return false;
    size_t start = ++i;
    while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

std::optional<uint64_t> AsCount(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i >= 0) return static_cast<uint64_t>(i);
    return std::nullopt;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d >= 0 && d == std::floor(d) && d < 1.8e19) {
      return static_cast<uint64_t>(d);
    }
  }
  return std::nullopt;
}

const std::set<std::string_view>& OpenApiKeywords() {
  static const std::set<std::string_view> kKeywords = {"title",         "multipleOf",
                                                       "maximum",       "exclusiveMaximum",
                                                       "minimum",       "exclusiveMinimum",
                                                       "maxLength",     "minLength",
                                                       "pattern",       "maxItems",
                                                       "minItems",      "uniqueItems",
                                                       "maxProperties", "minProperties",
                                                       "required",      "enum",
                                                       "type",          "allOf",
                                                       "oneOf",         "anyOf",
                                                       "not",           "items",
                                                       "properties",    "additionalProperties",
                                                       "description",   "format",
                                                       "default",       "nullable",
                                                       "discriminator", "readOnly",
                                                       "writeOnly",     "xml",
                                                       "externalDocs",  "example",
                                                       "deprecated",    "$ref"};
  return kKeywords;
}

const std::set<std::string_view>& JsonSchemaOnlyKeywords() {
  static const std::set<std::string_view> kKeywords = {"const",
                                                       "examples",
                                                       "$schema",
                                                       "$id",
                                                       "id",
                                                       "$defs",
                                                       "definitions",
                                                       "patternProperties",
                                                       "dependencies",
                                                       "dependentRequired",
                                                       "dependentSchemas",
                                                       "if",
                                                       "then",
                                                       "else",
                                                       "contains",
                                                       "propertyNames",
                                                       "prefixItems",
                                                       "unevaluatedProperties",
                                                       "unevaluatedItems",
                                                       "$comment",
                                                       "contentMediaType",
                                                       "contentEncoding",
                                                       "minContains",
                                                       "maxContains",
                                                       "$anchor",
                                                       "$dynamicRef",
                                                       "$recursiveRef"};
  return kKeywords;
}

// Percent-decodes a URI fragment.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]);
    int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Resolves a JSON pointer (already unescaped of %XX) in `doc`, returning the value and the
// pointer normalized for our node map; nullptr if it does not resolve.
const nlohmann::json* ResolvePointer(const nlohmann::json& doc, std::string_view pointer,
                                     std::string* normalized) {
  const nlohmann::json* at = &doc;
  normalized->clear();
  if (pointer.empty()) return at;
  if (pointer.front() != '/') return nullptr;
  size_t pos = 1;
  while (true) {
    size_t end = pointer.find('/', pos);
    std::string_view raw = pointer.substr(pos, end == std::string_view::npos ? end : end - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else if (raw[i] == '~') {
        return nullptr;
      } else {
        token += raw[i];
      }
    }
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
      *normalized = AppendPointer(*normalized, token);
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 9 ||
          !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          (token.size() > 1 && token[0] == '0')) {
        return nullptr;
      }
      size_t index = std::stoul(token);
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
      *normalized = AppendPointer(*normalized, index);
    } else {
      return nullptr;
    }
    if (end == std::string_view::npos) return at;
    pos = end + 1;
  }
}

class Compiler {
 public:
  Compiler(const nlohmann::json& document, const SchemaLocation& location,
           const SchemaCompileOptions& options, Schema::Data* data, std::vector<Finding>* findings)
      : doc_(document),
        location_(location),
        options_(options),
        data_(data),
        sink_(location.file, location.lines, findings) {}

  void Run() {
    data_->root = CompileNode(doc_, "", "", 0, /*is_property=*/false, /*is_root=*/true);
    ResolveRefs();
    BreakRefCycles();
    if (options_.check_examples) CheckExamples();
  }

 private:
  struct PendingRef {
    int node;
    std::string ref;
  };
  struct Embedded {
    int node;
    std::string keyword;  // "example", "default", "enum"
    const nlohmann::json* value;
  };

  std::string FullPath(const std::string& rel, std::string_view keyword = {}) const {
    std::string path = JoinPath(location_.path, rel);
    if (!keyword.empty()) path = AppendPath(path, keyword);
    return path;
  }
  std::string FullPointer(const std::string& rel, std::string_view keyword = {}) const {
    std::string pointer = location_.pointer + rel;
    if (!keyword.empty()) pointer = AppendPointer(pointer, keyword);
    return pointer;
  }
  void Report(Severity severity, int index, std::string_view keyword, std::string message) {
    const Node& n = N(index);
    sink_.Add(severity, FullPath(n.path, keyword), FullPointer(n.pointer, keyword),
              std::move(message));
  }

  int NewNode(std::string pointer, std::string path) {
    int index = static_cast<int>(data_->nodes.size());
    data_->nodes.push_back(Node{});
    data_->nodes.back().pointer = pointer;
    data_->nodes.back().path = std::move(path);
    by_pointer_[std::move(pointer)] = index;
    return index;
  }

  // Node fields are written through the index: compiling children grows data_->nodes.
  Node& N(int index) { return data_->nodes[static_cast<size_t>(index)]; }

  int CompileNode(const nlohmann::json& value, const std::string& pointer, const std::string& path,
                  int depth, bool is_property, bool is_root);
  void CompileKeyword(int index, const std::string& key, const nlohmann::json& v, int depth,
                      bool is_property, bool is_root, const nlohmann::json& schema);
  int CompileChild(const nlohmann::json& value, int parent, std::string_view keyword, int depth) {
    std::string pointer = AppendPointer(N(parent).pointer, keyword);
    std::string path = AppendPath(N(parent).path, keyword);
    return CompileNode(value, pointer, path, depth + 1, false, false);
  }
  std::optional<std::vector<int>> CompileList(int index, const std::string& key,
                                              const nlohmann::json& v, int depth);
  void CheckTypeConsistency(int index, const nlohmann::json& schema);
  void ResolveRefs();
  void BreakRefCycles();
  void CheckExamples();
  void CheckValue(const Embedded& embedded);

  const nlohmann::json& doc_;
  const SchemaLocation& location_;
  const SchemaCompileOptions& options_;
  Schema::Data* data_;
  FindingSink sink_;
  std::unordered_map<std::string, int> by_pointer_;
  std::vector<PendingRef> pending_refs_;
  std::vector<Embedded> embedded_;
};

int Compiler::CompileNode(const nlohmann::json& value, const std::string& pointer,
                          const std::string& path, int depth, bool is_property, bool is_root) {
  if (auto it = by_pointer_.find(pointer); it != by_pointer_.end()) return it->second;
  int index = NewNode(pointer, path);
  if (!value.is_object()) {
    Report(Severity::kError, index, {},
           fmt::format("a schema must be a mapping, got {}", JsonTypeName(value)));
    return index;
  }
  if (depth > kMaxSchemaDepth) {
    Report(Severity::kError, index, {},
           fmt::format("schema nested more than {} levels deep; not checked", kMaxSchemaDepth));
    return index;
  }
  for (const auto& [key, v] : value.items()) {
    CompileKeyword(index, key, v, depth, is_property, is_root, value);
  }
  if (value.contains("$ref")) {
    std::vector<std::string> ignored;
    for (const auto& [key, v] : value.items()) {
      if (key != "$ref" && OpenApiKeywords().count(key) && key != "title" && key != "description" &&
          key != "example" && key != "default") {
        ignored.push_back(key);
      }
    }
    if (!ignored.empty()) {
      Report(Severity::kWarning, index, "$ref",
             fmt::format("keywords beside $ref are ignored by OpenAPI 3.0: {}",
                         fmt::join(ignored, ", ")));
    }
  }
  CheckTypeConsistency(index, value);
  return index;
}

std::optional<std::vector<int>> Compiler::CompileList(int index, const std::string& key,
                                                      const nlohmann::json& v, int depth) {
  if (!v.is_array()) {
    Report(Severity::kError, index, key,
           fmt::format("`{}` must be a list of schemas, got {}", key, JsonTypeName(v)));
    return std::nullopt;
  }
  if (v.empty()) Report(Severity::kWarning, index, key, fmt::format("`{}` is an empty list", key));
  std::vector<int> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string pointer = AppendPointer(AppendPointer(N(index).pointer, key), i);
    std::string path = AppendPath(AppendPath(N(index).path, key), i);
    out.push_back(CompileNode(v[i], pointer, path, depth + 1, false, false));
  }
  return out;
}

void Compiler::CompileKeyword(int index, const std::string& key, const nlohmann::json& v, int depth,
                              bool is_property, bool is_root, const nlohmann::json& schema) {
  auto error = [&](std::string message) {
    Report(Severity::kError, index, key, std::move(message));
  };
  auto warn = [&](std::string message) {
    Report(Severity::kWarning, index, key, std::move(message));
  };
  auto want_bool = [&]() -> std::optional<bool> {
    if (v.is_boolean()) return v.get<bool>();
    error(fmt::format("`{}` must be true or false, got {} {}", key, JsonTypeName(v),
                      DescribeValue(v)));
    return std::nullopt;
  };
  auto want_number = [&]() -> std::optional<double> {
    if (v.is_number()) return v.get<double>();
    error(fmt::format("`{}` must be a number, got {} {}", key, JsonTypeName(v), DescribeValue(v)));
    return std::nullopt;
  };
  auto want_count = [&]() -> std::optional<uint64_t> {
    if (auto c = AsCount(v)) return c;
    error(fmt::format("`{}` must be a non-negative integer, got {} {}", key, JsonTypeName(v),
                      DescribeValue(v)));
    return std::nullopt;
  };

  if (key == "$ref") {
    if (!v.is_string()) {
      error(fmt::format("`$ref` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    pending_refs_.push_back({index, v.get<std::string>()});
  } else if (key == "type") {
    if (v.is_string()) {
      const std::string& name = v.get_ref<const std::string&>();
      if (auto type = ParseSchemaType(name)) {
        N(index).type = *type;
      } else if (name == "null") {
        error("type `null` does not exist in OpenAPI 3.0 (use `nullable: true`)");
      } else {
        error(
            fmt::format("unknown type `{}` (expected object, array, string, integer, number "
                        "or boolean)",
                        name));
      }
    } else if (v.is_array()) {
      error(
          "`type` must be a single type name in OpenAPI 3.0 (a list is JSON Schema; use "
          "`nullable: true` for null)");
    } else {
      error(fmt::format("`type` must be a type name, got {}", JsonTypeName(v)));
    }
  } else if (key == "nullable") {
    if (auto b = want_bool()) N(index).nullable = *b;
  } else if (key == "uniqueItems") {
    if (auto b = want_bool()) N(index).unique_items = *b;
  } else if (key == "readOnly" || key == "writeOnly" || key == "deprecated") {
    (void)want_bool();
  } else if (key == "properties") {
    if (!v.is_object()) {
      error(fmt::format("`properties` must be a mapping of names to schemas, got {}",
                        JsonTypeName(v)));
      return;
    }
    N(index).has_properties = true;
    for (const auto& [name, sub] : v.items()) {
      std::string pointer = AppendPointer(AppendPointer(N(index).pointer, "properties"), name);
      std::string path = AppendPath(AppendPath(N(index).path, "properties"), name);
      int child = CompileNode(sub, pointer, path, depth + 1, /*is_property=*/true, false);
      N(index).properties[name] = child;
    }
  } else if (key == "required") {
    if (!v.is_array()) {
      error(fmt::format("`required` must be a list of property names, got {}", JsonTypeName(v)));
      return;
    }
    if (v.empty()) warn("`required` is an empty list (OpenAPI 3.0 wants at least one name)");
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string item_path = AppendPath(AppendPath(N(index).path, "required"), i);
      std::string item_pointer = AppendPointer(AppendPointer(N(index).pointer, "required"), i);
      if (!v[i].is_string()) {
        sink_.Add(Severity::kError, FullPath(item_path), FullPointer(item_pointer),
                  fmt::format("must be a property name, got {} {}", JsonTypeName(v[i]),
                              DescribeValue(v[i])));
        continue;
      }
      const std::string& name = v[i].get_ref<const std::string&>();
      if (!seen.insert(name).second) {
        sink_.Add(Severity::kWarning, FullPath(item_path), FullPointer(item_pointer),
                  fmt::format("`{}` is listed twice", name));
        continue;
      }
      N(index).required.push_back(name);
    }
  } else if (key == "additionalProperties") {
    N(index).additional_declared = true;
    if (v.is_boolean()) {
      N(index).additional_forbidden = !v.get<bool>();
    } else if (v.is_object()) {
      int child = CompileChild(v, index, key, depth);
      N(index).additional_schema = child;
    } else {
      error(fmt::format("`additionalProperties` must be true, false or a schema, got {}",
                        JsonTypeName(v)));
    }
  } else if (key == "items") {
    if (v.is_array()) {
      error("`items` must be a single schema in OpenAPI 3.0 (a list is JSON Schema's tuple form)");
    } else if (!v.is_object()) {
      error(fmt::format("`items` must be a schema, got {}", JsonTypeName(v)));
    } else {
      int child = CompileChild(v, index, key, depth);
      N(index).items = child;
    }
  } else if (key == "enum") {
    if (!v.is_array()) {
      error(fmt::format("`enum` must be a list of values, got {}", JsonTypeName(v)));
      return;
    }
    if (v.empty()) warn("`enum` is an empty list: no value can match");
    N(index).enum_values = v;
    embedded_.push_back({index, key, &v});
  } else if (key == "minimum") {
    if (auto d = want_number()) N(index).minimum = *d;
  } else if (key == "maximum") {
    if (auto d = want_number()) N(index).maximum = *d;
  } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
    bool is_min = key == "exclusiveMinimum";
    std::string_view bound = is_min ? "minimum" : "maximum";
    if (v.is_boolean()) {
      (is_min ? N(index).exclusive_minimum : N(index).exclusive_maximum) = v.get<bool>();
      if (v.get<bool>() && !schema.contains(bound)) {
        warn(fmt::format("`{}: true` has no effect without `{}`", key, bound));
      }
    } else if (v.is_number()) {
      warn(
          fmt::format("a numeric `{}` is JSON Schema / OpenAPI 3.1; OpenAPI 3.0 wants true or "
                      "false beside `{}` (the number is used as an exclusive bound)",
                      key, bound));
      (is_min ? N(index).exclusive_minimum_value : N(index).exclusive_maximum_value) =
          v.get<double>();
    } else {
      error(fmt::format("`{}` must be true or false, got {}", key, JsonTypeName(v)));
    }
  } else if (key == "multipleOf") {
    if (auto d = want_number()) {
      if (*d > 0 && std::isfinite(*d)) {
        N(index).multiple_of = *d;
      } else {
        error(fmt::format("`multipleOf` must be greater than 0, got {}", DescribeValue(v)));
      }
    }
  } else if (key == "minLength") {
    if (auto c = want_count()) N(index).min_length = *c;
  } else if (key == "maxLength") {
    if (auto c = want_count()) N(index).max_length = *c;
  } else if (key == "minItems") {
    if (auto c = want_count()) N(index).min_items = *c;
  } else if (key == "maxItems") {
    if (auto c = want_count()) N(index).max_items = *c;
  } else if (key == "minProperties") {
    if (auto c = want_count()) N(index).min_properties = *c;
  } else if (key == "maxProperties") {
    if (auto c = want_count()) N(index).max_properties = *c;
  } else if (key == "pattern") {
    if (!v.is_string()) {
      error(fmt::format("`pattern` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    const std::string& text = v.get_ref<const std::string&>();
    Result<EcmaRegex> re = EcmaRegex::Compile(text);
    if (!re) {
      error(fmt::format("pattern {} does not compile: {}", DescribeValue(v), re.error().message()));
      return;
    }
    N(index).pattern = *re;
    std::vector<std::string> odd = NonEcmaScriptSyntax(text);
    if (!odd.empty()) {
      warn(
          fmt::format("pattern uses syntax that ECMAScript (the OpenAPI regex dialect) does not "
                      "have or reads differently: {}",
                      fmt::join(odd, ", ")));
    }
  } else if (key == "format") {
    if (!v.is_string()) {
      error(fmt::format("`format` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    N(index).format = v.get<std::string>();
    if (!KnownFormats().count(N(index).format)) {
      Report(Severity::kInfo, index, key,
             fmt::format("format `{}` is not one plugctl checks; values are not checked against "
                         "it",
                         N(index).format));
    }
  } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
    if (auto list = CompileList(index, key, v, depth)) {
      (key == "allOf"   ? N(index).all_of
       : key == "anyOf" ? N(index).any_of
                        : N(index).one_of) = std::move(*list);
    }
  } else if (key == "not") {
    if (!v.is_object()) {
      error(fmt::format("`not` must be a schema, got {}", JsonTypeName(v)));
      return;
    }
    int child = CompileChild(v, index, key, depth);
    N(index).not_schema = child;
  } else if (key == "title" || key == "description") {
    if (!v.is_string()) {
      warn(fmt::format("`{}` should be text, got {} {}", key, JsonTypeName(v), DescribeValue(v)));
    }
  } else if (key == "default" || key == "example") {
    embedded_.push_back({index, key, &v});
  } else if (key == "discriminator") {
    if (!v.is_object() || !v.contains("propertyName") || !v["propertyName"].is_string()) {
      error("`discriminator` must be a mapping with a string `propertyName`");
    }
  } else if (key == "xml" || key == "externalDocs") {
    if (!v.is_object()) error(fmt::format("`{}` must be a mapping, got {}", key, JsonTypeName(v)));
  } else if (key == "components" && is_root) {
    if (!v.is_object()) {
      error(fmt::format("`components` must be a mapping, got {}", JsonTypeName(v)));
      return;
    }
    for (const auto& [section, content] : v.items()) {
      std::string section_pointer = AppendPointer("/components", section);
      std::string section_path = AppendPath("components", section);
      if (section != "schemas") {
        sink_.Add(Severity::kWarning, FullPath(section_path), FullPointer(section_pointer),
                  "only `components.schemas` is meaningful inside a schema; ignored");
        continue;
      }
      if (!content.is_object()) {
        sink_.Add(Severity::kError, FullPath(section_path), FullPointer(section_pointer),
                  fmt::format("`components.schemas` must be a mapping of names to schemas, got {}",
                              JsonTypeName(content)));
        continue;
      }
      for (const auto& [name, sub] : content.items()) {
        CompileNode(sub, AppendPointer(section_pointer, name), AppendPath(section_path, name),
                    depth + 1, false, false);
      }
    }
  } else if (key == "x-scope") {
    if (!v.is_string()) {
      error(fmt::format("`x-scope` must be GLOBAL, RULE or ANY, got {}", JsonTypeName(v)));
      return;
    }
    const std::string& scope = v.get_ref<const std::string&>();
    if (scope == "GLOBAL") {
      N(index).scope = ConfigScope::kGlobal;
    } else if (scope == "RULE") {
      N(index).scope = ConfigScope::kRule;
    } else if (scope == "ANY") {
      N(index).scope = ConfigScope::kAny;
    } else if (scope == "INSTANCE") {
      N(index).scope = ConfigScope::kInstance;
      Report(Severity::kInfo, index, key,
             "x-scope INSTANCE is not in the documented set (GLOBAL, RULE, ANY) but Higress uses "
             "it; treated like ANY");
    } else {
      error(fmt::format("unknown x-scope `{}` (expected GLOBAL, RULE or ANY)", scope));
    }
    if (!is_property) warn("`x-scope` only has an effect on a property");
  } else if (key.starts_with("x-") && key.ends_with("-i18n") && key.size() > 7) {
    for (Finding& f : CheckI18nValue(v, location_.file, FullPath(N(index).path, key),
                                     FullPointer(N(index).pointer, key), location_.lines)) {
      sink_.Push(std::move(f));
    }
    std::string base = key.substr(2, key.size() - 7);
    if (!schema.contains(base)) {
      warn(fmt::format("`{}` translates `{}`, which this schema does not have", key, base));
    }
  } else if (key.starts_with("x-")) {
    // Vendor extension: OpenAPI allows them anywhere.
  } else if (JsonSchemaOnlyKeywords().count(key)) {
    warn(fmt::format("`{}` is JSON Schema, not OpenAPI 3.0; ignored", key));
  } else if (key == "components") {
    warn("`components` only has an effect at the root of openAPIV3Schema; ignored");
  } else if (IsLocale(key)) {
    warn(
        fmt::format("unknown keyword `{}` (ignored); it looks like a translation that belongs "
                    "inside an x-…-i18n mapping",
                    key));
  } else {
    warn(fmt::format("unknown keyword `{}` (not an OpenAPI 3.0 Schema keyword; ignored)", key));
  }
}

void Compiler::CheckTypeConsistency(int index, const nlohmann::json& schema) {
  if (schema.contains("$ref")) return;
  const Node& n = N(index);
  if (n.type == SchemaType::kArray && !schema.contains("items")) {
    Report(Severity::kError, index, "type",
           "a schema of type array must have `items` (OpenAPI 3.0)");
  }
  if (n.type) {
    struct Group {
      std::vector<std::string_view> keywords;
      std::vector<SchemaType> types;
    };
    static const Group kGroups[] = {
        {{"properties", "required", "additionalProperties", "minProperties", "maxProperties"},
         {SchemaType::kObject}},
        {{"items", "minItems", "maxItems", "uniqueItems"}, {SchemaType::kArray}},
        {{"minLength", "maxLength", "pattern"}, {SchemaType::kString}},
        {{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
         {SchemaType::kInteger, SchemaType::kNumber}},
    };
    for (const Group& group : kGroups) {
      if (std::find(group.types.begin(), group.types.end(), *n.type) != group.types.end()) {
        continue;
      }
      for (std::string_view keyword : group.keywords) {
        if (!schema.contains(keyword)) continue;
        std::string hint;
        if (keyword == "required" && n.type == SchemaType::kArray) hint = " (move it into `items`)";
        Report(Severity::kWarning, index, keyword,
               fmt::format("`{}` has no effect on a schema of type {}{}", keyword,
                           SchemaTypeName(*n.type), hint));
      }
    }
  }
  if ((!n.type || n.type == SchemaType::kObject) && n.additional_schema < 0) {
    for (const std::string& name : n.required) {
      if (n.properties.count(name)) continue;
      if (!n.has_properties && !n.all_of.empty()) continue;  // declared in an allOf branch
      Report(Severity::kWarning, index, "required",
             fmt::format("required property `{}` is not declared in `properties`{}", name,
                         DidYouMean(name, n.properties)));
    }
  }
  auto check_range = [&](std::string_view lo_name, const std::optional<uint64_t>& lo,
                         std::string_view hi_name, const std::optional<uint64_t>& hi) {
    if (lo && hi && *lo > *hi) {
      Report(Severity::kWarning, index, lo_name,
             fmt::format("`{}` {} is greater than `{}` {}: no value can match", lo_name, *lo,
                         hi_name, *hi));
    }
  };
  check_range("minLength", n.min_length, "maxLength", n.max_length);
  check_range("minItems", n.min_items, "maxItems", n.max_items);
  check_range("minProperties", n.min_properties, "maxProperties", n.max_properties);
  if (n.minimum && n.maximum && *n.minimum > *n.maximum) {
    Report(Severity::kWarning, index, "minimum",
           fmt::format("`minimum` {} is greater than `maximum` {}: no value can match",
                       FormatNumber(*n.minimum), FormatNumber(*n.maximum)));
  }
}

void Compiler::ResolveRefs() {
  // Compiling a $ref target on demand can add more $refs: loop until none are left.
  while (!pending_refs_.empty()) {
    std::vector<PendingRef> batch;
    batch.swap(pending_refs_);
    for (const PendingRef& pending : batch) {
      const std::string& ref = pending.ref;
      auto fail = [&](std::string message) {
        Report(Severity::kError, pending.node, "$ref", std::move(message));
      };
      if (ref.empty() || ref.front() != '#') {
        fail(
            fmt::format("$ref `{}` points outside the schema document; only local references "
                        "(\"#/components/schemas/name\") can be resolved",
                        ref));
        continue;
      }
      std::optional<std::string> decoded = PercentDecode(std::string_view(ref).substr(1));
      std::string normalized;
      const nlohmann::json* target =
          decoded ? ResolvePointer(doc_, *decoded, &normalized) : nullptr;
      if (target == nullptr) {
        fail(
            fmt::format("$ref `{}` does not resolve: nothing at that location in the schema "
                        "document",
                        ref));
        continue;
      }
      if (!target->is_object()) {
        fail(fmt::format("$ref `{}` points to a value of type {}, not a schema", ref,
                         JsonTypeName(*target)));
        continue;
      }
      int target_index;
      if (auto it = by_pointer_.find(normalized); it != by_pointer_.end()) {
        target_index = it->second;
      } else {
        // A target nobody compiled yet (e.g. "#/definitions/x"): compile it now.
        std::string path;
        size_t pos = 1;
        while (pos <= normalized.size()) {
          size_t end = normalized.find('/', pos);
          std::string token = normalized.substr(pos, end == std::string::npos ? end : end - pos);
          std::string unescaped;
          for (size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size()) {
              unescaped += token[i + 1] == '0' ? '~' : '/';
              ++i;
            } else {
              unescaped += token[i];
            }
          }
          path = AppendPath(path, unescaped);
          if (end == std::string::npos) break;
          pos = end + 1;
        }
        target_index = CompileNode(*target, normalized, path, 1, false, false);
      }
      N(pending.node).ref = target_index;
    }
  }
}

void Compiler::BreakRefCycles() {
  // A cycle through $ref/allOf/anyOf/oneOf/not never reaches a property or an item, so
  // validating it would recurse forever. The $ref closing such a cycle is reported and dropped.
  enum Color : uint8_t { kWhite, kGrey, kBlack };
  std::vector<Color> color(data_->nodes.size(), kWhite);
  auto edges = [&](int i) {
    const Node& n = N(i);
    std::vector<int> out;
    if (n.ref >= 0) out.push_back(n.ref);
    out.insert(out.end(), n.all_of.begin(), n.all_of.end());
    out.insert(out.end(), n.any_of.begin(), n.any_of.end());
    out.insert(out.end(), n.one_of.begin(), n.one_of.end());
    if (n.not_schema >= 0) out.push_back(n.not_schema);
    return out;
  };
  for (size_t start = 0; start < data_->nodes.size(); ++start) {
    if (color[start] != kWhite) continue;
    // Iterative: schemas may be deep.
    std::vector<std::pair<int, std::vector<int>>> stack;
    stack.emplace_back(static_cast<int>(start), edges(static_cast<int>(start)));
    color[start] = kGrey;
    while (!stack.empty()) {
      int node = stack.back().first;
      std::vector<int>& next = stack.back().second;
      if (next.empty()) {
        color[static_cast<size_t>(node)] = kBlack;
        stack.pop_back();
        continue;
      }
      int to = next.back();
      next.pop_back();
      Color c = color[static_cast<size_t>(to)];
      if (c == kGrey) {
        if (N(node).ref == to) {
          Report(Severity::kError, node, "$ref",
                 "this $ref makes the schema refer to itself without going through a property "
                 "or an item (infinite recursion); ignored");
          N(node).ref = -1;
        }
      } else if (c == kWhite) {
        color[static_cast<size_t>(to)] = kGrey;
        stack.emplace_back(to, edges(to));
      }
    }
  }
}

void Compiler::CheckExamples() {
  for (const Embedded& embedded : embedded_) {
    if (embedded.keyword == "enum") {
      // Each allowed value must itself fit the schema (type, pattern, ...).
      for (size_t i = 0; i < embedded.value->size(); ++i) {
        Embedded item{embedded.node, fmt::format("enum[{}]", i), &(*embedded.value)[i]};
        CheckValue(item);
      }
    } else {
      CheckValue(embedded);
    }
  }
}

void Compiler::CheckValue(const Embedded& embedded) {
  const Node& node = N(embedded.node);
  ValidateOptions options{.rule_level = options_.rule_level, .warn_undeclared = true};
  std::string keyword = embedded.keyword;
  std::string base_path = FullPath(node.path);
  std::string base_pointer = FullPointer(node.pointer);
  if (keyword.starts_with("enum[")) {
    size_t i = std::stoul(keyword.substr(5));
    base_path = AppendPath(AppendPath(base_path, "enum"), i);
    base_pointer = AppendPointer(AppendPointer(base_pointer, "enum"), i);
    keyword = "enum value";
  } else {
    base_path = AppendPath(base_path, keyword);
    base_pointer = AppendPointer(base_pointer, keyword);
  }
  const nlohmann::json& value = *embedded.value;
  // Errors of the value are contradictions (warnings for the spec); its warnings (undeclared or
  // misplaced properties) stay hints.
  auto emit = [&](const std::vector<Violation>& violations, const std::string& path,
                  const std::string& pointer) {
    for (const Violation& v : violations) {
      bool contradiction = v.severity == Severity::kError;
      sink_.Add(contradiction ? Severity::kWarning : v.severity, JoinPath(path, v.path),
                pointer + v.pointer,
                fmt::format("{}{}: {}", keyword, contradiction ? " contradicts the schema" : "",
                            v.message));
    }
  };
  std::vector<Violation> violations = ValidateAt(*data_, embedded.node, value, options);
  if (violations.empty()) return;
  // Real-world quirk: `example: [a, b]` on a string field, meaning "examples".
  if (embedded.keyword == "example" && HasErrorViolations(violations) && value.is_array() &&
      !value.empty() && node.type && *node.type != SchemaType::kArray) {
    sink_.Add(Severity::kInfo, base_path, base_pointer,
              fmt::format("`example` is a list of {} value(s) on a field of type {}; OpenAPI 3.0 "
                          "wants a single value (read as a list of examples)",
                          value.size(), SchemaTypeName(*node.type)));
    for (size_t i = 0; i < value.size(); ++i) {
      emit(ValidateAt(*data_, embedded.node, value[i], options), AppendPath(base_path, i),
           AppendPointer(base_pointer, i));
    }
    return;
  }
  emit(violations, base_path, base_pointer);
}

}  // namespace

}  // namespace schema_internal

SchemaCompilation Schema::Compile(const nlohmann::json& document, const SchemaLocation& location,
                                  const SchemaCompileOptions& options) {
  auto data = std::make_shared<Data>();
  data->document = document;
  std::vector<Finding> findings;
  schema_internal::Compiler compiler(data->document, location, options, data.get(), &findings);
  compiler.Run();
  std::stable_sort(findings.begin(), findings.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  return SchemaCompilation{Schema(std::move(data)), std::move(findings)};
}

std::vector<Finding> CheckI18nValue(const nlohmann::json& value, std::string_view file,
                                    std::string_view path, std::string_view pointer,
                                    const LineMap* lines) {
  std::vector<Finding> out;
  schema_internal::FindingSink sink(file, lines, &out);
  if (value.is_null()) {
    sink.Add(Severity::kInfo, std::string(path), pointer,
             "translation map is null (real-world dialect; read as no translations)");
    return out;
  }
  if (!value.is_object()) {
    sink.Add(Severity::kError, std::string(path), pointer,
             fmt::format("must be a mapping of locale to text (en-US: ...), got {}",
                         JsonTypeName(value)));
    return out;
  }
  for (const auto& [locale, text] : value.items()) {
    std::string entry_path = AppendPath(path, locale);
    std::string entry_pointer = AppendPointer(pointer, locale);
    if (!schema_internal::IsLocale(locale)) {
      sink.Add(Severity::kWarning, entry_path, entry_pointer,
               fmt::format("`{}` does not look like a locale (en-US, zh-CN)", locale));
    }
    if (text.is_structured()) {
      sink.Add(Severity::kError, entry_path, entry_pointer,
               fmt::format("a translation must be text, got {}", JsonTypeName(text)));
    } else if (!text.is_string()) {
      sink.Add(Severity::kWarning, entry_path, entry_pointer,
               fmt::format("a translation should be text, got {} {} (quote it)", JsonTypeName(text),
                           DescribeValue(text)));
    }
  }
  return out;
}

}  // namespace plugctl::spec
