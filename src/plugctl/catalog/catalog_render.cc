#include "plugctl/catalog/catalog_render.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "plugctl/catalog/markdown.h"

namespace plugctl::catalog {
namespace {

using nlohmann::json;

// The UI's own words in both languages.
std::string_view Tr(Lang lang, std::string_view en, std::string_view zh) {
  return lang == Lang::kZh ? zh : en;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && AsciiLower(text.substr(0, prefix.size())) == prefix;
}

// JSON text for a table cell or the API; never throws on bad UTF-8 (the image's bytes).
std::string JsonText(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Cuts at `max` bytes without splitting a UTF-8 sequence.
std::string Cut(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  text += "\xE2\x80\xA6";  // …
  return text;
}

const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const json& object, std::string_view key) {
  const json* value = Member(object, key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

// spec.yaml's x-<field>-i18n on a schema node, as a plain map.
std::map<std::string, std::string> I18nMember(const json& node, std::string_view field) {
  std::map<std::string, std::string> out;
  const json* map = Member(node, fmt::format("x-{}-i18n", field));
  if (map == nullptr || !map->is_object()) return out;
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

const std::map<std::string, std::string>* InfoI18n(const PluginVersion& v,
                                                   const std::string& field) {
  if (!v.spec) return nullptr;
  auto it = v.spec->spec.info.i18n.find(field);
  return it == v.spec->spec.info.i18n.end() ? nullptr : &it->second;
}

std::string Title(const PluginVersion& v, Lang lang) {
  if (!v.spec || v.spec->spec.info.title.empty()) return v.name;
  return Localized(v.spec->spec.info.title, InfoI18n(v, "title"), lang);
}

std::string Description(const PluginVersion& v, Lang lang) {
  if (!v.spec) return "";
  return Localized(v.spec->spec.info.description, InfoI18n(v, "description"), lang);
}

std::string Category(const PluginVersion& v) { return v.spec ? v.spec->spec.info.category : ""; }

// Everything the search looks at, lowercased (ASCII; other scripts match as written).
std::string SearchText(const PluginVersion& v) {
  std::string text = v.name + "\n" + Category(v);
  if (v.spec) {
    const spec::PluginInfo& info = v.spec->spec.info;
    text += "\n" + info.title + "\n" + info.description;
    for (const auto& [field, by_lang] : info.i18n) {
      if (field != "title" && field != "description") continue;
      for (const auto& [code, value] : by_lang) text += "\n" + value;
    }
  }
  return AsciiLower(text);
}

std::string FormatTime(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "";
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return std::string(buf, n);
}

// Links: names and versions are plugin path segments (oci/plugin_name.h: [A-Za-z0-9._+-]), so
// they go into paths as they are; escaping is still applied when they reach HTML.
std::string PagePath(const PluginVersion& v) { return "/plugin/" + v.name + "/" + v.version; }
std::string FilePath(const PluginVersion& v, std::string_view file) {
  return "/plugins/" + v.name + "/" + v.version + "/" + std::string(file);
}

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string QueryEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

std::string WithLang(std::string path, const PageOptions& options) {
  if (options.lang_explicit) path += "?lang=" + std::string(LangCode(options.lang));
  return path;
}

std::string PhaseText(const PluginVersion& v) {
  if (!v.spec) return "";
  return std::string(spec::PluginPhaseName(v.spec->spec.phase));
}

// The page around a body: header with home and language links, the assets, no inline script or
// style (the CSP forbids both).
std::string Page(std::string_view title, std::string_view body, const PageOptions& options) {
  Lang other = options.lang == Lang::kZh ? Lang::kEn : Lang::kZh;
  std::string switch_href = options.self_path + "?lang=" + std::string(LangCode(other));
  if (!options.query.empty()) switch_href += "&q=" + QueryEscape(options.query);
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"";
  out += options.lang == Lang::kZh ? "zh-CN" : "en";
  out += "\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + HtmlEscape(title) + "</title>\n";
  out += "<link rel=\"stylesheet\" href=\"/assets/catalog.css\">\n";
  out += "<script src=\"/assets/catalog.js\" defer></script>\n</head>\n<body>\n";
  out += "<header class=\"top\"><a class=\"home\" href=\"" + HtmlEscape(WithLang("/", options)) +
         "\">" + std::string(Tr(options.lang, "Wasm plugin catalog", "Wasm 插件目录")) + "</a>";
  // The link names the other language in that language, marked so for screen readers.
  std::string_view other_tag = other == Lang::kZh ? "zh-CN" : "en";
  out += "<nav><a id=\"lang-switch\" href=\"" + HtmlEscape(switch_href) + "\" hreflang=\"" +
         std::string(other_tag) + "\" lang=\"" + std::string(other_tag) + "\">" +
         std::string(other == Lang::kZh ? "中文" : "English") + "</a></nav></header>\n<main>\n";
  out += body;
  out += "</main>\n</body>\n</html>\n";
  return out;
}

std::string Badge(bool ok, std::string_view text) {
  return fmt::format("<span class=\"badge {}\">{}</span>", ok ? "ok" : "bad", HtmlEscape(text));
}

std::string LoadabilityBadge(const PluginVersion& v, Lang lang) {
  if (!v.usable) return Badge(false, Tr(lang, "no plugin.wasm", "无 plugin.wasm"));
  return v.gateway_loadable ? Badge(true, Tr(lang, "gateway loadable", "网关可加载"))
                            : Badge(false, Tr(lang, "not loadable by the gateway", "网关不可加载"));
}

std::string IconHtml(const PluginVersion& v) {
  if (!v.has_icon) return "<span class=\"icon none\"></span>";
  return "<img class=\"icon\" src=\"" + HtmlEscape(FilePath(v, "icon.png")) +
         "\" alt=\"\" width=\"40\" height=\"40\">";
}

// Groups the sorted versions by name, keeping order.
std::vector<std::vector<const PluginVersion*>> ByName(
    const std::vector<const PluginVersion*>& versions) {
  std::vector<std::vector<const PluginVersion*>> groups;
  for (const PluginVersion* v : versions) {
    if (v == nullptr) continue;
    if (groups.empty() || groups.back().back()->name != v->name) groups.emplace_back();
    groups.back().push_back(v);
  }
  return groups;
}

// ---- schema table ----

struct SchemaWalker {
  const json& root;
  Lang lang;
  const SchemaTableLimits& limits;
  std::vector<SchemaRow> rows;

  // Follows "#/…" references inside `root`; nullptr when one is unresolvable or already on
  // this path (`seen` grows with each followed reference).
  const json* Resolve(const json* node, std::vector<std::string>& seen) const {
    for (int hops = 0; node != nullptr && node->is_object(); ++hops) {
      const json* ref = Member(*node, "$ref");
      if (ref == nullptr || !ref->is_string()) return node;
      std::string target = ref->get<std::string>();
      if (hops >= 8 || !target.starts_with("#/") ||
          std::find(seen.begin(), seen.end(), target) != seen.end()) {
        return nullptr;
      }
      seen.push_back(target);
      node = Pointer(target.substr(2));
    }
    return node;
  }

  const json* Pointer(std::string_view pointer) const {
    const json* node = &root;
    while (node != nullptr) {
      size_t slash = pointer.find('/');
      std::string token(pointer.substr(0, slash));
      // RFC 6901 §4: ~1 is '/', ~0 is '~', in that order.
      for (size_t at; (at = token.find("~1")) != std::string::npos;) token.replace(at, 2, "/");
      for (size_t at; (at = token.find("~0")) != std::string::npos;) token.replace(at, 2, "~");
      node = Member(*node, token);
      if (slash == std::string_view::npos) break;
      pointer.remove_prefix(slash + 1);
    }
    return node;
  }

  std::string TypeOf(const json& node, std::vector<std::string> seen) const {
    const json* type = Member(node, "type");
    std::string text;
    if (type != nullptr && type->is_string()) {
      text = type->get<std::string>();
    } else if (type != nullptr && type->is_array()) {
      for (const json& t : *type) {
        if (!t.is_string()) continue;
        if (!text.empty()) text += " | ";
        text += t.get<std::string>();
      }
    }
    if (text == "object" && Member(node, "properties") == nullptr) {
      // A map (ai-proxy's modelMapping): its values' type says more than "object".
      const json* values = Resolve(Member(node, "additionalProperties"), seen);
      const json* value_type = values ? Member(*values, "type") : nullptr;
      if (value_type != nullptr && value_type->is_string()) {
        text = "map of " + value_type->get<std::string>();
      }
    }
    if (text == "array") {
      const json* items = Resolve(Member(node, "items"), seen);
      const json* item_type = items ? Member(*items, "type") : nullptr;
      if (item_type != nullptr && item_type->is_string()) {
        text += " of " + item_type->get<std::string>();
      }
    }
    return text;
  }

  std::string Cell(const json* value) const {
    if (value == nullptr) return "";
    return Cut(JsonText(*value), limits.max_cell);
  }

  void Row(const std::string& path, const json& node, bool required,
           const std::vector<std::string>& seen) {
    SchemaRow row;
    row.path = path;
    row.type = TypeOf(node, seen);
    row.required = required;
    row.scope = StringMember(node, "x-scope");
    auto titles = I18nMember(node, "title");
    row.title = Localized(StringMember(node, "title"), &titles, lang);
    auto descriptions = I18nMember(node, "description");
    row.description = Localized(StringMember(node, "description"), &descriptions, lang);
    row.default_value = Cell(Member(node, "default"));
    row.example = Cell(Member(node, "example"));
    if (const json* values = Member(node, "enum"); values != nullptr && values->is_array()) {
      std::string joined;
      for (const json& value : *values) {
        if (!joined.empty()) joined += ", ";
        joined += JsonText(value);
        if (joined.size() > limits.max_cell) break;
      }
      row.enum_values = Cut(std::move(joined), limits.max_cell);
    }
    rows.push_back(std::move(row));
  }

  void Walk(const json& node, const std::string& path, int depth, std::vector<std::string> seen) {
    if (depth > limits.max_depth || rows.size() >= limits.max_rows || !node.is_object()) return;
    std::set<std::string> required;
    if (const json* names = Member(node, "required"); names != nullptr && names->is_array()) {
      for (const json& name : *names) {
        if (name.is_string()) required.insert(name.get<std::string>());
      }
    }
    if (const json* properties = Member(node, "properties");
        properties != nullptr && properties->is_object()) {
      for (auto it = properties->begin(); it != properties->end(); ++it) {
        if (rows.size() >= limits.max_rows) return;
        std::vector<std::string> child_seen = seen;
        const json* child = Resolve(&it.value(), child_seen);
        std::string child_path = path.empty() ? it.key() : path + "." + it.key();
        if (child == nullptr) {
          // An unresolvable or recursive $ref: the row says so and the walk stops there.
          SchemaRow row;
          row.path = child_path;
          row.type = "$ref";
          row.required = required.count(it.key()) > 0;
          row.description = StringMember(it.value(), "$ref");
          rows.push_back(std::move(row));
          continue;
        }
        Row(child_path, *child, required.count(it.key()) > 0, child_seen);
        Walk(*child, child_path, depth + 1, std::move(child_seen));
      }
    }
    if (const json* items = Resolve(Member(node, "items"), seen); items != nullptr) {
      bool nested = Member(*items, "properties") != nullptr || Member(*items, "items") != nullptr;
      if (path.empty() && depth == 0) Row("[]", *items, false, seen);
      if (nested) Walk(*items, path + "[]", depth + 1, seen);
    }
    if (const json* extra = Resolve(Member(node, "additionalProperties"), seen);
        extra != nullptr && extra->is_object() && Member(*extra, "properties") != nullptr) {
      Walk(*extra, path + ".*", depth + 1, seen);
    }
  }
};

std::string SchemaTable(const json& schema, Lang lang) {
  std::vector<SchemaRow> rows = SchemaRows(schema, lang);
  if (rows.empty()) return "<p>" + std::string(Tr(lang, "No fields.", "无字段。")) + "</p>\n";
  const std::string_view heads[] = {
      Tr(lang, "Field", "字段"),       Tr(lang, "Type", "类型"),
      Tr(lang, "Required", "必填"),    "x-scope",
      Tr(lang, "Description", "说明"), Tr(lang, "Default", "默认值"),
      Tr(lang, "Example", "示例"),     Tr(lang, "Allowed values", "可选值")};
  std::string out = "<div class=\"table-wrap\"><table class=\"schema\">\n<thead><tr>";
  for (std::string_view head : heads) out += "<th>" + std::string(head) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  // data-label: on a phone the CSS turns each row into a card and shows the label before the
  // value; empty cells stay empty so that the card hides them.
  auto cell = [&](size_t column, std::string_view inner_html, std::string_view css_class = "") {
    std::string td = "<td";
    if (!css_class.empty()) td += " class=\"" + std::string(css_class) + "\"";
    td += " data-label=\"" + std::string(heads[column]) + "\">" + std::string(inner_html) + "</td>";
    return td;
  };
  auto code = [](const std::string& text) {
    return text.empty() ? std::string() : "<code>" + HtmlEscape(text) + "</code>";
  };
  for (const SchemaRow& row : rows) {
    std::string description;
    if (!row.title.empty()) description += "<strong>" + HtmlEscape(row.title) + "</strong>";
    if (!row.title.empty() && !row.description.empty()) description += "<br>";
    description += HtmlEscape(row.description);
    out += "<tr>" + cell(0, code(row.path), "path") + cell(1, HtmlEscape(row.type)) +
           cell(2, row.required ? Tr(lang, "yes", "是") : "") + cell(3, HtmlEscape(row.scope)) +
           cell(4, description, "description") + cell(5, code(row.default_value)) +
           cell(6, code(row.example)) + cell(7, code(row.enum_values)) + "</tr>\n";
  }
  out += "</tbody></table></div>\n";
  return out;
}

// spec.<block>.openAPIV3Schema from the spec.yaml document, nullptr when absent.
const json* OpenApiSchema(const PluginVersion& v, std::string_view block) {
  if (!v.spec) return nullptr;
  const json* spec = Member(v.spec->document.value, "spec");
  const json* config = spec ? Member(*spec, block) : nullptr;
  const json* schema = config ? Member(*config, "openAPIV3Schema") : nullptr;
  return schema && schema->is_object() ? schema : nullptr;
}

std::string YamlBlock(const Result<std::string>& yaml, std::string_view id, Lang lang) {
  if (!yaml) {
    return "<p class=\"error\">" + HtmlEscape(yaml.error().message()) + "</p>\n";
  }
  return fmt::format(
      "<pre class=\"copy\" id=\"{}\" data-copy-label=\"{}\" data-copied-label=\"{}\">{}</pre>\n",
      id, Tr(lang, "Copy", "复制"), Tr(lang, "Copied", "已复制"), HtmlEscape(*yaml));
}

std::string Fact(std::string_view term, std::string_view html_value) {
  return "<dt>" + std::string(term) + "</dt><dd>" + std::string(html_value) + "</dd>\n";
}

std::string CodeFact(std::string_view term, std::string_view text) {
  return Fact(term, "<code>" + HtmlEscape(text) + "</code>");
}

json I18nJson(const PluginVersion& v, const std::string& field) {
  json out = json::object();
  if (const auto* map = InfoI18n(v, field)) {
    for (const auto& [code, value] : *map) out[code] = value;
  }
  return out;
}

json PluginHead(const PluginVersion& newest) {
  json out;
  out["name"] = newest.name;
  out["title"] = newest.spec ? newest.spec->spec.info.title : newest.name;
  out["description"] = newest.spec ? newest.spec->spec.info.description : "";
  out["category"] = Category(newest);
  out["title_i18n"] = I18nJson(newest, "title");
  out["description_i18n"] = I18nJson(newest, "description");
  out["latest"] = newest.version;
  out["page"] = "/plugin/" + newest.name;
  out["icon"] = newest.has_icon ? json(FilePath(newest, "icon.png")) : json(nullptr);
  return out;
}

json SchemaRowsJson(const json* schema) {
  json out = json::array();
  if (schema == nullptr) return out;
  for (const SchemaRow& row : SchemaRows(*schema, Lang::kEn)) {
    out.push_back({{"path", row.path},
                   {"type", row.type},
                   {"required", row.required},
                   {"x-scope", row.scope},
                   {"title", row.title},
                   {"description", row.description},
                   {"default", row.default_value},
                   {"example", row.example},
                   {"enum", row.enum_values}});
  }
  return out;
}

json YamlJson(const Result<std::string>& yaml) {
  if (yaml) return json{{"yaml", *yaml}};
  return json{{"error", yaml.error().message()}};
}

}  // namespace

std::string_view LangCode(Lang lang) { return lang == Lang::kZh ? "zh" : "en"; }

Lang ChooseLang(std::string_view query_lang, std::string_view accept_language) {
  if (query_lang == "zh") return Lang::kZh;
  if (query_lang == "en") return Lang::kEn;
  // RFC 9110 §12.5.4: comma-separated ranges with optional ";q=". Only en and zh matter here.
  double best_q = 0;
  Lang best = Lang::kEn;
  size_t count = 0;
  while (!accept_language.empty() && count++ < 32) {
    size_t comma = accept_language.find(',');
    std::string_view item = accept_language.substr(0, comma);
    accept_language =
        comma == std::string_view::npos ? std::string_view() : accept_language.substr(comma + 1);
    size_t semi = item.find(';');
    std::string range = AsciiLower(item.substr(0, semi));
    range.erase(std::remove(range.begin(), range.end(), ' '), range.end());
    double q = 1;
    if (semi != std::string_view::npos) {
      std::string params = AsciiLower(item.substr(semi + 1));
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      if (params.starts_with("q=")) q = std::strtod(params.c_str() + 2, nullptr);
    }
    bool zh = range == "zh" || range.starts_with("zh-");
    bool en = range == "en" || range.starts_with("en-");
    if ((zh || en) && q > best_q) {
      best_q = q;
      best = zh ? Lang::kZh : Lang::kEn;
    }
  }
  return best;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Localized(std::string_view base, const std::map<std::string, std::string>* i18n,
                      Lang lang) {
  if (i18n != nullptr) {
    std::string_view exact = lang == Lang::kZh ? "zh-CN" : "en-US";
    auto it = i18n->find(std::string(exact));
    if (it != i18n->end() && !it->second.empty()) return it->second;
    std::string_view prefix = LangCode(lang);
    for (const auto& [code, value] : *i18n) {
      if (StartsWithIgnoreCase(code, prefix) && !value.empty()) return value;
    }
  }
  return std::string(base);
}

std::vector<SchemaRow> SchemaRows(const json& schema, Lang lang, const SchemaTableLimits& limits) {
  SchemaWalker walker{schema, lang, limits, {}};
  std::vector<std::string> seen;
  if (const json* root = walker.Resolve(&schema, seen)) walker.Walk(*root, "", 0, seen);
  return std::move(walker.rows);
}

bool MatchesQuery(const PluginVersion& v, std::string_view query) {
  if (query.empty()) return true;
  return SearchText(v).find(AsciiLower(query)) != std::string::npos;
}

std::string RenderIndexPage(const std::vector<const PluginVersion*>& versions,
                            const PageOptions& options) {
  Lang lang = options.lang;
  std::string body;
  body += "<h1>" + std::string(Tr(lang, "Wasm plugins", "Wasm 插件")) + "</h1>\n";
  body += "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">";
  body += "<input type=\"search\" id=\"search\" name=\"q\" value=\"" + HtmlEscape(options.query) +
          "\" placeholder=\"" + std::string(Tr(lang, "Search plugins", "搜索插件")) +
          "\" aria-label=\"" + std::string(Tr(lang, "Search plugins", "搜索插件")) + "\">";
  if (options.lang_explicit) {
    body += "<input type=\"hidden\" name=\"lang\" value=\"" + std::string(LangCode(lang)) + "\">";
  }
  body +=
      "<button type=\"submit\">" + std::string(Tr(lang, "Search", "搜索")) + "</button></form>\n";

  size_t shown = 0;
  std::string list;
  for (const auto& group : ByName(versions)) {
    bool match = std::any_of(group.begin(), group.end(), [&](const PluginVersion* v) {
      return MatchesQuery(*v, options.query);
    });
    if (!match) continue;
    ++shown;
    const PluginVersion& newest = *group.back();
    std::string search_text;
    for (const PluginVersion* v : group) search_text += SearchText(*v) + "\n";
    list += "<li class=\"plugin\" data-name=\"" + HtmlEscape(newest.name) + "\" data-search=\"" +
            HtmlEscape(search_text) + "\">" + IconHtml(newest) + "<div>";
    list += "<h2><a href=\"" + HtmlEscape(WithLang("/plugin/" + newest.name, options)) + "\">" +
            HtmlEscape(Title(newest, lang)) + "</a></h2>";
    list += "<p class=\"meta\"><code>" + HtmlEscape(newest.name) + "</code>";
    if (std::string category = Category(newest); !category.empty()) {
      list += " · <span class=\"badge\">" + HtmlEscape(category) + "</span>";
    }
    list += "</p>";
    if (std::string description = Description(newest, lang); !description.empty()) {
      list += "<p>" + HtmlEscape(description) + "</p>";
    }
    list += "<p class=\"meta\">" + std::string(Tr(lang, "Versions", "版本")) + ": ";
    for (size_t i = group.size(); i-- > 0;) {
      list += "<a href=\"" + HtmlEscape(WithLang(PagePath(*group[i]), options)) + "\">" +
              HtmlEscape(group[i]->version) + "</a>";
      if (i > 0) list += ", ";
    }
    list += "</p><p class=\"meta\">";
    if (newest.spec) {
      list += fmt::format("{} <code>{}</code> · {} <code>{}</code> · ", Tr(lang, "phase", "阶段"),
                          HtmlEscape(PhaseText(newest)), Tr(lang, "priority", "优先级"),
                          newest.spec->spec.priority);
    }
    list += LoadabilityBadge(newest, lang) + "</p></div></li>\n";
  }
  if (shown == 0) {
    body +=
        "<p>" +
        std::string(options.query.empty() ? Tr(lang, "No plugins yet.", "暂无插件。")
                                          : Tr(lang, "No plugin matches.", "没有匹配的插件。")) +
        "</p>\n";
  } else {
    body += "<ul class=\"plugins\">\n" + list + "</ul>\n";
  }
  return Page(Tr(lang, "Wasm plugins", "Wasm 插件"), body, options);
}

std::string RenderVersionPage(const VersionPageInput& input, const PageOptions& options) {
  const PluginVersion& v = *input.version;
  Lang lang = options.lang;
  std::string title = Title(v, lang);
  std::string body;
  body += "<nav class=\"crumbs\"><a href=\"" + HtmlEscape(WithLang("/", options)) + "\">" +
          std::string(Tr(lang, "All plugins", "全部插件")) + "</a></nav>\n";
  body +=
      "<div class=\"plugin-head\">" + IconHtml(v) + "<h1>" + HtmlEscape(title) + "</h1></div>\n";
  body += "<p class=\"meta\"><code>" + HtmlEscape(v.name) + "</code> " + HtmlEscape(v.version);
  if (std::string category = Category(v); !category.empty()) {
    body += " · <span class=\"badge\">" + HtmlEscape(category) + "</span>";
  }
  body += "</p>\n";
  if (std::string description = Description(v, lang); !description.empty()) {
    body += "<p class=\"description\">" + HtmlEscape(description) + "</p>\n";
  }

  body += "<h2>" + std::string(Tr(lang, "Versions", "版本")) + "</h2>\n<ul class=\"versions\">";
  for (size_t i = input.versions.size(); i-- > 0;) {
    const PluginVersion& other = *input.versions[i];
    if (&other == &v || other.version == v.version) {
      body += "<li><strong aria-current=\"page\">" + HtmlEscape(other.version) + "</strong></li>";
    } else {
      body += "<li><a href=\"" + HtmlEscape(WithLang(PagePath(other), options)) + "\">" +
              HtmlEscape(other.version) + "</a></li>";
    }
  }
  body += "</ul>\n";

  body += "<h2>" + std::string(Tr(lang, "Details", "详情")) + "</h2>\n<dl class=\"facts\">\n";
  body += CodeFact(Tr(lang, "Repository", "仓库"), v.repository);
  body += CodeFact(Tr(lang, "Version", "版本"), v.version);
  if (std::string created = FormatTime(v.created); !created.empty()) {
    body += Fact(Tr(lang, "Created", "创建时间"), HtmlEscape(created));
  }
  body += CodeFact(Tr(lang, "Image shape", "镜像格式"), v.shape);
  body += CodeFact(Tr(lang, "Image digest", "镜像摘要"), v.root.digest.ToString());
  if (v.gateway_manifest) {
    body += CodeFact(Tr(lang, "Gateway manifest", "网关清单摘要"), v.gateway_manifest->ToString());
  }
  if (v.usable) {
    body += CodeFact("plugin.wasm sha256", v.wasm_sha256.hex());
    body += CodeFact("plugin.wasm md5", v.wasm_md5);
    body += Fact(Tr(lang, "plugin.wasm size", "plugin.wasm 大小"),
                 fmt::format("{} {}", v.wasm_size, Tr(lang, "bytes", "字节")));
  }
  std::string loadable = LoadabilityBadge(v, lang);
  if (!v.gateway_reasons.empty()) {
    loadable += "<ul class=\"reasons\">";
    for (const std::string& reason : v.gateway_reasons) {
      loadable += "<li>" + HtmlEscape(reason) + "</li>";
    }
    loadable += "</ul>";
  }
  body += Fact(Tr(lang, "Gateway (oci://)", "网关 (oci://)"), loadable);
  if (v.spec) {
    body += CodeFact(Tr(lang, "Phase", "阶段"), PhaseText(v));
    body += CodeFact(Tr(lang, "Priority", "优先级"), std::to_string(v.spec->spec.priority));
  }
  std::string downloads;
  if (v.usable) {
    downloads +=
        "<a href=\"" + HtmlEscape(FilePath(v, "plugin.wasm")) + "\" download>plugin.wasm</a> · ";
  }
  downloads += "<a href=\"" + HtmlEscape(FilePath(v, "metadata.txt")) + "\">metadata.txt</a>";
  if (v.spec) {
    downloads += " · <a href=\"" + HtmlEscape(FilePath(v, "spec.yaml")) + "\">spec.yaml</a>";
  }
  body += Fact(Tr(lang, "Downloads", "下载"), downloads);
  body += "</dl>\n";
  if (!v.usable && !v.error.empty()) {
    body += "<p class=\"error\">" + HtmlEscape(v.error) + "</p>\n";
  }

  body += "<h2>WasmPlugin</h2>\n";
  body += "<h3>" + std::string(Tr(lang, "From the registry (oci://)", "从镜像仓库 (oci://)")) +
          "</h3>\n";
  if (input.oci_yaml && v.usable && !v.gateway_loadable) {
    // The text can still be made, but the gateway would refuse the image: say so next to it.
    body += "<p class=\"error\">" +
            std::string(Tr(lang,
                           "The gateway would not load this image from the registry (see Details); "
                           "use the http:// form.",
                           "网关无法从镜像仓库加载此镜像（见详情），请使用 http:// 方式。")) +
            "</p>\n";
  }
  body += YamlBlock(input.oci_yaml, "wasmplugin-oci", lang);
  body += "<h3>" + std::string(Tr(lang, "Over HTTP (http://)", "通过 HTTP (http://)")) + "</h3>\n";
  body += YamlBlock(input.http_yaml, "wasmplugin-http", lang);

  body += "<h2>" + std::string(Tr(lang, "Configuration", "配置")) + "</h2>\n";
  const json* config = OpenApiSchema(v, "configSchema");
  const json* route_config = OpenApiSchema(v, "routeConfigSchema");
  if (config == nullptr && route_config == nullptr) {
    body += "<p>" +
            std::string(v.spec ? Tr(lang, "The spec.yaml declares no configuration schema.",
                                    "spec.yaml 未声明配置模式。")
                               : Tr(lang, "The image has no readable spec.yaml.",
                                    "镜像中没有可读的 spec.yaml。")) +
            "</p>\n";
  }
  if (config != nullptr) {
    body += "<h3>" + std::string(Tr(lang, "Global (defaultConfig)", "全局 (defaultConfig)")) +
            "</h3>\n";
    body += SchemaTable(*config, lang);
  }
  if (route_config != nullptr) {
    body +=
        "<h3>" +
        std::string(Tr(lang, "Per rule (matchRules[].config)", "规则级 (matchRules[].config)")) +
        "</h3>\n";
    body += SchemaTable(*route_config, lang);
  }

  if (!input.readme.empty()) {
    body += "<h2>README <span class=\"meta\">" + HtmlEscape(input.readme_file) + "</span></h2>\n";
    body += "<div class=\"readme\">\n" + RenderMarkdown(input.readme, FilePath(v, "")) + "</div>\n";
  }
  return Page(title + " " + v.version, body, options);
}

std::string RenderMessagePage(std::string_view title, std::string_view message,
                              const PageOptions& options) {
  std::string body = "<h1>" + HtmlEscape(title) + "</h1>\n<p>" + HtmlEscape(message) + "</p>\n";
  body += "<p><a href=\"" + HtmlEscape(WithLang("/", options)) + "\">" +
          std::string(Tr(options.lang, "All plugins", "全部插件")) + "</a></p>\n";
  return Page(title, body, options);
}

json VersionJson(const PluginVersion& v) {
  json out;
  out["name"] = v.name;
  out["version"] = v.version;
  out["repository"] = v.repository;
  out["listed_name"] = v.listed_name;
  out["digest"] = v.root.digest.ToString();
  out["media_type"] = v.root.media_type;
  out["usable"] = v.usable;
  if (v.usable) {
    out["wasm"] = {{"sha256", v.wasm_sha256.hex()}, {"size", v.wasm_size}, {"md5", v.wasm_md5}};
  } else {
    out["error"] = v.error;
  }
  out["created"] = v.created;
  out["shape"] = v.shape;
  out["gateway_loadable"] = v.gateway_loadable;
  out["gateway_reasons"] = v.gateway_reasons;
  out["gateway_manifest"] =
      v.gateway_manifest ? json(v.gateway_manifest->ToString()) : json(nullptr);
  out["phase"] = v.spec ? json(PhaseText(v)) : json(nullptr);
  out["priority"] = v.spec ? json(v.spec->spec.priority) : json(nullptr);
  out["readmes"] = v.readmes;
  json links;
  links["page"] = PagePath(v);
  links["metadata"] = FilePath(v, "metadata.txt");
  if (v.usable) links["download"] = FilePath(v, "plugin.wasm");
  if (v.has_icon) links["icon"] = FilePath(v, "icon.png");
  if (v.spec) links["spec"] = FilePath(v, "spec.yaml");
  out["links"] = std::move(links);
  return out;
}

json PluginJson(const std::vector<const PluginVersion*>& versions) {
  if (versions.empty() || versions.back() == nullptr) return json::object();
  json out = PluginHead(*versions.back());
  json list = json::array();
  for (const PluginVersion* v : versions) {
    if (v != nullptr) list.push_back(VersionJson(*v));
  }
  out["versions"] = std::move(list);
  return out;
}

json PluginsJson(const std::vector<const PluginVersion*>& versions) {
  json plugins = json::array();
  for (const auto& group : ByName(versions)) plugins.push_back(PluginJson(group));
  return json{{"plugins", std::move(plugins)}};
}

json VersionDetailJson(const VersionPageInput& input) {
  const PluginVersion& v = *input.version;
  json out = VersionJson(v);
  out["plugin"] = PluginHead(v);
  out["plugin"].erase("latest");  // the head of this version, not of the newest
  out["spec"] = v.spec ? v.spec->document.value : json(nullptr);
  out["schema"] = {{"configSchema", SchemaRowsJson(OpenApiSchema(v, "configSchema"))},
                   {"routeConfigSchema", SchemaRowsJson(OpenApiSchema(v, "routeConfigSchema"))}};
  out["wasmplugin"] = {{"oci", YamlJson(input.oci_yaml)}, {"http", YamlJson(input.http_yaml)}};
  return out;
}

}  // namespace plugctl::catalog
