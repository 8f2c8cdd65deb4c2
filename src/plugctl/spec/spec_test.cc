#include "plugctl/spec/spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/higress_specs.h"
#include <gtest/gtest.h>

namespace plugctl::spec {
namespace {

// A spec.yaml in the documented format (image spec §3), with every documented field.
constexpr std::string_view kDocumentedSpec = R"(apiVersion: 1.0.0
info:
  category: auth
  name: basic-auth/v1
  title: Basic Auth
  description: HTTP Basic Auth
  x-description-i18n:
    en-US: Authentication based on HTTP Basic Auth.
  iconUrl: https://example.com/icon.png
  version: 1.0.0
  contact:
    name: Team
    url: http://example.com/
    email: admin@example.com
spec:
  phase: AUTHN
  priority: 0
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        consumers:
          type: array
          x-scope: GLOBAL
          title: Consumers
          x-title-i18n:
            zh-CN: 调用方列表
          items:
            type: object
            properties:
              name:
                type: string
                minLength: 6
                maxLength: 256
                pattern: "^[a-z0-9]+$"
              credential:
                type: string
            required:
              - name
              - credential
        allow:
          type: array
          items:
            type: string
      required:
        - allow
        - consumers
      example:
        consumers:
          - name: consumer1
            credential: admin:123456
        allow:
          - consumer1
)";

std::string Findings(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) out += "\n  " + f.ToString();
  return out;
}

