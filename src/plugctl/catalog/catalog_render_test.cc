#include "plugctl/catalog/catalog_render.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/higress_specs.h"
#include "support/html_attributes.h"
#include <gtest/gtest.h>

namespace plugctl::catalog {
namespace {

using nlohmann::json;

// A spec.yaml as a hostile publisher would write it: markup in every text, a recursive $ref.
constexpr std::string_view kHostileSpec = R"yaml(apiVersion: 1.0.0
info:
  category: "auth<script>"
  name: evil-plugin
  title: "<script>alert('t')</script>Evil"
  x-title-i18n:
    zh-CN: "邪恶<img src=x onerror=alert(1)>"
  description: "desc \" onmouseover=\"alert(1)"
  x-description-i18n:
    zh-CN: "说明"
  version: 1.0.0
spec:
  phase: AUTHN
  priority: 123
  configSchema:
    openAPIV3Schema:
      type: object
      required: [consumers]
      properties:
        consumers:
          type: array
          x-scope: GLOBAL
          title: "<b>Consumers</b>"
          description: "the <i>list</i>"
          x-description-i18n:
            zh-CN: 调用方列表
          items:
            type: object
            required: [credential]
            properties:
              credential:
                type: string
                description: the credential
                example: "admin:<script>"
              name:
                type: string
                default: "x"
        mode:
          type: string
          enum: [a, "<b>"]
          default: a
        rule:
          $ref: "#/components/schemas/rule"
      components:
        schemas:
          rule:
            type: object
            properties:
              key:
                type: string
              next:
                $ref: "#/components/schemas/rule"
)yaml";

std::shared_ptr<const spec::ParsedSpec> Parse(std::string_view text) {
  auto parsed = spec::ParseSpecYaml(text, "spec.yaml");
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message());
  if (!parsed) return nullptr;
  return std::make_shared<const spec::ParsedSpec>(std::move(*parsed));
}

