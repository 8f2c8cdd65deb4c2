#include "plugctl/spec/config_check.h"

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

constexpr std::string_view kSpec = R"(apiVersion: 1.0.0
info:
  category: auth
  name: key-auth
  title: Key Auth
  description: d
  version: 1.0.0
spec:
  phase: AUTHN
  priority: 310
  configSchema:
    openAPIV3Schema:
      type: object
      required: [consumers, keys]
      properties:
        global_auth: {type: boolean, x-scope: GLOBAL}
        consumers:
          type: array
          x-scope: GLOBAL
          items:
            type: object
            required: [name, credential]
            properties:
              name: {type: string}
              credential: {type: string}
        keys:
          type: array
          x-scope: GLOBAL
          minItems: 1
          items: {type: string}
        allow:
          type: array
          items: {type: string}
  routeConfigSchema:
    openAPIV3Schema:
      type: object
      required: [allow, consumers]
      properties:
        consumers:
          type: array
          x-scope: GLOBAL
          items: {type: object}
        allow:
          type: array
          minItems: 1
          items: {type: string}
)";

PluginSpec LoadSpec(std::string_view text = kSpec) {
  Result<ParsedSpec> parsed = ParseSpecYaml(text, "spec.yaml");
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message());
  EXPECT_FALSE(HasErrors(parsed->findings));
  return parsed ? parsed->spec : PluginSpec{};
}

std::vector<std::string> Strings(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.ToString());
  return out;
}

TEST(ConfigCheckTest, PlainGlobalConfig) {
  PluginSpec spec = LoadSpec();
  EXPECT_TRUE(CheckConfigDocument(spec, "consumers: []\nkeys: [x-api-key]\n", "c.yaml").empty());
  EXPECT_EQ(Strings(CheckConfigDocument(spec,
                                        "consumers:\n"
                                        "  - name: a\n"
                                        "    credential: 123456\n"
                                        "  - name: b\n"
                                        "keys: []\n",
                                        "c.yaml")),
            (std::vector<std::string>{
                "c.yaml:3: consumers[0].credential: expected string, got integer 123456 (error)",
                "c.yaml:4: consumers[1].credential: required property is missing (error)",
                "c.yaml:5: keys: list has 0 item(s), fewer than minItems 1 (error)",
            }));
}

TEST(ConfigCheckTest, PlainRuleConfig) {
  PluginSpec spec = LoadSpec();
  // consumers is GLOBAL-scoped: not required in a rule-level configuration.
  EXPECT_TRUE(CheckConfigDocument(spec, "allow: [a]\n", "r.yaml", {.rule_level = true}).empty());
  EXPECT_EQ(Strings(CheckConfigDocument(spec, "allow: []\n", "r.yaml", {.rule_level = true})),
            std::vector<std::string>{
                "r.yaml:1: allow: list has 0 item(s), fewer than minItems 1 (error)"});
  // The same file as a global configuration is checked against configSchema.
  EXPECT_EQ(Strings(CheckConfigDocument(spec, "allow: [a]\n", "r.yaml")),
            (std::vector<std::string>{"r.yaml:1: consumers: required property is missing (error)",
                                      "r.yaml:1: keys: required property is missing (error)"}));
}

TEST(ConfigCheckTest, JsonConfig) {
  PluginSpec spec = LoadSpec();
  std::vector<Finding> findings =
      CheckConfigDocument(spec, "{\n  \"consumers\": [],\n  \"keys\": [\"k\", 5]\n}\n", "c.json");
  EXPECT_EQ(Strings(findings),
            std::vector<std::string>{"c.json:3: keys[1]: expected string, got integer 5 (error)"});
}

TEST(ConfigCheckTest, WasmPluginResource) {
  PluginSpec spec = LoadSpec();
  constexpr std::string_view kResource = R"(apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: key-auth
  namespace: higress-system
spec:
  url: oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/key-auth:1.0.0
  phase: AUTHN
  priority: 310
  defaultConfig:
    consumers:
      - name: consumer1
        credential: 2bda943c-ba2b-11ec-ba07-00163e1250b5
    keys: [x-api-key]
    global_auth: false
  matchRules:
    - ingress: [default/foo]
      config:
        allow: [consumer1]
    - domain: [www.example.com]
      config:
        allow: []
    - config:
        allow: [consumer2]
    - service: [a.default.svc.cluster.local]
      config:
        allow: [consumer1]
        consumers: []
)";
  EXPECT_EQ(Strings(CheckConfigDocument(spec, kResource, "wp.yaml")),
            (std::vector<std::string>{
                "wp.yaml:22: spec.matchRules[1].config.allow: list has 0 item(s), fewer than "
                "minItems 1 (error)",
                "wp.yaml:23: spec.matchRules[2]: a match rule must list at least one ingress, "
                "domain or service; the gateway rejects a rule that matches nothing (error)",
                "wp.yaml:28: spec.matchRules[3].config.consumers: GLOBAL-scoped property in a "
                "rule-level configuration (it belongs in the global configuration) (warning)",
            }));
}

