// `plugctl wasmplugin`: WasmPlugin resources for the example plugin (built with `plugctl
// build`) from local layouts, bundles, list files and a real docker-registry, read back with
// yaml-cpp. Every resource printed is checked against Higress's WasmPlugin CRD
// (../shared/data/higress-crd/) by test/integration/crd_check.py, an independent structural-schema
// checker.
#include <fstream>
#include <set>

#include "fixture.h"
#include "registry_fixture.h"
#include <yaml-cpp/yaml.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class WasmPluginTest : public ExampleLayoutTest {
 protected:
  void SetUp() override {
    ExampleLayoutTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    manifest_ = PlugctlJson({"inspect", "--no-gateway", layout_})["digest"];
    wasm_hex_ = oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).hex();
  }

  static fs::path Crd() {
    return fs::path(PLUGCTL_SOURCE_DIR) / ".." / "shared" / "data" / "higress-crd" /
           "wasmplugin-v1alpha1.openapiv3.json";
  }

  // What the API server would say about `text` (a YAML stream, a JSON object or a v1 List).
  void ExpectCrdValid(const std::string& text) {
    ASSERT_TRUE(fs::exists(Crd())) << "no WasmPlugin CRD at " << Crd();
    RunResult r =
        RunProcess({"python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/crd_check.py",
                    Crd().string()},
                   {.stdin_data = text});
    EXPECT_TRUE(r.ok()) << r.Summary() << "\n" << text;
  }

  // `plugctl --format json wasmplugin ARGS`, expecting success and CRD-valid output.
  nlohmann::json WasmPluginJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json", "wasmplugin"});
    RunResult r = Plugctl(args);
    EXPECT_TRUE(r.ok()) << r.Summary();
    ExpectCrdValid(r.out);
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // Runs `plugctl wasmplugin ARGS`, expecting success, checks the output against the CRD and
  // parses every YAML document.
  std::vector<YAML::Node> Resources(std::vector<std::string> args, RunResult* result = nullptr) {
    args.insert(args.begin(), "wasmplugin");
    RunResult r = Plugctl(args);
    EXPECT_TRUE(r.ok()) << r.Summary();
    if (r.ok()) ExpectCrdValid(r.out);
    if (result != nullptr) *result = r;
    try {
      return YAML::LoadAll(r.out);
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << e.what() << "\n" << r.out;
      return {};
    }
  }

  std::string manifest_;  // "sha256:…"
  std::string wasm_hex_;
};

TEST_F(WasmPluginTest, OciPrefixPinsTheManifestDigestAndSpecFields) {
  RunResult run;
  auto docs = Resources(
      {layout_, "--url-prefix", "oci://registry.local:5000/plugins/", "--no-url-check"}, &run);
  ASSERT_EQ(docs.size(), 1u);
  const YAML::Node& wp = docs[0];
  EXPECT_EQ(wp["apiVersion"].as<std::string>(), "extensions.higress.io/v1alpha1");
  EXPECT_EQ(wp["kind"].as<std::string>(), "WasmPlugin");
  // info.name is add-header/v1: the resource and the repository take its base name.
  EXPECT_EQ(wp["metadata"]["name"].as<std::string>(), "add-header");
  EXPECT_EQ(wp["metadata"]["namespace"].as<std::string>(), "higress-system");
  EXPECT_EQ(wp["spec"]["url"].as<std::string>(),
            "oci://registry.local:5000/plugins/add-header:1.0.0");
  EXPECT_EQ("sha256:" + wp["spec"]["sha256"].as<std::string>(), manifest_);
  EXPECT_EQ(wp["spec"]["phase"].as<std::string>(), "UNSPECIFIED_PHASE");  // phase: default
  EXPECT_EQ(wp["spec"]["priority"].as<int>(), 100);
  EXPECT_FALSE(wp["spec"]["imagePullPolicy"]);
  EXPECT_FALSE(wp["spec"]["defaultConfig"]);
  EXPECT_FALSE(wp["spec"]["defaultConfigDisable"]);
  // The example needs a header name: no --config is worth a warning.
  EXPECT_NE(run.err.find("header"), std::string::npos) << run.err;

  // Key order is fixed.
  std::vector<std::string> keys;
  for (const auto& kv : wp["spec"]) keys.push_back(kv.first.as<std::string>());
  EXPECT_EQ(keys, (std::vector<std::string>{"url", "sha256", "phase", "priority"}));

  // Without a prefix a local image has no URL.
  RunResult local = Plugctl({"wasmplugin", layout_});
  EXPECT_EQ(local.exit_code, 1) << local.Summary();
  EXPECT_NE(local.err.find("--url-prefix"), std::string::npos) << local.err;
}