const Finding* FindFinding(const std::vector<Finding>& findings, Severity severity,
                           std::string_view path, std::string_view message_part) {
  for (const Finding& f : findings) {
    if (f.severity == severity && f.path == path &&
        f.message.find(message_part) != std::string::npos) {
      return &f;
    }
  }
  return nullptr;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

TEST(SpecTest, DocumentedFormatParses) {
  Result<ParsedSpec> parsed = ParseSpecYaml(kDocumentedSpec, "spec.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_TRUE(parsed->findings.empty()) << Findings(parsed->findings);
  const PluginSpec& spec = parsed->spec;
  EXPECT_EQ(spec.api_version, "1.0.0");
  EXPECT_EQ(spec.info.name, "basic-auth/v1");
  EXPECT_EQ(spec.info.category, "auth");
  EXPECT_EQ(spec.info.title, "Basic Auth");
  EXPECT_EQ(spec.info.version, "1.0.0");
  EXPECT_EQ(spec.info.icon_url, "https://example.com/icon.png");
  ASSERT_TRUE(spec.info.contact);
  EXPECT_EQ(spec.info.contact->email, "admin@example.com");
  EXPECT_EQ(spec.info.i18n.at("description").at("en-US"),
            "Authentication based on HTTP Basic Auth.");
  EXPECT_EQ(spec.phase, PluginPhase::kAuthn);
  EXPECT_EQ(spec.phase_text, "AUTHN");
  EXPECT_EQ(spec.priority, 0);
  ASSERT_TRUE(spec.config_schema);
  EXPECT_FALSE(spec.route_config_schema);
  EXPECT_EQ(spec.SchemaFor(true), &*spec.config_schema);
  EXPECT_EQ(spec.SchemaFor(false), &*spec.config_schema);
  EXPECT_TRUE(ValidateSpecYaml(kDocumentedSpec, "spec.yaml", {.strict = true}).empty());
}

TEST(SpecTest, RealDialectIsAccepted) {
  std::string text = std::string(kDocumentedSpec);
  text = Replace(text, "  category: auth\n",
                 "  category: ai\n  type: enterprise\n  image: platform_wasm/x\n"
                 "  gatewayMinVersion: \"\"\n  readmeUrl: https://example.com/README.md\n"
                 "  x-readmeUrl-i18n:\n    en-US: https://example.com/README_EN.md\n"
                 "  x-title-i18n:\n");
  text = Replace(text, "  phase: AUTHN", "  phase: default");
  text = Replace(text, "          x-scope: GLOBAL", "          x-scope: INSTANCE");
  text = Replace(text, "  configSchema:", R"(  routeConfigSchema:
    openAPIV3Schema:
      type: object
      properties:
        rules:
          type: array
          items:
            $ref: "#/components/schemas/rule"
      components:
        schemas:
          rule:
            type: object
            properties:
              key: {type: string}
      example:
        rules:
          - key: a
  configSchema:)");
  Result<ParsedSpec> parsed = ParseSpecYaml(text, "spec.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_FALSE(HasErrors(parsed->findings)) << Findings(parsed->findings);
  for (const Finding& f : parsed->findings) {
    EXPECT_EQ(f.severity, Severity::kInfo) << f.ToString();
  }
  EXPECT_EQ(parsed->spec.phase, PluginPhase::kUnspecified);
  EXPECT_EQ(parsed->spec.phase_text, "default");
  EXPECT_EQ(parsed->spec.info.extra["image"], "platform_wasm/x");
  EXPECT_EQ(parsed->spec.info.i18n.at("readmeUrl").at("en-US"), "https://example.com/README_EN.md");
  EXPECT_TRUE(parsed->spec.info.i18n.at("title").empty());  // null map
  ASSERT_TRUE(parsed->spec.route_config_schema);
  EXPECT_EQ(parsed->spec.SchemaFor(true), &*parsed->spec.route_config_schema);
  // Still no errors under --strict: real dialect is info, not warning.
  EXPECT_FALSE(HasErrors(ValidateSpecYaml(text, "spec.yaml", {.strict = true})));
}

struct SpecCase {
  std::string from;
  std::string to;
  Severity severity;
  std::string path;
  std::string message_part;
};

TEST(SpecTest, Checks) {
  const SpecCase cases[] = {
      {"apiVersion: 1.0.0\n", "", Severity::kError, "apiVersion", "required field is missing"},
      {"apiVersion: 1.0.0", "apiVersion: v1", Severity::kError, "apiVersion", "not a version"},
      {"apiVersion: 1.0.0", "apiVersion: 2.0.0", Severity::kWarning, "apiVersion",
       "not the documented 1.0.0"},
      {"apiVersion: 1.0.0", "apiVersion: 1.0", Severity::kWarning, "apiVersion", "quote it"},
      {"  name: basic-auth/v1\n", "", Severity::kError, "info.name", "required field is missing"},
      {"  name: basic-auth/v1", "  name: Basic Auth", Severity::kWarning, "info.name",
       "not a plugin name"},
      {"  name: basic-auth/v1", "  name: [a]", Severity::kError, "info.name", "must be text"},
      {"  version: 1.0.0", "  version: 1.0", Severity::kError, "info.version",
       "not a semantic version"},
      {"  version: 1.0.0", "  version: v1.0.0", Severity::kError, "info.version",
       "not a semantic version"},
      {"  version: 1.0.0", "  version: 01.0.0", Severity::kError, "info.version",
       "not a semantic version"},
      {"  version: 1.0.0", "  version: 1.0.0-rc.1+build.5", Severity::kInfo, "", ""},
      {"  title: Basic Auth\n", "", Severity::kError, "info.title", "missing"},
      {"  title: Basic Auth", "  title:", Severity::kError, "info.title", "empty"},
      {"  description: HTTP Basic Auth\n", "", Severity::kWarning, "info.description", "missing"},
      {"  category: auth", "  category: transform", Severity::kInfo, "info.category",
       "Higress console uses it"},
      {"  category: auth", "  category: transformation", Severity::kWarning, "info.category",
       "did you mean \"transform\""},
      {"  category: auth", "  category: magic", Severity::kWarning, "info.category",
       "unknown category"},
      {"  iconUrl: https://example.com/icon.png", "  iconUrl: icon.png", Severity::kWarning,
       "info.iconUrl", "http(s) URL"},
      {"    email: admin@example.com", "    email: nobody", Severity::kWarning,
       "info.contact.email", "not an email"},
      {"    name: Team", "    name: 2456868764", Severity::kWarning, "info.contact.name",
       "quote it"},
      {"    name: Team", "    name: Team\n    phone: 1", Severity::kWarning, "info.contact.phone",
       "unknown contact key"},
      {"  x-description-i18n:\n    en-US: Authentication based on HTTP Basic Auth.",
       "  x-description-i18n: text", Severity::kError, "info.x-description-i18n",
       "mapping of locale"},
      {"  x-description-i18n:\n    en-US: Authentication based on HTTP Basic Auth.",
       "  x-description-i18n:", Severity::kInfo, "info.x-description-i18n", "null"},
      {"  x-description-i18n:", "  x-summary-i18n:", Severity::kWarning, "info.x-summary-i18n",
       "info.summary"},
      {"  iconUrl:", "  homepage: x\n  iconUrl:", Severity::kWarning, "info.homepage",
       "unknown info key"},
      {"info:\n", "extra: 1\ninfo:\n", Severity::kWarning, "extra", "unknown top-level key"},
      {"  phase: AUTHN", "  phase: authn", Severity::kError, "spec.phase",
       "phases are upper case: AUTHN"},
      {"  phase: AUTHN", "  phase: FIRST", Severity::kError, "spec.phase", "unknown phase"},
      {"  phase: AUTHN", "  phase: 1", Severity::kError, "spec.phase", "must be one of"},
      {"  phase: AUTHN\n", "", Severity::kWarning, "spec.phase", "UNSPECIFIED_PHASE"},
      {"  priority: 0", "  priority: high", Severity::kError, "spec.priority",
       "must be an integer"},
      {"  priority: 0", "  priority: 1.5", Severity::kError, "spec.priority", "must be an integer"},
      {"  priority: 0", "  priority: 99999999999", Severity::kError, "spec.priority", "32-bit"},
      {"  priority: 0\n", "", Severity::kWarning, "spec.priority", "uses 0"},
      {"  priority: 0", "  priority: 0\n  extra: 1", Severity::kWarning, "spec.extra",
       "unknown spec key"},
      {"    openAPIV3Schema:\n      type: object\n",
       "    schema: {}\n    openAPIV3Schema:\n      type: object\n", Severity::kWarning,
       "spec.configSchema.schema", "only openAPIV3Schema"},
      {"      type: object\n      properties:\n        consumers:",
       "      type: array\n      items: {}\n      properties:\n        consumers:",
       Severity::kWarning, "spec.configSchema.openAPIV3Schema.type", "should have type object"},
      {"          x-scope: GLOBAL", "          x-scope: global", Severity::kError,
       "spec.configSchema.openAPIV3Schema.properties.consumers.x-scope", "unknown x-scope"},
      {"                minLength: 6", "                minLength: six", Severity::kError,
       "spec.configSchema.openAPIV3Schema.properties.consumers.items.properties.name.minLength",
       "non-negative integer"},
      {"          - name: consumer1", "          - name: CONSUMER1", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.example.consumers[0].name",
       "example contradicts the schema: \"CONSUMER1\" does not match the pattern"},
      {"            credential: admin:123456", "            credential: 123456", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.example.consumers[0].credential",
       "expected string, got integer 123456"},
      {"        allow:\n          - consumer1\n", "", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.example.allow", "required property is missing"},
      {"      required:\n        - allow\n",
       "      required:\n        - allow\n      required:\n        - consumers\n",
       Severity::kWarning, "spec.configSchema.openAPIV3Schema.required",
       "duplicate key \"required\""},
      {"  phase: AUTHN\n  priority: 0\n  configSchema:",
       "  phase: AUTHN\n  priority: 0\n  routeConfigSchema: 5\n  configSchema:", Severity::kError,
       "spec.routeConfigSchema", "must be a mapping"},
      {"    openAPIV3Schema:\n", "    notSchema:\n", Severity::kError,
       "spec.configSchema.openAPIV3Schema", "required field is missing"},
  };
  for (const SpecCase& c : cases) {
    std::string text = Replace(std::string(kDocumentedSpec), c.from, c.to);
    Result<ParsedSpec> parsed = ParseSpecYaml(text, "spec.yaml");
    ASSERT_TRUE(parsed) << c.to << ": " << parsed.error().message();
    if (c.path.empty()) {
      EXPECT_TRUE(parsed->findings.empty()) << c.to << Findings(parsed->findings);
      continue;
    }
    const Finding* f = FindFinding(parsed->findings, c.severity, c.path, c.message_part);
    EXPECT_NE(f, nullptr) << "\"" << c.to << "\" wanted " << SeverityName(c.severity) << " at "
                          << c.path << " with \"" << c.message_part
                          << "\", got:" << Findings(parsed->findings);
    if (f != nullptr) {
      EXPECT_EQ(f->file, "spec.yaml");
      EXPECT_GT(f->line, 0) << f->ToString();
    }
  }
}

TEST(SpecTest, LinesPointAtTheField) {
  std::string text = Replace(std::string(kDocumentedSpec), "  phase: AUTHN", "  phase: FIRST");
  std::vector<Finding> findings = ValidateSpecYaml(text, "spec.yaml");
  const Finding* f = FindFinding(findings, Severity::kError, "spec.phase", "unknown phase");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->line, 16);
  EXPECT_EQ(f->ToString(),
            "spec.yaml:16: spec.phase: unknown phase \"FIRST\": expected UNSPECIFIED_PHASE, AUTHN, "
            "AUTHZ or STATS (error)");
}

TEST(SpecTest, StrictTurnsWarningsIntoErrors) {
  std::string text =
      Replace(std::string(kDocumentedSpec), "apiVersion: 1.0.0", "apiVersion: 2.0.0");
  std::vector<Finding> relaxed = ValidateSpecYaml(text, "spec.yaml");
  EXPECT_FALSE(HasErrors(relaxed));
  ASSERT_EQ(relaxed.size(), 1u);
  std::vector<Finding> strict = ValidateSpecYaml(text, "spec.yaml", {.strict = true});
  EXPECT_TRUE(HasErrors(strict));
  MakeStrict(relaxed);
  EXPECT_EQ(relaxed, strict);
}

TEST(SpecTest, UnreadableInputIsOneErrorFinding) {
  struct Case {
    std::string text;
    int line;
    std::string message_part;
  };
  const Case cases[] = {
      {"apiVersion: 1.0.0\ninfo: [a\n", 3, "invalid YAML"},
      {"apiVersion: 1.0.0\ninfo: \xff\n", 2, "UTF-8"},
      {"", 0, "empty file"},
      {"# only a comment\n", 0, "empty file"},
      {"- a\n- b\n", 0, "must be a mapping, got array"},
      {"a: 1\n---\nb: 2\n", 0, "2 YAML documents"},
      {std::string(2 * 1024 * 1024, '#'), 0, "more than the limit"},
  };
  for (const Case& c : cases) {
    std::vector<Finding> findings = ValidateSpecYaml(c.text, "spec.yaml");
    ASSERT_EQ(findings.size(), 1u) << c.message_part;
    EXPECT_EQ(findings[0].severity, Severity::kError);
    EXPECT_EQ(findings[0].file, "spec.yaml");
    if (c.line > 0) {
      EXPECT_EQ(findings[0].line, c.line) << findings[0].ToString();
    }
    EXPECT_NE(findings[0].message.find(c.message_part), std::string::npos)
        << findings[0].ToString();
    Result<ParsedSpec> parsed = ParseSpecYaml(c.text, "spec.yaml");
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message().rfind("spec.yaml: ", 0), 0u) << parsed.error().message();
  }
}

TEST(SpecTest, YamlBombIsAnErrorNotAHang) {
  std::string bomb = "apiVersion: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += fmt::format("{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", c, c,
                        fmt::arg("p", prev));
    prev = std::string(1, c);
  }
  std::vector<Finding> findings = ValidateSpecYaml(bomb, "spec.yaml");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_NE(findings[0].message.find("alias expansion"), std::string::npos);
}

TEST(SpecTest, Phases) {
  EXPECT_EQ(ParsePluginPhase("default"), PluginPhase::kUnspecified);
  EXPECT_EQ(ParsePluginPhase("UNSPECIFIED_PHASE"), PluginPhase::kUnspecified);
  EXPECT_EQ(ParsePluginPhase("AUTHN"), PluginPhase::kAuthn);
  EXPECT_EQ(ParsePluginPhase("AUTHZ"), PluginPhase::kAuthz);
  EXPECT_EQ(ParsePluginPhase("STATS"), PluginPhase::kStats);
  EXPECT_EQ(ParsePluginPhase("authn"), std::nullopt);
  EXPECT_EQ(PluginPhaseName(PluginPhase::kUnspecified), "UNSPECIFIED_PHASE");
  EXPECT_EQ(PluginPhaseName(PluginPhase::kStats), "STATS");
}

// ---- the real spec.yaml files of the Higress console ----

using test_support::HigressSpecDir;
using test_support::ReadHigressSpecs;

TEST(SpecRealDataTest, EveryRealSpecPassesWithoutStrict) {
  std::map<std::string, std::string> specs = ReadHigressSpecs();
  if (specs.empty()) GTEST_SKIP() << "no data at " << HigressSpecDir();
  EXPECT_EQ(specs.size(), 55u);
  size_t with_route_schema = 0;
  size_t default_phase = 0;
  for (const auto& [name, text] : specs) {
    Result<ParsedSpec> parsed = ParseSpecYaml(text, name);
    ASSERT_TRUE(parsed) << name << ": " << parsed.error().message();
    EXPECT_FALSE(HasErrors(parsed->findings)) << name << Findings(parsed->findings);
    for (const Finding& f : parsed->findings) {
      EXPECT_EQ(f.file, name);
      EXPECT_GT(f.line, 0) << f.ToString();
      EXPECT_FALSE(f.path.empty()) << f.ToString();
    }
    if (parsed->spec.route_config_schema) ++with_route_schema;
    if (parsed->spec.phase_text == "default") {
      ++default_phase;
      EXPECT_EQ(parsed->spec.phase, PluginPhase::kUnspecified);
    }
    EXPECT_FALSE(parsed->spec.info.name.empty()) << name;
  }
  EXPECT_EQ(with_route_schema, 49u);
  EXPECT_EQ(default_phase, 29u);
}

TEST(SpecRealDataTest, KnownQuirksAreReported) {
  std::map<std::string, std::string> specs = ReadHigressSpecs();
  if (specs.empty()) GTEST_SKIP() << "no data at " << HigressSpecDir();
  for (const test_support::HigressSpecQuirk& e : test_support::HigressSpecQuirks()) {
    ASSERT_TRUE(specs.count(e.file)) << e.file;
    std::vector<Finding> findings = ValidateSpecYaml(specs[e.file], e.file);
    const Finding* f = FindFinding(findings, e.severity, e.path, e.message_part);
    ASSERT_NE(f, nullptr) << e.file << " " << e.path << Findings(findings);
    if (e.line > 0) {
      EXPECT_EQ(f->line, e.line) << f->ToString();
    }
  }
}

TEST(SpecRealDataTest, SelfContradictingExamplesAreReportedPrecisely) {
  std::map<std::string, std::string> specs = ReadHigressSpecs();
  if (specs.empty()) GTEST_SKIP() << "no data at " << HigressSpecDir();
  size_t examples = 0;
  std::map<std::string, std::set<std::string>> found;
  for (const auto& [name, text] : specs) {
    Result<ParsedSpec> parsed = ParseSpecYaml(text, name);
    ASSERT_TRUE(parsed);
    for (std::string schema : {"configSchema", "routeConfigSchema"}) {
      const nlohmann::json& doc = parsed->document.value["spec"];
      if (!doc.contains(schema) || !doc[schema]["openAPIV3Schema"].contains("example")) continue;
      ++examples;
      std::string prefix = "spec." + schema + ".openAPIV3Schema.example.";
      for (const Finding& f : parsed->findings) {
        if (f.severity == Severity::kWarning && f.path.starts_with(prefix) &&
            f.message.starts_with("example contradicts the schema")) {
          found[name + " " + schema].insert(f.path.substr(prefix.size()));
        }
      }
    }
  }
  EXPECT_EQ(examples, 95u);
  EXPECT_EQ(found, test_support::HigressContradictingExamples());
  EXPECT_EQ(found.size(), 23u);
}

}  // namespace
}  // namespace plugctl::spec