PluginVersion Version(std::string name, std::string version, std::string_view spec_text) {
  PluginVersion v;
  v.name = std::move(name);
  v.version = std::move(version);
  v.repository = "plugins/" + v.name;
  v.root.media_type = "application/vnd.oci.image.manifest.v1+json";
  v.root.digest = oci::Digest::Of(v.name + v.version);
  v.usable = true;
  v.wasm_sha256 = oci::Digest::Of("wasm");
  v.wasm_size = 4;
  v.wasm_md5 = "0123456789abcdef0123456789abcdef";
  v.created = 1700000000;
  v.gateway_loadable = true;
  v.gateway_manifest = oci::Digest::Of("manifest");
  v.shape = "oci";
  v.has_icon = true;
  v.readmes = {"README.md", "README_EN.md"};
  if (!spec_text.empty()) v.spec = Parse(spec_text);
  return v;
}

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// No markup from the image survived as markup: the only script element is the page's own asset,
// and no attribute was opened by an image string.
void ExpectNoInjectedMarkup(const std::string& html) {
  EXPECT_EQ(Count(html, "<script"), 1u) << html;
  EXPECT_EQ(Count(html, "<script src=\"/assets/catalog.js\" defer></script>"), 1u);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  for (const auto& [name, value] : test_support::HtmlAttributes(html)) {
    EXPECT_FALSE(name.starts_with("on")) << name;
  }
  EXPECT_EQ(html.find("\" onmouseover=\""), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_EQ(html.find("href=\"javascript"), std::string::npos);
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const SchemaRow* FindRow(const std::vector<SchemaRow>& rows, std::string_view path) {
  auto it =
      std::find_if(rows.begin(), rows.end(), [&](const SchemaRow& r) { return r.path == path; });
  return it == rows.end() ? nullptr : &*it;
}

TEST(CatalogRenderTest, HtmlEscapeCoversAttributes) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(CatalogRenderTest, ChooseLang) {
  EXPECT_EQ(ChooseLang("zh", "en-US"), Lang::kZh);
  EXPECT_EQ(ChooseLang("en", "zh-CN"), Lang::kEn);
  EXPECT_EQ(ChooseLang("fr", "zh-CN,zh;q=0.9,en;q=0.8"), Lang::kZh);
  EXPECT_EQ(ChooseLang("", "en-GB;q=0.9, zh-TW;q=0.5"), Lang::kEn);
  EXPECT_EQ(ChooseLang("", "de, zh;q=0.4, en;q=0.3"), Lang::kZh);
  EXPECT_EQ(ChooseLang("", "zh;q=0"), Lang::kEn);
  EXPECT_EQ(ChooseLang("", ""), Lang::kEn);
  EXPECT_EQ(ChooseLang("", "zhx, english"), Lang::kEn);
}

TEST(CatalogRenderTest, LocalizedPicksByLanguagePrefix) {
  std::map<std::string, std::string> i18n = {{"zh-CN", "中文"}, {"en", "English"}};
  EXPECT_EQ(Localized("base", &i18n, Lang::kZh), "中文");
  EXPECT_EQ(Localized("base", &i18n, Lang::kEn), "English");
  std::map<std::string, std::string> empty_zh = {{"zh-CN", ""}};
  EXPECT_EQ(Localized("base", &empty_zh, Lang::kZh), "base");
  EXPECT_EQ(Localized("base", nullptr, Lang::kZh), "base");
}

TEST(CatalogRenderTest, SchemaRowsOfHostileSpec) {
  auto parsed = Parse(kHostileSpec);
  ASSERT_TRUE(parsed);
  const json& schema = parsed->document.value["spec"]["configSchema"]["openAPIV3Schema"];
  std::vector<SchemaRow> rows = SchemaRows(schema, Lang::kEn);

  const SchemaRow* consumers = FindRow(rows, "consumers");
  ASSERT_NE(consumers, nullptr);
  EXPECT_EQ(consumers->type, "array of object");
  EXPECT_TRUE(consumers->required);
  EXPECT_EQ(consumers->scope, "GLOBAL");
  EXPECT_EQ(consumers->title, "<b>Consumers</b>");  // escaping is the page's job
  EXPECT_EQ(consumers->description, "the <i>list</i>");

  const SchemaRow* credential = FindRow(rows, "consumers[].credential");
  ASSERT_NE(credential, nullptr);
  EXPECT_EQ(credential->type, "string");
  EXPECT_TRUE(credential->required);
  EXPECT_EQ(credential->example, "\"admin:<script>\"");
  const SchemaRow* name = FindRow(rows, "consumers[].name");
  ASSERT_NE(name, nullptr);
  EXPECT_FALSE(name->required);
  EXPECT_EQ(name->default_value, "\"x\"");

  const SchemaRow* mode = FindRow(rows, "mode");
  ASSERT_NE(mode, nullptr);
  EXPECT_EQ(mode->enum_values, "\"a\", \"<b>\"");
  EXPECT_EQ(mode->default_value, "\"a\"");

  // The $ref is followed once; its recursion is cut with a row naming the reference.
  ASSERT_NE(FindRow(rows, "rule"), nullptr);
  EXPECT_EQ(FindRow(rows, "rule")->type, "object");
  ASSERT_NE(FindRow(rows, "rule.key"), nullptr);
  const SchemaRow* next = FindRow(rows, "rule.next");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->type, "$ref");
  EXPECT_EQ(FindRow(rows, "rule.next.key"), nullptr);

  std::vector<SchemaRow> zh = SchemaRows(schema, Lang::kZh);
  ASSERT_NE(FindRow(zh, "consumers"), nullptr);
  EXPECT_EQ(FindRow(zh, "consumers")->description, "调用方列表");
}

TEST(CatalogRenderTest, SchemaRowsAreBounded) {
  // A chain of self-references through different names, and a wide object.
  json schema =
      json::parse(R"({"type":"object","properties":{"a":{"$ref":"#/components/schemas/a"}},
    "components":{"schemas":{"a":{"type":"object","properties":{"b":{"$ref":"#/components/schemas/b"}}},
                             "b":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/a"}}}}}})");
  std::vector<SchemaRow> rows = SchemaRows(schema, Lang::kEn);
  EXPECT_LE(rows.size(), 4u);
  json wide = {{"type", "object"}, {"properties", json::object()}};
  for (int i = 0; i < 1000; ++i) wide["properties"]["p" + std::to_string(i)] = {{"type", "string"}};
  EXPECT_EQ(SchemaRows(wide, Lang::kEn, {.max_rows = 50}).size(), 50u);
  json deep = {{"type", "string"}};
  for (int i = 0; i < 100; ++i) deep = {{"type", "object"}, {"properties", {{"x", deep}}}};
  EXPECT_LE(SchemaRows(deep, Lang::kEn, {.max_depth = 5}).size(), 6u);
  json long_example = {
      {"type", "object"},
      {"properties", {{"s", {{"type", "string"}, {"example", std::string(5000, 'e')}}}}}};
  EXPECT_LE(SchemaRows(long_example, Lang::kEn)[0].example.size(), 410u);
  json map = json::parse(R"({"type":"object","properties":{"m":{"type":"object",
    "additionalProperties":{"type":"string"}}}})");
  EXPECT_EQ(SchemaRows(map, Lang::kEn).at(0).type, "map of string");
  // Odd shapes give no rows rather than failing.
  EXPECT_TRUE(SchemaRows(json("string"), Lang::kEn).empty());
  EXPECT_TRUE(SchemaRows(json::parse(R"({"$ref":"#/nowhere"})"), Lang::kEn).empty());
  EXPECT_TRUE(SchemaRows(json::parse(R"({"properties":[1,2]})"), Lang::kEn).empty());
}

TEST(CatalogRenderTest, SchemaRowsOfRealHigressSpecs) {
  auto specs = test_support::ReadHigressSpecs();
  if (specs.empty()) GTEST_SKIP() << "no data at " << test_support::HigressSpecDir();
  auto basic = Parse(specs.at("basic-auth.spec.yaml"));
  ASSERT_TRUE(basic);
  const json& config = basic->document.value["spec"]["configSchema"]["openAPIV3Schema"];
  std::vector<SchemaRow> en = SchemaRows(config, Lang::kEn);
  const SchemaRow* credential = FindRow(en, "consumers[].credential");
  ASSERT_NE(credential, nullptr);
  EXPECT_TRUE(credential->required);
  EXPECT_TRUE(credential->description.starts_with("The credential of the consumer"))
      << credential->description;
  EXPECT_EQ(FindRow(en, "global_auth")->scope, "GLOBAL");
  std::vector<SchemaRow> zh = SchemaRows(config, Lang::kZh);
  EXPECT_TRUE(FindRow(zh, "consumers[].credential")->description.starts_with("该调用方的访问凭证"));

  auto transformer = Parse(specs.at("transformer.spec.yaml"));
  ASSERT_TRUE(transformer);
  std::vector<SchemaRow> rows =
      SchemaRows(transformer->document.value["spec"]["configSchema"]["openAPIV3Schema"], Lang::kEn);
  EXPECT_NE(FindRow(rows, "reqRules[].headers[].key"), nullptr);

  // Every real spec renders without tripping a limit or an exception.
  for (const auto& [file, text] : specs) {
    auto parsed = spec::ParseSpecYaml(text, file);
    if (!parsed) continue;
    for (const char* block : {"configSchema", "routeConfigSchema"}) {
      const json& doc = parsed->document.value;
      if (!doc.contains("spec") || !doc["spec"].is_object() || !doc["spec"].contains(block)) {
        continue;
      }
      const json& b = doc["spec"][block];
      if (!b.is_object() || !b.contains("openAPIV3Schema")) continue;
      EXPECT_LT(SchemaRows(b["openAPIV3Schema"], Lang::kEn).size(), 400u) << file;
    }
  }
}

TEST(CatalogRenderTest, IndexPageListsAndEscapes) {
  PluginVersion evil1 = Version("evil-plugin", "1.0.0", kHostileSpec);
  PluginVersion evil2 = Version("evil-plugin", "1.1.0", kHostileSpec);
  evil2.gateway_loadable = false;
  PluginVersion bare = Version("no-spec", "2.0.0", "");
  bare.has_icon = false;
  bare.usable = false;
  bare.error = "no <wasm> layer";
  std::vector<const PluginVersion*> versions = {&evil1, &evil2, &bare};

  std::string html = RenderIndexPage(versions, {});
  ExpectNoInjectedMarkup(html);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;Evil"), std::string::npos);
  EXPECT_NE(html.find("desc &quot; onmouseover=&quot;alert(1)"), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugin/evil-plugin\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugin/evil-plugin/1.1.0\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugin/evil-plugin/1.0.0\""), std::string::npos);
  EXPECT_NE(html.find("src=\"/plugins/evil-plugin/1.1.0/icon.png\""), std::string::npos);
  EXPECT_EQ(html.find("/plugins/no-spec/2.0.0/icon.png"), std::string::npos);
  EXPECT_NE(html.find(">no-spec<"), std::string::npos);
  EXPECT_NE(html.find("not loadable"), std::string::npos);  // the newest decides
  EXPECT_NE(html.find("no plugin.wasm"), std::string::npos);
  EXPECT_NE(html.find("<code>AUTHN</code>"), std::string::npos);
  EXPECT_NE(html.find("<code>123</code>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/?lang=zh\""), std::string::npos);
  EXPECT_EQ(Count(html, "<li class=\"plugin\""), 2u);

  std::string zh = RenderIndexPage(versions, {.lang = Lang::kZh, .lang_explicit = true});
  ExpectNoInjectedMarkup(zh);
  EXPECT_NE(zh.find("邪恶&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(zh.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(zh.find("href=\"/plugin/evil-plugin?lang=zh\""), std::string::npos);
  EXPECT_NE(zh.find("name=\"lang\" value=\"zh\""), std::string::npos);

  std::string filtered = RenderIndexPage(versions, {.query = "NO-SPEC"});
  EXPECT_EQ(Count(filtered, "<li class=\"plugin\""), 1u);
  EXPECT_NE(filtered.find("data-name=\"no-spec\""), std::string::npos);
  EXPECT_NE(filtered.find("value=\"NO-SPEC\""), std::string::npos);
  std::string hostile_query = RenderIndexPage(versions, {.query = "\"><script>x</script>"});
  ExpectNoInjectedMarkup(hostile_query);
  EXPECT_NE(hostile_query.find("No plugin matches."), std::string::npos);
  EXPECT_NE(RenderIndexPage(versions, {.query = "说明"}).find("data-name=\"evil-plugin\""),
            std::string::npos);
  EXPECT_NE(RenderIndexPage({}, {}).find("No plugins yet."), std::string::npos);
}

TEST(CatalogRenderTest, VersionPageShowsEverything) {
  PluginVersion old_version = Version("evil-plugin", "1.0.0", kHostileSpec);
  PluginVersion v = Version("evil-plugin", "1.1.0", kHostileSpec);
  v.gateway_loadable = false;
  v.gateway_reasons = {"layer <b>media type</b> is not wasm"};
  VersionPageInput input;
  input.version = &v;
  input.versions = {&old_version, &v};
  input.readme =
      "# Usage\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
      "[x](javascript:alert(1)) ![a](http://evil/x.png) [ok](https://higress.io)\n";
  input.readme_file = "README_EN.md";
  input.oci_yaml = std::string(
      "apiVersion: extensions.higress.io/v1alpha1\nkind: WasmPlugin\n"
      "# <script>\n");
  input.http_yaml = MakeError(ErrorCode::kUnimplemented, "not <yet>");

  std::string html = RenderVersionPage(input, {.self_path = "/plugin/evil-plugin/1.1.0"});
  ExpectNoInjectedMarkup(html);
  EXPECT_NE(html.find("<code>consumers[].credential</code>"), std::string::npos);
  EXPECT_NE(html.find("<td data-label=\"x-scope\">GLOBAL</td>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;Consumers&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;admin:&lt;script&gt;&quot;"), std::string::npos);
  EXPECT_NE(html.find("kind: WasmPlugin\n# &lt;script&gt;\n</pre>"), std::string::npos);
  EXPECT_NE(html.find("id=\"wasmplugin-oci\""), std::string::npos);
  EXPECT_NE(html.find("<p class=\"error\">not &lt;yet&gt;</p>"), std::string::npos);
  EXPECT_NE(html.find(v.root.digest.ToString()), std::string::npos);
  EXPECT_NE(html.find(v.gateway_manifest->ToString()), std::string::npos);
  EXPECT_NE(html.find(v.wasm_sha256.hex()), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugins/evil-plugin/1.1.0/plugin.wasm\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugins/evil-plugin/1.1.0/metadata.txt\""), std::string::npos);
  EXPECT_NE(html.find("layer &lt;b&gt;media type&lt;/b&gt; is not wasm"), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugin/evil-plugin/1.0.0\""), std::string::npos);
  EXPECT_NE(html.find("aria-current=\"page\">1.1.0<"), std::string::npos);
  EXPECT_NE(html.find("2023-11-14 22:13 UTC"), std::string::npos);
  EXPECT_NE(html.find("<h1>Usage</h1>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"http://evil/x.png\">a</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"https://higress.io\">ok</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/plugin/evil-plugin/1.1.0?lang=zh\""), std::string::npos);
  EXPECT_NE(html.find("<code>rule.next</code>"), std::string::npos);
  EXPECT_NE(html.find("The gateway would not load this image"), std::string::npos);
  v.gateway_loadable = true;
  EXPECT_EQ(RenderVersionPage(input, {}).find("The gateway would not load this image"),
            std::string::npos);
}

TEST(CatalogRenderTest, VersionPageWithRealSpecAndReadme) {
  auto specs = test_support::ReadHigressSpecs();
  if (specs.empty()) GTEST_SKIP() << "no data at " << test_support::HigressSpecDir();
  std::filesystem::path readmes = test_support::HigressSpecDir().parent_path() / "higress-readmes";
  PluginVersion v = Version("basic-auth", "1.0.0", specs.at("basic-auth.spec.yaml"));
  VersionPageInput input;
  input.version = &v;
  input.versions = {&v};
  input.readme = ReadText(readmes / "basic-auth.README.md");
  input.readme_file = "README.md";
  input.oci_yaml = std::string("kind: WasmPlugin\n");
  input.http_yaml = std::string("kind: WasmPlugin\n");
  std::string zh = RenderVersionPage(input, {.lang = Lang::kZh});
  EXPECT_NE(zh.find("<h1>Basic 认证</h1>"), std::string::npos);
  EXPECT_NE(zh.find("<code>consumers[].credential</code>"), std::string::npos);
  EXPECT_NE(zh.find("该调用方的访问凭证"), std::string::npos);
  EXPECT_NE(zh.find("<code>allow</code>"), std::string::npos);  // routeConfigSchema
  EXPECT_NE(zh.find("<table>"), std::string::npos) << "README tables";
  EXPECT_EQ(Count(zh, "<img"), Count(zh, "<img class=\"icon\" src=\"/plugins/basic-auth/"));
  std::string en = RenderVersionPage(input, {});
  EXPECT_NE(en.find("<h1>Basic Auth</h1>"), std::string::npos);
  EXPECT_NE(en.find("The credential of the consumer"), std::string::npos);
}

TEST(CatalogRenderTest, MessagePageEscapes) {
  std::string html = RenderMessagePage("404", "<script>x</script>", {});
  ExpectNoInjectedMarkup(html);
}

TEST(CatalogRenderTest, Json) {
  PluginVersion a1 = Version("evil-plugin", "1.0.0", kHostileSpec);
  PluginVersion a2 = Version("evil-plugin", "1.1.0", kHostileSpec);
  PluginVersion b = Version("no-spec", "2.0.0", "");
  b.usable = false;
  b.error = "bad \xff bytes";
  b.has_icon = false;
  b.gateway_manifest.reset();
  json all = PluginsJson({&a1, &a2, &b});
  ASSERT_EQ(all["plugins"].size(), 2u);
  EXPECT_EQ(all["plugins"][0]["name"], "evil-plugin");
  EXPECT_EQ(all["plugins"][0]["latest"], "1.1.0");
  EXPECT_EQ(all["plugins"][0]["title_i18n"]["zh-CN"], "邪恶<img src=x onerror=alert(1)>");
  EXPECT_EQ(all["plugins"][0]["versions"].size(), 2u);
  EXPECT_EQ(all["plugins"][0]["icon"], "/plugins/evil-plugin/1.1.0/icon.png");
  EXPECT_TRUE(all["plugins"][1]["icon"].is_null());
  const json& bj = all["plugins"][1]["versions"][0];
  EXPECT_EQ(bj["usable"], false);
  EXPECT_FALSE(bj.contains("wasm"));
  EXPECT_FALSE(bj["links"].contains("download"));
  EXPECT_TRUE(bj["gateway_manifest"].is_null());
  EXPECT_TRUE(bj["phase"].is_null());
  // Invalid UTF-8 from an image must not make the API throw.
  EXPECT_NO_THROW((void)all.dump(-1, ' ', false, json::error_handler_t::replace));

  const json& aj = all["plugins"][0]["versions"][1];
  EXPECT_EQ(aj["digest"], a2.root.digest.ToString());
  EXPECT_EQ(aj["wasm"]["sha256"], a2.wasm_sha256.hex());
  EXPECT_EQ(aj["links"]["download"], "/plugins/evil-plugin/1.1.0/plugin.wasm");
  EXPECT_EQ(aj["links"]["page"], "/plugin/evil-plugin/1.1.0");
  EXPECT_EQ(aj["phase"], "AUTHN");
  EXPECT_EQ(aj["priority"], 123);

  VersionPageInput input;
  input.version = &a1;
  input.versions = {&a1, &a2};
  input.oci_yaml = std::string("kind: WasmPlugin\n");
  input.http_yaml = MakeError(ErrorCode::kUnimplemented, "not yet");
  json detail = VersionDetailJson(input);
  EXPECT_EQ(detail["version"], "1.0.0");
  EXPECT_EQ(detail["wasmplugin"]["oci"]["yaml"], "kind: WasmPlugin\n");
  EXPECT_EQ(detail["wasmplugin"]["http"]["error"], "not yet");
  EXPECT_EQ(detail["spec"]["info"]["name"], "evil-plugin");
  EXPECT_FALSE(detail["plugin"].contains("latest"));
  bool found = false;
  for (const json& row : detail["schema"]["configSchema"]) {
    if (row["path"] == "consumers[].credential") found = row["required"] == true;
  }
  EXPECT_TRUE(found) << detail["schema"].dump();
}

}  // namespace
}  // namespace plugctl::catalog