TEST_F(WasmPluginTest, HttpPrefixPinsTheWasmAndKeepsConfigTypes) {
  std::string config = Write("config.yaml", "header: x-port\nvalue: \"443\"\n");
  auto docs = Resources({layout_, "--url-prefix", "http://files.local/plugins", "--config", config,
                         "--name", "my-header", "-n", "gw"});
  ASSERT_EQ(docs.size(), 1u);
  const YAML::Node& spec = docs[0]["spec"];
  EXPECT_EQ(spec["url"].as<std::string>(),
            "http://files.local/plugins/add-header/1.0.0/plugin.wasm");
  EXPECT_EQ(spec["sha256"].as<std::string>(), wasm_hex_);
  EXPECT_EQ(docs[0]["metadata"]["name"].as<std::string>(), "my-header");
  EXPECT_EQ(docs[0]["metadata"]["namespace"].as<std::string>(), "gw");
  EXPECT_EQ(spec["defaultConfig"]["header"].as<std::string>(), "x-port");
  // Still a string: quoted, so no reader takes it for a number.
  EXPECT_EQ(spec["defaultConfig"]["value"].as<std::string>(), "443");
  EXPECT_EQ(spec["defaultConfig"]["value"].Tag(), "!");

  // A fragment with match rules, written to a file.
  std::string fragment = Write("fragment.yaml", R"(defaultConfigDisable: true
matchRules:
  - domain: [example.com]
    config: {header: x-a, value: "true"}
)");
  RunResult r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--no-url-check",
                         "--config", fragment, "-o", Path("out.yaml")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(r.out, "");
  YAML::Node written = YAML::LoadFile(Path("out.yaml"));
  EXPECT_TRUE(written["spec"]["defaultConfigDisable"].as<bool>());
  EXPECT_EQ(written["spec"]["matchRules"][0]["domain"][0].as<std::string>(), "example.com");
  EXPECT_EQ(written["spec"]["matchRules"][0]["config"]["value"].as<std::string>(), "true");
  EXPECT_EQ(written["spec"]["matchRules"][0]["config"]["value"].Tag(), "!");

  // A registry that does not answer (nothing listens on 127.0.0.1:1) cannot be asked: the
  // resource is written with a warning that its url was not checked.
  RunResult unreachable = Plugctl({"--plain-http", "wasmplugin", layout_, "--url-prefix",
                                   "oci://127.0.0.1:1/p", "-o", Path("unchecked.yaml")});
  EXPECT_TRUE(unreachable.ok()) << unreachable.Summary();
  EXPECT_NE(unreachable.err.find("not checked"), std::string::npos) << unreachable.Summary();
  EXPECT_TRUE(std::filesystem::exists(Path("unchecked.yaml")));
}

TEST_F(WasmPluginTest, InvalidConfigIsRefusedWithItsPath) {
  std::string bad = Write("bad.yaml", "header: \"not a token\"\nvalue: 1\n");
  RunResult r = Plugctl(
      {"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--no-url-check", "-c", bad});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("bad.yaml:1: header"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:2: value"), std::string::npos) << r.err;

  std::string no_target = Write("rule.yaml", "matchRules:\n  - config: {header: x}\n");
  r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--no-url-check", "-c",
               no_target});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("matchRules[0]"), std::string::npos) << r.err;

  // -o is not written on failure.
  r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--no-url-check", "-c",
               bad, "-o", Path("never.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "never.yaml"));

  EXPECT_EQ(Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--no-url-check",
                     "--name", "Bad_Name"})
                .exit_code,
            1);
}