TEST(ConfigCheckTest, WasmPluginDefaultConfigErrors) {
  PluginSpec spec = LoadSpec();
  std::vector<Finding> findings =
      CheckConfigDocument(spec, R"(apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
spec:
  phase: default
  defaultConfig:
    keys: [k]
  matchRules:
    - ingress: []
      domain: [5]
      configs: {}
---
apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
spec:
  defaultConfig:
    consumers: 5
    keys: [k]
)",
                          "wp.yaml", {.rule_level = true});
  EXPECT_EQ(Strings(findings),
            (std::vector<std::string>{
                "wp.yaml:4: spec.phase: \"default\" is not a WasmPlugin phase (UNSPECIFIED_PHASE, "
                "AUTHN, AUTHZ, STATS) (error)",
                "wp.yaml:5: spec.defaultConfig.consumers: required property is missing (error)",
                "wp.yaml:9: spec.matchRules[0].domain[0]: must be a non-empty name, got 5 (error)",
                "wp.yaml:10: spec.matchRules[0].configs: unknown match rule key (did you mean "
                "`config`?): the WasmPlugin CRD has ingress, domain, service, config, "
                "configDisable and routeType, and the API server would drop it (error)",
                "wp.yaml:16: spec.defaultConfig.consumers: expected array, got integer 5 (error)",
            }));
}

TEST(ConfigCheckTest, IstioWasmPluginUsesPluginConfig) {
  PluginSpec spec = LoadSpec();
  std::vector<Finding> findings =
      CheckConfigDocument(spec, R"(apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
spec:
  pluginConfig:
    keys: [k]
)",
                          "wp.yaml");
  EXPECT_EQ(Strings(findings),
            std::vector<std::string>{
                "wp.yaml:4: spec.pluginConfig.consumers: required property is missing (error)"});
}

TEST(ConfigCheckTest, YamlNotesAndOddInputs) {
  PluginSpec spec = LoadSpec();
  EXPECT_EQ(Strings(CheckConfigDocument(spec, "allow: [a]\nallow: [b]\nextra: yes\n", "r.yaml",
                                        {.rule_level = true})),
            (std::vector<std::string>{
                "r.yaml:2: allow: duplicate key \"allow\" (also on line 1); the last value wins "
                "(warning)",
                "r.yaml:3: extra: plain scalar `yes` is read as string here (YAML 1.2) but as the "
                "boolean true by YAML 1.1 readers such as kubectl; quote it to remove the doubt "
                "(warning)",
                "r.yaml:3: extra: property is not declared in the schema (warning)",
            }));
  std::vector<Finding> empty = CheckConfigDocument(spec, "", "e.yaml", {.rule_level = true});
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].severity, Severity::kInfo);
  EXPECT_EQ(empty[1].ToString(), "e.yaml: allow: required property is missing (error)");
  std::vector<Finding> broken = CheckConfigDocument(spec, "a: [\n", "b.yaml");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].severity, Severity::kError);
  EXPECT_GT(broken[0].line, 0);
  std::vector<Finding> scalar = CheckConfigDocument(spec, "just text\n", "s.yaml");
  EXPECT_EQ(Strings(scalar), std::vector<std::string>{
                                 "s.yaml:1: expected object, got string \"just text\" (error)"});
  std::vector<Finding> configmap = CheckConfigDocument(
      spec, "apiVersion: v1\nkind: ConfigMap\nallow: [a]\n", "k.yaml", {.rule_level = true});
  EXPECT_FALSE(HasErrors(configmap));
  EXPECT_NE(Strings(configmap)[1].find("k.yaml:2: kind: looks like a Kubernetes resource of kind "
                                       "\"ConfigMap\", not a WasmPlugin"),
            std::string::npos);
}

TEST(ConfigCheckTest, SpecWithoutSchema) {
  PluginSpec spec;
  std::vector<Finding> findings = CheckConfigDocument(spec, "a: 1\n", "c.yaml");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_FALSE(HasErrors(findings));
}

TEST(ConfigCheckTest, IsWasmPluginResource) {
  EXPECT_TRUE(IsWasmPluginResource(nlohmann::json::parse(
      R"({"apiVersion": "extensions.higress.io/v1alpha1", "kind": "WasmPlugin"})")));
  EXPECT_FALSE(IsWasmPluginResource(nlohmann::json::parse(R"({"kind": "WasmPlugin"})")));
  EXPECT_FALSE(IsWasmPluginResource(nlohmann::json::parse("[1]")));
}

// ---- every example of the real spec.yaml files, through `config check` ----

using test_support::HigressSpecDir;

