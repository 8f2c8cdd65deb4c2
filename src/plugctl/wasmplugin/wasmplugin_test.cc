#include "plugctl/wasmplugin/wasmplugin.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "plugctl/wasmplugin/yaml_emit.h"

namespace plugctl::wasmplugin {
namespace {

constexpr std::string_view kSpec = R"(apiVersion: 1.0.0
info:
  category: auth
  name: key-auth/v1
  title: Key Auth
  description: d
  version: 1.2.0
spec:
  phase: AUTHN
  priority: 310
  configSchema:
    openAPIV3Schema:
      type: object
      required: [keys]
      properties:
        keys:
          type: array
          minItems: 1
          items: {type: string}
        port: {type: string}
  routeConfigSchema:
    openAPIV3Schema:
      type: object
      required: [allow]
      properties:
        allow:
          type: array
          minItems: 1
          items: {type: string}
)";

spec::PluginSpec Spec(std::string_view text = kSpec) {
  auto parsed = spec::ParseSpecYaml(text, "spec.yaml");
  EXPECT_TRUE(parsed.has_value());
  return parsed->spec;
}

const oci::Digest kManifest = oci::Digest::Of("manifest");
const oci::Digest kIndex = oci::Digest::Of("index");
const oci::Digest kWasm = oci::Digest::Of("wasm");

PinRequest Registry(std::string_view reference, const spec::PluginSpec* spec = nullptr,
                    std::string prefix = "") {
  auto ref = oci::Reference::Parse(reference);
  EXPECT_TRUE(ref.has_value()) << reference;
  return PinRequest{.source = {.registry = *ref},
                    .root_digest = kIndex,
                    .gateway_manifest = kManifest,
                    .wasm_sha256 = kWasm,
                    .spec = spec,
                    .url_prefix = std::move(prefix)};
}

PinRequest Local(std::string ref, const spec::PluginSpec* spec, std::string prefix) {
  return PinRequest{.source = {.local_ref = std::move(ref)},
                    .root_digest = kIndex,
                    .gateway_manifest = kManifest,
                    .wasm_sha256 = kWasm,
                    .spec = spec,
                    .url_prefix = std::move(prefix)};
}

TEST(WasmPluginTest, Dns1123Names) {
  EXPECT_TRUE(IsDns1123Subdomain("key-auth"));
  EXPECT_TRUE(IsDns1123Subdomain("a.b-c.0"));
  EXPECT_FALSE(IsDns1123Subdomain(""));
  EXPECT_FALSE(IsDns1123Subdomain("Key-auth"));
  EXPECT_FALSE(IsDns1123Subdomain("key_auth"));
  EXPECT_FALSE(IsDns1123Subdomain("-a"));
  EXPECT_FALSE(IsDns1123Subdomain("a-"));
  EXPECT_FALSE(IsDns1123Subdomain("a..b"));
  EXPECT_FALSE(IsDns1123Subdomain("key-auth/v1"));
  EXPECT_FALSE(IsDns1123Subdomain(std::string(254, 'a')));
  EXPECT_TRUE(IsDns1123Label("higress-system"));
  EXPECT_FALSE(IsDns1123Label("a.b"));
  EXPECT_FALSE(IsDns1123Label(std::string(64, 'a')));
  EXPECT_EQ(PluginBaseName("basic-auth/v1"), "basic-auth");
  EXPECT_EQ(PluginBaseName("cors"), "cors");
}

TEST(WasmPluginTest, RegistryReferenceIsKeptAndTheManifestDigestPinned) {
  auto pin = PinPlugin(Registry("reg.local:5000/plugins/key-auth:1.0.0"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://reg.local:5000/plugins/key-auth:1.0.0");
  // The gateway's resolved image manifest, not the index the tag points at.
  EXPECT_EQ(pin->sha256, kManifest.hex());
  EXPECT_EQ(pin->tag, "1.0.0");
  EXPECT_EQ(pin->name, "key-auth");

  pin = PinPlugin(Registry("oci://nginx"));
  ASSERT_TRUE(pin.has_value());
  EXPECT_EQ(pin->url, "oci://docker.io/library/nginx:latest");
  EXPECT_EQ(pin->tag, "latest");

  std::string digest_ref = "reg.local:5000/plugins/key-auth@" + kIndex.ToString();
  pin = PinPlugin(Registry(digest_ref));
  ASSERT_TRUE(pin.has_value());
  EXPECT_EQ(pin->url, "oci://" + digest_ref);
  EXPECT_EQ(pin->tag, "");

  spec::PluginSpec spec = Spec();
  pin = PinPlugin(Registry("reg.local:5000/plugins/other:1.0.0", &spec));
  ASSERT_TRUE(pin.has_value());
  EXPECT_EQ(pin->name, "key-auth");  // the spec's name wins over the repository's
}

TEST(WasmPluginTest, IndexWithoutLinuxAmd64CannotBePinnedForOci) {
  PinRequest request = Registry("reg.local:5000/plugins/key-auth:1.0.0");
  request.gateway_manifest.reset();
  auto pin = PinPlugin(request);
  ASSERT_FALSE(pin.has_value());
  EXPECT_EQ(pin.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(pin.error().message().find("linux/amd64"), std::string::npos);
  // http(s):// serves the module itself; the image's platforms do not matter.
  request.url_prefix = "http://files/plugins";
  EXPECT_TRUE(PinPlugin(request).has_value());
}

TEST(WasmPluginTest, OciPrefixIsWhereMirrorPutsTheImage) {
  spec::PluginSpec spec = Spec();
  auto pin =
      PinPlugin(Registry("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/"
                         "basic-auth:1.0.0",
                         nullptr, "oci://registry.local:5000/plugins/"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/plugins/basic-auth:1.0.0");
  EXPECT_EQ(pin->sha256, kManifest.hex());

  // Local: the spec's base name, the REF as tag.
  pin = PinPlugin(Local("1.0.0", &spec, "oci://registry.local:5000/plugins"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/plugins/key-auth:1.0.0");
  EXPECT_EQ(pin->name, "key-auth");

  // Local with a full reference as REF and no spec: the reference names it.
  pin = PinPlugin(Local("reg.x:5000/team/cors:2.0", nullptr, "oci://registry.local:5000/plugins"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/plugins/cors:2.0");
  EXPECT_EQ(pin->name, "cors");

  // A bundle entry whose spec names the plugin differently from its repository (json-converter
  // lives in plugins/jsonrpc-converter): the repository decides, as mirror places it; the
  // resource keeps the plugin's name.
  pin = PinPlugin(Local("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/other:1.0.0", &spec,
                        "oci://registry.local:5000/plugins"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/plugins/other:1.0.0");
  EXPECT_EQ(pin->name, "key-auth");

  // Mirror's --map/--scoped result, passed by the caller, wins.
  PinRequest mapped = Local("reg.x:5000/team/cors:2.0", nullptr, "oci://registry.local:5000/p");
  mapped.mirrored_repository = "p/reg.x-5000/team/cors";
  pin = PinPlugin(mapped);
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/p/reg.x-5000/team/cors:2.0");
  EXPECT_EQ(pin->name, "cors");

  // Untagged local image: pinned by its own digest.
  pin = PinPlugin(Local("", &spec, "oci://registry.local:5000/plugins"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "oci://registry.local:5000/plugins/key-auth@" + kIndex.ToString());

  // Nothing to name the repository with.
  pin = PinPlugin(Local("1.0.0", nullptr, "oci://registry.local:5000/plugins"));
  ASSERT_FALSE(pin.has_value());
  EXPECT_NE(pin.error().message().find("--spec"), std::string::npos);

  pin = PinPlugin(Local("1.0.0", &spec, "oci://"));
  EXPECT_FALSE(pin.has_value());
  pin = PinPlugin(Local("1.0.0", &spec, "oci://Bad Host/x"));
  EXPECT_FALSE(pin.has_value());
}

TEST(WasmPluginTest, HttpPrefixIsThePluginServerLayout) {
  spec::PluginSpec spec = Spec();
  auto pin = PinPlugin(
      Registry("reg.local:5000/plugins/key-auth:1.0.0", nullptr, "https://files.local/plugins/"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "https://files.local/plugins/key-auth/1.0.0/plugin.wasm");
  EXPECT_EQ(pin->sha256, kWasm.hex());

  // No tag: the spec's version.
  pin = PinPlugin(Local("@" + kIndex.ToString(), &spec, "http://files.local/plugins"));
  ASSERT_TRUE(pin.has_value()) << pin.error().message();
  EXPECT_EQ(pin->url, "http://files.local/plugins/key-auth/1.2.0/plugin.wasm");

  pin = PinPlugin(Local("", nullptr, "http://files.local/plugins"));
  EXPECT_FALSE(pin.has_value());
  pin = PinPlugin(Local("reg.x/team/cors@" + kIndex.ToString(), nullptr, "http://files.local"));
  ASSERT_FALSE(pin.has_value());
  EXPECT_NE(pin.error().message().find("version"), std::string::npos);
  EXPECT_FALSE(PinPlugin(Local("1.0.0", &spec, "ftp://x")).has_value());
  EXPECT_FALSE(PinPlugin(Local("1.0.0", &spec, "http://")).has_value());
}

TEST(WasmPluginTest, LocalImageNeedsAPrefix) {
  spec::PluginSpec spec = Spec();
  auto pin = PinPlugin(Local("1.0.0", &spec, ""));
  ASSERT_FALSE(pin.has_value());
  EXPECT_EQ(pin.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(pin.error().message().find("--url-prefix"), std::string::npos);
}

PluginPin Pin(const std::string& tag = "1.0.0") {
  return PluginPin{.url = "oci://r/p/key-auth:" + tag,
                   .sha256 = kManifest.hex(),
                   .tag = tag,
                   .name = "key-auth"};
}

TEST(WasmPluginTest, ResourceKeyOrderPhasePriorityAndPullPolicy) {
  spec::PluginSpec spec = Spec();
  WasmPluginConfig config = ReadWasmPluginConfig(&spec, "keys: [a]\nport: \"443\"\n", "c.yaml");
  EXPECT_FALSE(HasErrors(config.findings));
  auto made =
      MakeWasmPlugin({.name = "key-auth", .pin = Pin("latest"), .spec = &spec, .config = &config});
  ASSERT_TRUE(made.has_value()) << made.error().message();
  EXPECT_EQ(EmitYaml(made->resource),
            "apiVersion: extensions.higress.io/v1alpha1\n"
            "kind: WasmPlugin\n"
            "metadata:\n"
            "  name: key-auth\n"
            "  namespace: higress-system\n"
            "spec:\n"
            "  url: oci://r/p/key-auth:latest\n"
            "  sha256: " +
                kManifest.hex() +
                "\n"
                "  imagePullPolicy: Always\n"
                "  phase: AUTHN\n"
                "  priority: 310\n"
                "  defaultConfig:\n"
                "    keys:\n"
                "      - a\n"
                "    port: \"443\"\n");

  // `phase: default` is UNSPECIFIED_PHASE; no spec, no phase or priority; no latest, no policy.
  std::string text(kSpec);
  text.replace(text.find("AUTHN"), 5, "default");
  spec::PluginSpec defaulted = Spec(text);
  made = MakeWasmPlugin({.name = "x", .ns = "gw", .pin = Pin(), .spec = &defaulted});
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->resource["spec"]["phase"], "UNSPECIFIED_PHASE");
  EXPECT_FALSE(made->resource["spec"].contains("imagePullPolicy"));
  EXPECT_EQ(made->resource["metadata"]["namespace"], "gw");
  made = MakeWasmPlugin({.name = "x", .pin = Pin()});
  ASSERT_TRUE(made.has_value());
  EXPECT_FALSE(made->resource["spec"].contains("phase"));
  EXPECT_FALSE(made->resource["spec"].contains("priority"));
  EXPECT_FALSE(made->resource["spec"].contains("defaultConfig"));
  EXPECT_FALSE(made->resource["spec"].contains("defaultConfigDisable"));
}

TEST(WasmPluginTest, NoConfigWarnsWhenTheSchemaNeedsOne) {
  spec::PluginSpec spec = Spec();
  auto made = MakeWasmPlugin({.name = "key-auth", .pin = Pin(), .spec = &spec});
  ASSERT_TRUE(made.has_value());
  ASSERT_EQ(made->findings.size(), 1u);
  EXPECT_EQ(made->findings[0].severity, Severity::kWarning);
  EXPECT_NE(made->findings[0].message.find("keys"), std::string::npos) << made->findings[0].message;
  EXPECT_FALSE(made->resource["spec"].contains("defaultConfigDisable"));
}

TEST(WasmPluginTest, BadNamesAreRefused) {
  EXPECT_FALSE(MakeWasmPlugin({.name = "key-auth/v1", .pin = Pin()}).has_value());
  EXPECT_FALSE(MakeWasmPlugin({.name = "Key", .pin = Pin()}).has_value());
  EXPECT_FALSE(MakeWasmPlugin({.name = "k", .ns = "a.b", .pin = Pin()}).has_value());
  EXPECT_FALSE(MakeWasmPlugin({.name = "k", .pin = {}}).has_value());
}

TEST(WasmPluginTest, ConfigFragmentAndResource) {
  spec::PluginSpec spec = Spec();
  WasmPluginConfig fragment = ReadWasmPluginConfig(&spec, R"(defaultConfig:
  keys: [a]
defaultConfigDisable: true
matchRules:
  - domain: [example.com]
    config:
      allow: [a]
)",
                                                   "f.yaml");
  EXPECT_FALSE(HasErrors(fragment.findings));
  ASSERT_TRUE(fragment.default_config && fragment.match_rules && fragment.default_config_disable);
  EXPECT_EQ((*fragment.match_rules)[0]["domain"][0], "example.com");
  EXPECT_TRUE(*fragment.default_config_disable);

  WasmPluginConfig resource =
      ReadWasmPluginConfig(&spec, R"(apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata: {name: old}
spec:
  url: oci://elsewhere/x:1
  sha256: abc
  phase: AUTHZ
  defaultConfig:
    keys: [b]
  matchRules:
    - ingress: [default/foo]
      config: {allow: [b]}
)",
                           "r.yaml");
  EXPECT_FALSE(HasErrors(resource.findings));
  ASSERT_TRUE(resource.default_config && resource.match_rules);
  EXPECT_EQ((*resource.default_config)["keys"][0], "b");
  EXPECT_FALSE(resource.default_config_disable.has_value());
  size_t ignored = 0;
  for (const Finding& f : resource.findings) {
    ignored += f.message.starts_with("ignored") ? 1 : 0;
  }
  EXPECT_EQ(ignored, 3u);  // url, sha256, phase

  auto made = MakeWasmPlugin({.name = "k", .pin = Pin(), .spec = &spec, .config = &fragment});
  ASSERT_TRUE(made.has_value());
  std::vector<std::string> keys;
  for (const auto& [key, value] : made->resource["spec"].items()) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"url", "sha256", "phase", "priority", "defaultConfigDisable",
                                      "defaultConfig", "matchRules"}));
}

TEST(WasmPluginTest, DefaultConfigDisableAloneIsAFragment) {
  spec::PluginSpec spec = Spec();
  WasmPluginConfig off = ReadWasmPluginConfig(&spec, "defaultConfigDisable: true\n", "off.yaml");
  EXPECT_FALSE(HasErrors(off.findings));
  ASSERT_TRUE(off.default_config_disable.has_value());
  EXPECT_TRUE(*off.default_config_disable);
  EXPECT_FALSE(off.default_config.has_value());
  auto made = MakeWasmPlugin({.name = "k", .pin = Pin(), .spec = &spec, .config = &off});
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->resource["spec"]["defaultConfigDisable"], true);
  EXPECT_FALSE(made->resource["spec"].contains("defaultConfig"));

  // Not a boolean: refused with the key's path, never taken as a configuration field.
  for (std::string_view text : {"defaultConfigDisable: 0\n", "defaultConfigDisable: \"true\"\n"}) {
    WasmPluginConfig bad = ReadWasmPluginConfig(&spec, text, "bad.yaml");
    EXPECT_TRUE(HasErrors(bad.findings)) << text;
    EXPECT_FALSE(bad.default_config.has_value()) << text;
    bool named = false;
    for (const Finding& f : bad.findings) {
      named |= f.severity == Severity::kError && f.path == "defaultConfigDisable";
    }
    EXPECT_TRUE(named) << text;
  }
}

TEST(WasmPluginTest, ConfigErrorsNameThePathAndLine) {
  spec::PluginSpec spec = Spec();
  WasmPluginConfig config = ReadWasmPluginConfig(&spec, R"(defaultConfig:
  keys: []
matchRules:
  - config: {allow: [a]}
  - domain: [x.com]
    config: {allow: 1}
)",
                                                 "bad.yaml");
  ASSERT_TRUE(HasErrors(config.findings));
  std::vector<std::string> lines;
  for (const Finding& f : config.findings) {
    if (f.severity == Severity::kError) lines.push_back(f.ToString());
  }
  ASSERT_EQ(lines.size(), 3u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("bad.yaml:2: defaultConfig.keys"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("bad.yaml:4: matchRules[0]"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("bad.yaml:6: matchRules[1].config.allow"), std::string::npos) << lines[2];

  WasmPluginConfig plain = ReadWasmPluginConfig(&spec, "keys: 1\n", "p.yaml");
  ASSERT_TRUE(HasErrors(plain.findings));
  EXPECT_NE(plain.findings[0].ToString().find("p.yaml:1: keys"), std::string::npos);

  WasmPluginConfig unreadable = ReadWasmPluginConfig(&spec, "a: [\n", "u.yaml");
  EXPECT_TRUE(HasErrors(unreadable.findings));
  WasmPluginConfig two = ReadWasmPluginConfig(&spec, "a: 1\n---\nb: 2\n", "t.yaml");
  EXPECT_TRUE(HasErrors(two.findings));
}

TEST(WasmPluginTest, ConfigWithoutSpecIsOnlyStructurallyChecked) {
  WasmPluginConfig config = ReadWasmPluginConfig(nullptr, "keys: 1\n", "c.yaml");
  EXPECT_FALSE(HasErrors(config.findings));
  ASSERT_EQ(config.findings.size(), 1u);
  EXPECT_EQ(config.findings[0].severity, Severity::kWarning);
  EXPECT_NE(config.findings[0].message.find("not validated"), std::string::npos);
  EXPECT_EQ((*config.default_config)["keys"], 1);

  config = ReadWasmPluginConfig(nullptr, "matchRules: [{config: {a: 1}}]\n", "c.yaml");
  EXPECT_TRUE(HasErrors(config.findings));  // a rule naming no ingress/domain/service
}

std::vector<std::string> Errors(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) {
    if (f.severity == Severity::kError) out.push_back(f.ToString());
  }
  return out;
}

TEST(WasmPluginTest, WhatTheCrdRejectsIsAnErrorWithItsPath) {
  // Without a spec: only the structure is known, and that is enough for these.
  WasmPluginConfig config = ReadWasmPluginConfig(nullptr, R"(matchRules:
  - domains: [a.com]
    config: {}
  - domain: [b.com]
    configDisable: "yes"
    routeType: TCP
)",
                                                 "rules.yaml");
  EXPECT_EQ(Errors(config.findings),
            (std::vector<std::string>{
                "rules.yaml:2: matchRules[0]: a match rule must list at least one ingress, domain "
                "or service; the gateway rejects a rule that matches nothing (error)",
                "rules.yaml:2: matchRules[0].domains: unknown match rule key (did you mean "
                "`domain`?): the WasmPlugin CRD has ingress, domain, service, config, "
                "configDisable and routeType, and the API server would drop it (error)",
                "rules.yaml:5: matchRules[1].configDisable: must be true or false, got "
                "\"yes\" (error)",
                "rules.yaml:6: matchRules[1].routeType: must be HTTP or GRPC, got \"TCP\" "
                "(error)",
            }));

  // An integer beyond 64 bits would reach the cluster as another number.
  config = ReadWasmPluginConfig(nullptr, "a: 1\nbig: 123456789012345678901234567890\n", "n.yaml");
  ASSERT_EQ(Errors(config.findings).size(), 1u);
  EXPECT_NE(Errors(config.findings)[0].find("n.yaml:2: big: integer 123456789012345678901234567890 "
                                            "does not fit in 64 bits"),
            std::string::npos)
      << Errors(config.findings)[0];

  // .inf/.nan, and a defaultConfig that is not a mapping: the CRD check of the whole resource.
  PluginPin pin{.url = "oci://r/p/x:1", .sha256 = kManifest.hex(), .tag = "1", .name = "x"};
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"limit: .inf\n", "spec.defaultConfig.limit: WasmPlugin CRD: infinity is not a JSON"},
           {"matchRules: [{domain: [a], config: {r: .nan}}]\n",
            "spec.matchRules[0].config.r: WasmPlugin CRD: .nan is not a JSON number"},
           {"[1, 2]\n", "spec.defaultConfig: WasmPlugin CRD: expected a mapping, got a list"},
       }) {
    WasmPluginConfig c = ReadWasmPluginConfig(nullptr, text, "c.yaml");
    ASSERT_FALSE(HasErrors(c.findings)) << text;
    auto made = MakeWasmPlugin({.name = "x", .pin = pin, .config = &c});
    ASSERT_TRUE(made.has_value()) << made.error().message();
    std::vector<std::string> errors = Errors(made->findings);
    ASSERT_EQ(errors.size(), 1u) << text << ::testing::PrintToString(errors);
    EXPECT_NE(errors[0].find(expected), std::string::npos) << errors[0];
  }
  // The resource made from a valid configuration passes.
  WasmPluginConfig fine = ReadWasmPluginConfig(
      nullptr, "matchRules: [{domain: [a], configDisable: true, routeType: GRPC}]\n", "c.yaml");
  auto made = MakeWasmPlugin({.name = "x", .pin = pin, .config = &fine});
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(Errors(made->findings), std::vector<std::string>{});
}

}  // namespace
}  // namespace plugctl::wasmplugin