TEST_F(WasmPluginTest, SpecFileForImagesWithoutOneAndJsonOutput) {
  // An image without spec.yaml, like the official Higress images.
  fs::create_directories(dir_ / "bare");
  fs::copy_file(Example() / "plugin.wasm", dir_ / "bare" / "plugin.wasm");
  // Tagged with a full reference (as bundles name images), which names the repository.
  std::string bare = "oci:" + Path("bare-layout") + ":reg.example.com/team/bare:2.0.0";
  RunResult built = Plugctl({"build", Path("bare"), "--allow-missing", "-t", bare});
  ASSERT_TRUE(built.ok()) << built.Summary();

  RunResult r;
  auto docs =
      Resources({bare, "--url-prefix", "oci://r.local/p", "--no-url-check", "--name", "bare"}, &r);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_FALSE(docs[0]["spec"]["phase"]);
  EXPECT_FALSE(docs[0]["spec"]["priority"]);
  EXPECT_NE(r.err.find("--spec"), std::string::npos) << r.err;
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://r.local/p/bare:2.0.0");
  // A plain tag and no spec: nothing names the repository.
  std::string plain = "oci:" + Path("bare-layout") + ":plain";
  ASSERT_TRUE(Plugctl({"tag", bare, "plain"}).ok());
  RunResult unnamed =
      Plugctl({"wasmplugin", plain, "--url-prefix", "oci://r.local/p", "--no-url-check"});
  EXPECT_EQ(unnamed.exit_code, 1) << unnamed.Summary();
  EXPECT_NE(unnamed.err.find("--spec"), std::string::npos) << unnamed.err;

  // --spec supplies phase, priority and the name, and validates the configuration.
  std::string spec = Write("key-auth.spec.yaml", R"(apiVersion: 1.0.0
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
      required: [keys]
      properties:
        keys: {type: array, items: {type: string}}
)");
  std::string config = Write("c.json", R"({"keys": ["x-api-key"]})");
  // One image: one object, which kubectl takes as it is.
  nlohmann::json one = WasmPluginJson(
      {bare, "--url-prefix", "oci://r.local/p", "--no-url-check", "--spec", spec, "-c", config});
  EXPECT_EQ(one["kind"], "WasmPlugin") << one.dump();
  EXPECT_EQ(one["metadata"]["name"], "key-auth");
  // The url is where the image is (its repository, reg.example.com/team/bare, mirrored under
  // the prefix), not the spec's name.
  EXPECT_EQ(one["spec"]["url"], "oci://r.local/p/bare:2.0.0");
  EXPECT_EQ(one["spec"]["phase"], "AUTHN");
  EXPECT_EQ(one["spec"]["priority"], 310);
  EXPECT_EQ(one["spec"]["defaultConfig"]["keys"][0], "x-api-key");

  // Several: a v1 List.
  nlohmann::json list =
      WasmPluginJson({bare, layout_, "--url-prefix", "oci://r.local/p", "--no-url-check"});
  ASSERT_EQ(list["kind"], "List") << list.dump();
  EXPECT_EQ(list["apiVersion"], "v1");
  const nlohmann::json& json = list["items"];
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["metadata"]["name"], "bare");
  EXPECT_EQ(json[1]["metadata"]["name"], "add-header");
  EXPECT_EQ(json[1]["spec"]["sha256"], manifest_.substr(7));

  // One --spec for two images names both key-auth: refused, not emitted twice.
  RunResult twice = Plugctl({"wasmplugin", bare, layout_, "--url-prefix", "oci://r.local/p",
                             "--no-url-check", "--spec", spec});
  EXPECT_EQ(twice.exit_code, 1) << twice.Summary();
  EXPECT_EQ(twice.out, "");
  EXPECT_NE(twice.err.find("both make the WasmPlugin \"key-auth\""), std::string::npos)
      << twice.err;

  // A config the --spec rejects.
  std::string wrong = Write("wrong.yaml", "keys: x-api-key\n");
  RunResult refused = Plugctl({"wasmplugin", bare, "--url-prefix", "oci://r.local/p",
                               "--no-url-check", "--spec", spec, "-c", wrong});
  EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
  EXPECT_NE(refused.err.find("wrong.yaml:1: keys"), std::string::npos) << refused.err;

  // Several images in YAML: separate documents.
  docs = Resources({bare, layout_, "--url-prefix", "http://f/p"});
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "http://f/p/bare/2.0.0/plugin.wasm");
  EXPECT_EQ(docs[1]["spec"]["url"].as<std::string>(), "http://f/p/add-header/1.0.0/plugin.wasm");
  EXPECT_EQ(
      Plugctl({"wasmplugin", bare, layout_, "--url-prefix", "http://f/p", "--name", "x"}).exit_code,
      1);
}

