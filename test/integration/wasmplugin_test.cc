// `plugctl wasmplugin`: WasmPlugin resources for the example plugin (built with `plugctl
// build`) from local layouts and a real docker-registry, read back with yaml-cpp.
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"
#include <yaml-cpp/yaml.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class WasmPluginTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!fs::exists(Example() / "plugin.wasm")) {
      GTEST_SKIP() << "examples not built (PLUGCTL_BUILD_EXAMPLES=OFF): " << Example().string();
    }
    layout_ = "oci:" + Path("layout") + ":1.0.0";
    RunResult r = Plugctl({"build", Example().string(), "-t", layout_});
    ASSERT_TRUE(r.ok()) << r.Summary();
    manifest_ = PlugctlJson({"inspect", "--no-gateway", layout_})["digest"];
    wasm_hex_ = oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).hex();
  }

  static fs::path Example() { return fs::path(PLUGCTL_BINARY_DIR) / "examples" / "add-header"; }

  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return Path(name);
  }

  // Runs `plugctl wasmplugin ARGS`, expecting success, and parses every YAML document.
  std::vector<YAML::Node> Resources(std::vector<std::string> args, RunResult* result = nullptr) {
    args.insert(args.begin(), "wasmplugin");
    RunResult r = Plugctl(args);
    EXPECT_TRUE(r.ok()) << r.Summary();
    if (result != nullptr) *result = r;
    try {
      return YAML::LoadAll(r.out);
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << e.what() << "\n" << r.out;
      return {};
    }
  }

  std::string layout_;
  std::string manifest_;  // "sha256:…"
  std::string wasm_hex_;
};

TEST_F(WasmPluginTest, OciPrefixPinsTheManifestDigestAndSpecFields) {
  RunResult run;
  auto docs = Resources({layout_, "--url-prefix", "oci://registry.local:5000/plugins/"}, &run);
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
  RunResult r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--config",
                         fragment, "-o", Path("out.yaml")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(r.out, "");
  YAML::Node written = YAML::LoadFile(Path("out.yaml"));
  EXPECT_TRUE(written["spec"]["defaultConfigDisable"].as<bool>());
  EXPECT_EQ(written["spec"]["matchRules"][0]["domain"][0].as<std::string>(), "example.com");
  EXPECT_EQ(written["spec"]["matchRules"][0]["config"]["value"].as<std::string>(), "true");
  EXPECT_EQ(written["spec"]["matchRules"][0]["config"]["value"].Tag(), "!");
}

TEST_F(WasmPluginTest, InvalidConfigIsRefusedWithItsPath) {
  std::string bad = Write("bad.yaml", "header: \"not a token\"\nvalue: 1\n");
  RunResult r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "-c", bad});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("bad.yaml:1: header"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:2: value"), std::string::npos) << r.err;

  std::string no_target = Write("rule.yaml", "matchRules:\n  - config: {header: x}\n");
  r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "-c", no_target});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("matchRules[0]"), std::string::npos) << r.err;

  // -o is not written on failure.
  r = Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "-c", bad, "-o",
               Path("never.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "never.yaml"));

  EXPECT_EQ(
      Plugctl({"wasmplugin", layout_, "--url-prefix", "oci://r.local/p", "--name", "Bad_Name"})
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
  auto docs = Resources({bare, "--url-prefix", "oci://r.local/p", "--name", "bare"}, &r);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_FALSE(docs[0]["spec"]["phase"]);
  EXPECT_FALSE(docs[0]["spec"]["priority"]);
  EXPECT_NE(r.err.find("--spec"), std::string::npos) << r.err;
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://r.local/p/bare:2.0.0");
  // A plain tag and no spec: nothing names the repository.
  std::string plain = "oci:" + Path("bare-layout") + ":plain";
  ASSERT_TRUE(Plugctl({"tag", bare, "plain"}).ok());
  RunResult unnamed = Plugctl({"wasmplugin", plain, "--url-prefix", "oci://r.local/p"});
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
  nlohmann::json json = PlugctlJson({"wasmplugin", bare, layout_, "--url-prefix", "oci://r.local/p",
                                     "--spec", spec, "-c", config});
  ASSERT_TRUE(json.is_array()) << json.dump();
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["metadata"]["name"], "key-auth");
  EXPECT_EQ(json[0]["spec"]["url"], "oci://r.local/p/key-auth:2.0.0");
  EXPECT_EQ(json[0]["spec"]["phase"], "AUTHN");
  EXPECT_EQ(json[0]["spec"]["priority"], 310);
  EXPECT_EQ(json[0]["spec"]["defaultConfig"]["keys"][0], "x-api-key");
  EXPECT_EQ(json[1]["spec"]["sha256"], manifest_.substr(7));

  // A config the --spec rejects.
  std::string wrong = Write("wrong.yaml", "keys: x-api-key\n");
  RunResult refused =
      Plugctl({"wasmplugin", bare, "--url-prefix", "oci://r.local/p", "--spec", spec, "-c", wrong});
  EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
  EXPECT_NE(refused.err.find("wrong.yaml:1: keys"), std::string::npos) << refused.err;

  // Several images in YAML: separate documents.
  docs = Resources({bare, layout_, "--url-prefix", "http://f/p", "--spec", spec});
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["spec"]["url"].as<std::string>(), "http://f/p/key-auth/1.0.0/plugin.wasm");
  EXPECT_EQ(
      Plugctl({"wasmplugin", bare, layout_, "--url-prefix", "http://f/p", "--name", "x"}).exit_code,
      1);
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

}  // namespace
}  // namespace plugctl::testing
