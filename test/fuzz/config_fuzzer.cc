// Fuzzes configuration checking: the input is an OpenAPI schema document and a configuration
// (YAML or JSON, plain or a WasmPlugin resource) separated by a line "%%". Beyond not crashing
// or hanging (hostile patterns, $ref cycles, combinators, YAML bombs): every finding names the
// file, and every violation's JSON pointer and display path describe the same place. The same
// configuration then goes through `plugctl wasmplugin`'s reader, resource builder and WasmPlugin
// CRD check: a resource built without errors passes the CRD check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/spec/config_check.h"
#include "plugctl/spec/schema.h"
#include "plugctl/spec/spec.h"
#include "plugctl/wasmplugin/crd_schema.h"
#include "plugctl/wasmplugin/wasmplugin.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Number of steps in a pointer ("/a/0" → 2) and in a display path ("a[0]" → 2), counted
// loosely: quoted keys may contain anything, so only paths without quotes are compared.
size_t PointerDepth(std::string_view pointer) {
  size_t n = 0;
  for (char c : pointer) n += c == '/';
  return n;
}

bool PathDepth(std::string_view path, size_t* depth) {
  if (path.find('"') != std::string_view::npos) return false;
  size_t n = path.empty() ? 0 : 1;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.') ++n;
    if (path[i] == '[' && i > 0) ++n;
  }
  *depth = n;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plugctl::spec;
  using plugctl::Finding;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find("\n%%\n");
  std::string_view schema_text = split == std::string_view::npos ? input : input.substr(0, split);
  std::string_view config_text =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 4);

  plugctl::Result<YamlDocument> schema_doc = ParseYamlDocument(schema_text);
  if (!schema_doc) return 0;
  SchemaCompilation compiled = Schema::Compile(
      schema_doc->value, {.file = "schema.yaml", .path = "s", .lines = &schema_doc->lines});
  for (const Finding& f : compiled.findings) {
    Check(f.file == "schema.yaml");
    Check(!f.message.empty());
  }

  PluginSpec spec;
  spec.config_schema = compiled.schema;
  spec.route_config_schema = compiled.schema;
  for (bool rule_level : {false, true}) {
    for (const Finding& f :
         CheckConfigDocument(spec, config_text, "config.yaml", {.rule_level = rule_level})) {
      Check(f.file == "config.yaml");
      Check(!f.message.empty());
    }
  }

  plugctl::wasmplugin::WasmPluginConfig wp_config =
      plugctl::wasmplugin::ReadWasmPluginConfig(&spec, config_text, "config.yaml");
  for (const Finding& f : wp_config.findings) Check(!f.message.empty());
  plugctl::wasmplugin::PluginPin pin{.url = "oci://r.local/p/x:1", .sha256 = "00", .tag = "1"};
  auto made = plugctl::wasmplugin::MakeWasmPlugin({.name = "x", .pin = pin, .config = &wp_config});
  Check(made.has_value());
  if (!plugctl::HasErrors(made->findings)) {
    Check(plugctl::wasmplugin::CheckWasmPluginCrd(made->resource).empty());
  }

  plugctl::Result<YamlDocument> config = ParseYamlDocument(config_text);
  if (!config) return 0;
  for (const Violation& v : compiled.schema.Validate(config->value)) {
    Check(!v.message.empty());
    size_t path_depth = 0;
    if (PathDepth(v.path, &path_depth)) Check(path_depth == PointerDepth(v.pointer));
  }
  return 0;
}