// The checker the other tests rely on does catch what the API server would refuse or prune.
TEST_F(WasmPluginTest, CrdCheckerCatchesWhatItMust) {
  ASSERT_TRUE(fs::exists(Crd())) << "no WasmPlugin CRD at " << Crd();
  RunResult r =
      RunProcess({"python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/crd_check.py",
                  Crd().string()},
                 {.stdin_data = R"(apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata: {name: a}
spec:
  url: oci://r/p/a:1
  priority: "1"
  phase: LATE
  matchRules:
    - domains: [a.com]
      configDisable: "yes"
      config: {x: .inf}
)"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  for (const char* expected : {"spec.priority: expected integer", "spec.phase: 'LATE' not in enum",
                               "spec.matchRules[0].domains: unknown field",
                               "spec.matchRules[0].configDisable: expected "
                               "boolean",
                               "spec.matchRules[0].config.x: inf is not a JSON number"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
  }
}

TEST_F(WasmPluginTest, WhatTheCrdRejectsIsRefusedWithItsPath) {
  const std::vector<std::string> base = {"wasmplugin",      layout_,          "--url-prefix",
                                         "oci://r.local/p", "--no-url-check", "-c"};
  struct Case {
    std::string file;
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"typo.yaml", "defaultConfig: {header: x-a, value: b}\nmatchRules:\n  - domains: [a.com]\n",
       "typo.yaml:3: matchRules[0].domains: unknown match rule key (did you mean `domain`?)"},
      {"disable.yaml",
       "defaultConfig: {header: x-a, value: b}\nmatchRules:\n  - domain: [a.com]\n"
       "    configDisable: \"yes\"\n",
       "disable.yaml:4: matchRules[0].configDisable: must be true or false"},
      {"route.yaml",
       "defaultConfig: {header: x-a, value: b}\nmatchRules:\n  - domain: [a.com]\n"
       "    routeType: TCP\n",
       "route.yaml:4: matchRules[0].routeType: must be HTTP or GRPC"},
      {"inf.yaml", "header: x-a\nvalue: b\nlimit: .inf\n",
       "spec.defaultConfig.limit: WasmPlugin CRD: infinity is not a JSON number"},
      {"nan.yaml",
       "defaultConfig: {header: x-a, value: b}\nmatchRules:\n  - domain: [a.com]\n"
       "    config: {header: x-b, value: c, n: .nan}\n",
       "spec.matchRules[0].config.n: WasmPlugin CRD: .nan is not a JSON number"},
      {"big.yaml", "header: x-a\nvalue: b\nbig: 123456789012345678901234567890\n",
       "big.yaml:3: big: integer 123456789012345678901234567890 does not fit in 64 bits"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = base;
    args.push_back(Write(c.file, c.text));
    RunResult r = Plugctl(args);
    EXPECT_EQ(r.exit_code, 1) << c.file << "\n" << r.Summary();
    EXPECT_EQ(r.out, "") << c.file;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.file << "\n" << r.err;
  }
  // The corrected rule applies.
  std::string fixed = Write("fixed.yaml",
                            "defaultConfig: {header: x-a, value: b}\nmatchRules:\n"
                            "  - domain: [a.com]\n    configDisable: true\n    routeType: GRPC\n");
  auto docs =
      Resources({layout_, "--url-prefix", "oci://r.local/p", "--no-url-check", "-c", fixed});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_TRUE(docs[0]["spec"]["matchRules"][0]["configDisable"].as<bool>());
}

