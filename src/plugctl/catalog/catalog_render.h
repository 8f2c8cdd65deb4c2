// plugctl/catalog/catalog_render.h — the catalog's pages and JSON as pure functions of the
// catalog model (plugin_catalog.h): no server, no files, no clock. catalog_web.cc picks what a
// client may see, reads READMEs and asks for the WasmPlugin texts; this file turns them into
// bytes.
//
// Everything that comes from an image (names, spec.yaml texts, READMEs, errors) is untrusted:
// it goes through HtmlEscape (text and attribute values alike) or RenderMarkdown, never raw.
//
//   PageOptions page{.lang = Lang::kZh, .lang_explicit = true};
//   std::string html = RenderIndexPage(visible_versions, page);
//   std::vector<SchemaRow> rows = SchemaRows(openapi_v3_schema_json, Lang::kEn);
//
// Thread-safe: free functions over values.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/status.h"
#include "plugctl/catalog/plugin_catalog.h"

namespace plugctl::catalog {

enum class Lang { kEn, kZh };

// "en" or "zh": the `?lang=` spelling and the page's lang attribute.
std::string_view LangCode(Lang lang);

// The page language: `query_lang` ("en" or "zh"; anything else is ignored), else the
// Accept-Language entry with the highest q among en* and zh* (the first on a tie), else English.
Lang ChooseLang(std::string_view query_lang, std::string_view accept_language);

// Escapes & < > " ' — safe in element text and in quoted attribute values.
std::string HtmlEscape(std::string_view text);

// The text of a spec field in `lang`: the i18n map's entry for it ("zh-CN", "zh", "en-US", …,
// by language prefix) when present and non-empty, else `base`. `i18n` may be null.
std::string Localized(std::string_view base, const std::map<std::string, std::string>* i18n,
                      Lang lang);

// One row of a configuration schema table.
struct SchemaRow {
  std::string path;       // "consumers[].credential"; "[]" for the items of a top-level array
  std::string type;       // "string", "array of object", "" when the schema says none
  bool required = false;  // in its parent's `required`
  std::string scope;      // x-scope, "" when absent
  std::string title;      // title in the language asked for
  std::string description;
  // JSON texts ("" when absent); enum_values joins the values with ", ".
  std::string default_value;
  std::string example;
  std::string enum_values;

  bool operator==(const SchemaRow&) const = default;
};

struct SchemaTableLimits {
  int max_depth = 8;      // nesting below the root
  size_t max_rows = 400;  // rows in all
  size_t max_cell = 400;  // bytes of a default/example/enum cell (cut with "…")
};

// The rows of an OpenAPI v3 schema (JSON, as spec.yaml's openAPIV3Schema holds it), depth
// first, properties in key order (the JSON model sorts keys). `$ref: "#/components/schemas/X"` is
// followed into the schema's own `components`, never twice on one path (recursion stops there), and
// the limits cut the rest. Never fails: odd schemas give fewer rows.
std::vector<SchemaRow> SchemaRows(const nlohmann::json& schema, Lang lang,
                                  const SchemaTableLimits& limits = {});

// How a page was asked for.
struct PageOptions {
  Lang lang = Lang::kEn;
  // The request named its language: internal links keep `?lang=`.
  bool lang_explicit = false;
  // The index's search text (`?q=`); plugins not matching it are left out.
  std::string query;
  // The request's path (matched against the catalog, so plain), for the language switch link.
  std::string self_path = "/";
};

// Whether a plugin (any of its versions' name, title, description, category, in any language)
// contains `query`, ASCII case-insensitively. An empty query matches everything.
bool MatchesQuery(const PluginVersion& v, std::string_view query);

// `/`: one entry per plugin name among `versions` (sorted as CatalogSnapshot sorts them; the
// last of a name is its newest), filtered by options.query.
std::string RenderIndexPage(const std::vector<const PluginVersion*>& versions,
                            const PageOptions& options);

// What the version page shows besides the version itself.
struct VersionPageInput {
  const PluginVersion* version = nullptr;  // required
  // Every version of the plugin the client may see (for the version list), sorted.
  std::vector<const PluginVersion*> versions;
  std::string readme;       // Markdown, "" when none
  std::string readme_file;  // "README_EN.md"
  // WasmPluginYaml for oci:// and http://; the error's message is shown instead of a failure.
  Result<std::string> oci_yaml;
  Result<std::string> http_yaml;
};

// `/plugin/<name>[/<version>]`.
std::string RenderVersionPage(const VersionPageInput& input, const PageOptions& options);

// A small HTML page for 404 and the like (status text and a link home).
std::string RenderMessagePage(std::string_view title, std::string_view message,
                              const PageOptions& options);

// The JSON API (docs/catalog.md). Strings are the image's and may hold invalid UTF-8: dump with
// nlohmann::json::error_handler_t::replace. Summary of one version: links, digests, loadability.
nlohmann::json VersionJson(const PluginVersion& v);
// `/api/plugins`: {"plugins": [{name, title, description, category, title_i18n, …, latest,
// versions: [VersionJson…]}]}.
nlohmann::json PluginsJson(const std::vector<const PluginVersion*>& versions);
// `/api/plugins/<name>`: one plugin object as above (versions of one name, sorted).
nlohmann::json PluginJson(const std::vector<const PluginVersion*>& versions);
// `/api/plugins/<name>/<version>`: VersionJson plus "plugin", "spec" (spec.yaml as JSON, or
// null), "schema" rows and "wasmplugin": {"oci": {"yaml"|"error"}, "http": {…}}.
nlohmann::json VersionDetailJson(const VersionPageInput& input);

}  // namespace plugctl::catalog