// Undecided is not valid: a schema `plugctl validate` rejects cannot pass a configuration.
TEST(ConfigCheckTest, InvalidSchemaIsAnErrorNotValid) {
  constexpr std::string_view kBroken = R"(apiVersion: 1.0.0
info: {category: auth, name: broken, title: Broken, description: d, version: 1.0.0}
spec:
  phase: AUTHN
  priority: 1
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        a: {type: strin}
)";
  Result<ParsedSpec> parsed = ParseSpecYaml(kBroken, "spec.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_TRUE(HasErrors(parsed->findings));
  // The global schema is broken; the rule level falls back to it, so both are undecided.
  for (bool rule_level : {false, true}) {
    std::vector<Finding> findings =
        CheckConfigDocument(parsed->spec, "a: x\n", "c.yaml", {.rule_level = rule_level});
    ASSERT_EQ(findings.size(), 1u);
    EXPECT_EQ(findings[0].severity, Severity::kError);
    EXPECT_NE(findings[0].message.find("undecided: the plugin's schema is invalid"),
              std::string::npos)
        << findings[0].ToString();
    EXPECT_NE(findings[0].message.find("unknown type `strin`"), std::string::npos)
        << findings[0].ToString();
  }
  // A broken routeConfigSchema does not fall back to the sound global schema.
  constexpr std::string_view kBrokenRoute = R"(apiVersion: 1.0.0
info: {category: auth, name: broken, title: Broken, description: d, version: 1.0.0}
spec:
  phase: AUTHN
  priority: 1
  configSchema:
    openAPIV3Schema: {type: object}
  routeConfigSchema: [not, a, mapping]
)";
  parsed = ParseSpecYaml(kBrokenRoute, "spec.yaml");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_FALSE(HasErrors(CheckConfigDocument(parsed->spec, "a: x\n", "c.yaml")));
  EXPECT_TRUE(
      HasErrors(CheckConfigDocument(parsed->spec, "a: x\n", "c.yaml", {.rule_level = true})));
}

TEST(ConfigCheckTest, UndecidedPatternIsAnError) {
  constexpr std::string_view kHostile = R"(apiVersion: 1.0.0
info: {category: auth, name: hostile, title: Hostile, description: d, version: 1.0.0}
spec:
  phase: AUTHN
  priority: 1
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        name: {type: string, pattern: '^(a+)+$'}
)";
  PluginSpec spec = LoadSpec(kHostile);
  std::string config = "name: " + std::string(40, 'a') + "b\n";
  std::vector<Finding> findings = CheckConfigDocument(spec, config, "c.yaml");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kError);
  EXPECT_EQ(findings[0].path, "name");
  EXPECT_EQ(findings[0].line, 1);
  EXPECT_NE(findings[0].message.find("undecided"), std::string::npos) << findings[0].ToString();
}

TEST(ConfigCheckRealDataTest, EveryExampleThroughConfigCheck) {
  std::map<std::string, std::set<std::string>> failing;
  size_t examples = 0;
  for (const auto& [name, text] : test_support::ReadHigressSpecs()) {
    Result<ParsedSpec> parsed = ParseSpecYaml(text, name, {.check_examples = false});
    ASSERT_TRUE(parsed) << name;
    for (bool rule_level : {false, true}) {
      std::string key = rule_level ? "routeConfigSchema" : "configSchema";
      const nlohmann::json& body = parsed->document.value["spec"];
      if (!body.contains(key) || !body[key]["openAPIV3Schema"].contains("example")) continue;
      ++examples;
      // As a user would write it: the example as a YAML/JSON file.
      std::string config = body[key]["openAPIV3Schema"]["example"].dump(2);
      std::vector<Finding> findings =
          CheckConfigDocument(parsed->spec, config, "example.json", {.rule_level = rule_level});
      for (const Finding& f : findings) {
        if (f.severity != Severity::kError) continue;
        EXPECT_GT(f.line, 0) << f.ToString();
        failing[name + " " + key].insert(f.path);
      }
    }
  }
  if (examples == 0) GTEST_SKIP() << "no data at " << HigressSpecDir();
  EXPECT_EQ(examples, 95u);
  EXPECT_EQ(failing, test_support::HigressContradictingExamples());
}

TEST(ConfigCheckRealDataTest, RuleLevelExamplesOmittingGlobalFieldsPass) {
  // hmac-auth's rule-level example omits `consumers`, which is required but GLOBAL-scoped:
  // valid at rule level, invalid as a global configuration.
  std::ifstream in(HigressSpecDir() / "hmac-auth.spec.yaml", std::ios::binary);
  if (!in) GTEST_SKIP() << "no data at " << HigressSpecDir();
  std::stringstream text;
  text << in.rdbuf();
  Result<ParsedSpec> parsed = ParseSpecYaml(text.str(), "hmac-auth.spec.yaml");
  ASSERT_TRUE(parsed);
  std::string example =
      parsed->document.value["spec"]["routeConfigSchema"]["openAPIV3Schema"]["example"].dump();
  EXPECT_FALSE(
      HasErrors(CheckConfigDocument(parsed->spec, example, "rule.json", {.rule_level = true})));
  std::vector<Finding> global = CheckConfigDocument(parsed->spec, example, "rule.json");
  ASSERT_TRUE(HasErrors(global));
  EXPECT_EQ(global[0].path, "consumers");
}

}  // namespace
}  // namespace plugctl::spec