TEST_F(WasmPluginTest, BundleGivesOneResourcePerImage) {
  // A second, spec-less image in the same layout, named by a full reference as bundles do.
  fs::create_directories(dir_ / "bare");
  fs::copy_file(Example() / "plugin.wasm", dir_ / "bare" / "plugin.wasm");
  RunResult built = Plugctl({"build", Path("bare"), "--allow-missing", "-t",
                             "oci:" + Path("layout") + ":reg.example.com/team/bare:2.0.0"});
  ASSERT_TRUE(built.ok()) << built.Summary();

  std::string bundle = "oci:" + Path("layout");
  auto docs = Resources({bundle, "--url-prefix", "http://f/p"});
  ASSERT_EQ(docs.size(), 2u);
  std::set<std::string> urls;
  for (const auto& doc : docs) urls.insert(doc["spec"]["url"].as<std::string>());
  EXPECT_EQ(urls, (std::set<std::string>{"http://f/p/add-header/1.0.0/plugin.wasm",
                                         "http://f/p/bare/2.0.0/plugin.wasm"}));
  nlohmann::json list =
      WasmPluginJson({bundle, "--url-prefix", "oci://r.local/p", "--no-url-check"});
  ASSERT_EQ(list["kind"], "List");
  ASSERT_EQ(list["items"].size(), 2u);

  // An archive of the layout reads the same.
  ASSERT_TRUE(Plugctl({"copy", bundle + ":1.0.0", "oci-archive:" + Path("b.tar") + ":1.0.0"}).ok());
  ASSERT_TRUE(Plugctl({"copy", bundle + ":reg.example.com/team/bare:2.0.0",
                       "oci-archive:" + Path("b.tar") + ":reg.example.com/team/bare:2.0.0"})
                  .ok());
  docs = Resources({"oci-archive:" + Path("b.tar"), "--url-prefix", "http://f/p"});
  EXPECT_EQ(docs.size(), 2u);

  // --name cannot name several.
  EXPECT_EQ(Plugctl({"wasmplugin", bundle, "--url-prefix", "http://f/p", "--name", "x"}).exit_code,
            1);
}

// An index with a linux/amd64 and a linux/arm64 image whose spec.yaml differ in priority.
TEST_F(WasmPluginTest, PlatformPicksOneImageForEverything) {
  fs::copy(Example(), dir_ / "arm", fs::copy_options::recursive);
  std::string spec_text = ReadAll(dir_ / "arm" / "spec.yaml");
  size_t at = spec_text.find("priority: 100");
  ASSERT_NE(at, std::string::npos);
  spec_text.replace(at, 13, "priority: 200");
  fs::remove(dir_ / "arm" / "spec.yaml");
  Write("arm/spec.yaml", spec_text);
  std::string layout = Path("layout");
  ASSERT_TRUE(Plugctl({"build", Path("arm"), "-t", "oci:" + layout + ":arm"}).ok());

  ASSERT_TRUE(AddPlatformIndex(dir_ / "layout", {{"1.0.0", "amd64"}, {"arm", "arm64"}}, "multi"));
  std::string multi = "oci:" + layout + ":multi";

  // oci://: the gateway's linux/amd64 image, for sha256 and priority alike.
  auto docs = Resources({multi, "--url-prefix", "oci://r.local/p", "--no-url-check"});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ("sha256:" + docs[0]["spec"]["sha256"].as<std::string>(), manifest_);
  EXPECT_EQ(docs[0]["spec"]["priority"].as<int>(), 100);
  // --platform asking for another image than the gateway loads from oci:// is refused.
  RunResult mixed = Plugctl({"wasmplugin", multi, "--url-prefix", "oci://r.local/p",
                             "--no-url-check", "--platform", "linux/arm64"});
  EXPECT_EQ(mixed.exit_code, 1) << mixed.Summary();
  EXPECT_EQ(mixed.out, "");
  EXPECT_NE(mixed.err.find("--platform linux/arm64"), std::string::npos) << mixed.err;
  // http(s)://: the chosen platform's plugin.wasm and its spec.
  docs = Resources({multi, "--url-prefix", "http://f/p", "--platform", "linux/arm64"});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["sha256"].as<std::string>(), wasm_hex_);
  EXPECT_EQ(docs[0]["spec"]["priority"].as<int>(), 200);
}

using WasmPluginRegistryTest = WithRegistry<WasmPluginTest>;

TEST_F(WasmPluginRegistryTest, RegistryReferenceAndResolveAgree) {
  std::string ref = Ref("plugins/add-header:1.0.0");
  RunResult pushed = Plugctl({"copy", layout_, ref});
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();
  std::string resolved = PlugctlJson({"resolve", ref})["digest"];

  auto docs = Resources({ref});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://" + ref);
  EXPECT_EQ("sha256:" + docs[0]["spec"]["sha256"].as<std::string>(), resolved);
  EXPECT_EQ(resolved, manifest_);  // copies keep digests
  EXPECT_FALSE(docs[0]["spec"]["imagePullPolicy"]);

  // :latest is pulled again every time; a digest reference stays a digest reference.
  ASSERT_TRUE(Plugctl({"tag", ref, "latest"}).ok());
  docs = Resources({"oci://" + Ref("plugins/add-header")});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://" + Ref("plugins/add-header:latest"));
  EXPECT_EQ(docs[0]["spec"]["imagePullPolicy"].as<std::string>(), "Always");
  std::string by_digest = Ref("plugins/add-header@" + resolved);
  docs = Resources({by_digest});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://" + by_digest);
}

// A plugins.properties list whose key differs from the repository, as json-converter's does.
TEST_F(WasmPluginRegistryTest, ListUrlsAreWhereMirrorPutsTheImages) {
  std::string source = Ref("plugins/jsonrpc-converter:1.0.0");
  ASSERT_TRUE(Plugctl({"copy", layout_, source}).ok());
  std::string list = Write("plugins.properties", "json-converter=oci://" + source + "\n");

  // http(s)://: the plugin-server name is the list's key.
  auto docs = Resources({list, "--url-prefix", "http://f/p"});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(),
            "http://f/p/json-converter/1.0.0/plugin.wasm");

  // oci://: the repository mirror makes, checked in the registry, which does not have it yet.
  std::string prefix = "oci://" + Ref("mirror");
  RunResult missing = Plugctl({"wasmplugin", list, "--url-prefix", prefix});
  EXPECT_EQ(missing.exit_code, 1) << missing.Summary();
  EXPECT_EQ(missing.out, "");
  EXPECT_NE(missing.err.find("no manifest"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("--no-url-check"), std::string::npos) << missing.err;

  RunResult mirrored = Plugctl({"mirror", list, "--to", Ref("mirror")});
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();
  docs = Resources({list, "--url-prefix", prefix});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), prefix + "/jsonrpc-converter:1.0.0");
  EXPECT_EQ("sha256:" + docs[0]["spec"]["sha256"].as<std::string>(), manifest_);
  EXPECT_EQ(docs[0]["metadata"]["name"].as<std::string>(), "add-header");

  // A bundle mirrored from the list names the same places.
  std::string bundle = "oci-archive:" + Path("bundle.tar");
  ASSERT_TRUE(Plugctl({"mirror", list, "--to", bundle}).ok());
  docs = Resources({bundle, "--url-prefix", prefix});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), prefix + "/jsonrpc-converter:1.0.0");
  docs = Resources({bundle, "--url-prefix", "http://f/p"});
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(),
            "http://f/p/json-converter/1.0.0/plugin.wasm");

  // A tag moved to another image than the one pinned is refused: the gateway would resolve the
  // tag and reject the digest.
  fs::copy(Example(), dir_ / "other", fs::copy_options::recursive);
  std::ofstream(dir_ / "other" / "README.md", std::ios::app) << "\nanother build\n";
  ASSERT_TRUE(
      Plugctl({"build", Path("other"), "-t", "oci:" + Path("other-layout") + ":1.0.0"}).ok());
  ASSERT_TRUE(Plugctl({"copy", "oci:" + Path("other-layout") + ":1.0.0",
                       Ref("mirror/jsonrpc-converter:1.0.0")})
                  .ok());
  RunResult moved = Plugctl({"wasmplugin", list, "--url-prefix", prefix});
  EXPECT_EQ(moved.exit_code, 1) << moved.Summary();
  EXPECT_NE(moved.err.find("the tag names"), std::string::npos) << moved.err;
}

}  // namespace
}  // namespace plugctl::testing
