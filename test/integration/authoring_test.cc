// validate, config check and wasm inspection from the command line, on the
// real Higress specs in ../shared/data and on images of every shape.
#include <algorithm>
#include <fstream>

#include "fixture.h"
#include "image_factory.h"
#include "support/higress_specs.h"

namespace plugctl::testing {
namespace {

const std::filesystem::path kSpecs = test_support::HigressSpecDir();

class AuthoringTest : public CliTest {
 protected:
  // A plugin directory holding a real spec, a README and the demo's wasm.
  std::filesystem::path PluginDir(const std::string& spec_file) {
    Demo();
    std::filesystem::path dir = dir_ / ("plugin-" + spec_file);
    RunResult pulled = Plugctl({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", dir.string()});
    EXPECT_TRUE(pulled.ok()) << pulled.Summary();
    std::filesystem::copy_file(kSpecs / spec_file, dir / "spec.yaml",
                               std::filesystem::copy_options::overwrite_existing);
    return dir;
  }
  void WriteFile(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p) << text;
  }
};

TEST_F(AuthoringTest, ValidatesRealSpecsWithoutStrict) {
  if (!std::filesystem::exists(kSpecs)) GTEST_SKIP() << "no ../shared/data";
  for (const char* spec : {"basic-auth.spec.yaml", "ai-proxy.spec.yaml", "transformer.spec.yaml",
                           "key-auth.spec.yaml"}) {
    nlohmann::json r = PlugctlJson({"validate", PluginDir(spec).string()});
    EXPECT_TRUE(r["valid"].get<bool>()) << spec << ": " << r["findings"].dump(1);
  }
}

TEST_F(AuthoringTest, StrictFailsOnDeviationsAndNamesTheLine) {
  if (!std::filesystem::exists(kSpecs)) GTEST_SKIP() << "no ../shared/data";
  // basic-auth has a duplicate `required:` key (one of the known quirks of the real specs).
  int line = 0;
  for (const test_support::HigressSpecQuirk& q : test_support::HigressSpecQuirks()) {
    if (q.file == "basic-auth.spec.yaml" && q.message_part.starts_with("duplicate key"))
      line = q.line;
  }
  ASSERT_EQ(line, 136);
  RunResult r = Plugctl({"validate", "--strict", PluginDir("basic-auth.spec.yaml").string()});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.out.find("spec.yaml:" + std::to_string(line)), std::string::npos) << r.out;
}

TEST_F(AuthoringTest, ConfigCheckReportsEveryViolationWithItsPath) {
  if (!std::filesystem::exists(kSpecs)) GTEST_SKIP() << "no ../shared/data";
  std::filesystem::path dir = PluginDir("basic-auth.spec.yaml");
  WriteFile(dir_ / "bad.yaml", "consumers:\n  - name: a\n    credential: 1\n  - credential: x:y\n");
  RunResult r = Plugctl({"config", "check", dir.string(), Path("bad.yaml")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.out.find("consumers[0].credential: expected string, got integer"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("consumers[1]"), std::string::npos) << r.out;

  WriteFile(dir_ / "good.yaml", "consumers:\n  - name: a\n    credential: a:b\n");
  EXPECT_TRUE(Plugctl({"config", "check", dir.string(), Path("good.yaml")}).ok());
}

TEST_F(AuthoringTest, ConfigCheckTakesAWholeWasmPlugin) {
  if (!std::filesystem::exists(kSpecs)) GTEST_SKIP() << "no ../shared/data";
  std::filesystem::path dir = PluginDir("basic-auth.spec.yaml");
  WriteFile(dir_ / "wp.yaml", R"(apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: basic-auth
spec:
  url: oci://example/basic-auth:1.0.0
  defaultConfig:
    consumers:
      - name: a
        credential: a:b
  matchRules:
    - domain: [example.com]
      config:
        allow: [a]
    - config:
        allow: [b]
)");
  // The second rule names no ingress, domain or service: invalid for the gateway.
  RunResult text = Plugctl({"config", "check", dir.string(), Path("wp.yaml")});
  EXPECT_EQ(text.exit_code, 1) << text.Summary();
  EXPECT_NE(text.out.find("matchRules[1]"), std::string::npos) << text.out;
}

TEST_F(AuthoringTest, ValidateSaysWhyTheGatewayWillNotLoadAnImage) {
  // A single raw wasm layer: a 2026 pipeline accident the gateway refuses.
  WriteLayoutImage(dir_ / "bad", "v1",
                   {{.media_type = "application/vnd.module.wasm.content.layer.v1+wasm",
                     .bytes = std::string("\0asm\1\0\0\0", 8),
                     .title = "plugin.wasm"}});
  RunResult r = Plugctl({"validate", "oci:" + Path("bad") + ":v1"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.out.find("will not load"), std::string::npos) << r.out;
  RunResult inspect = Plugctl({"inspect", "oci:" + Path("bad") + ":v1"});
  EXPECT_TRUE(inspect.ok()) << inspect.Summary();
  EXPECT_NE(inspect.out.find("will NOT load"), std::string::npos) << inspect.out;
}

TEST_F(AuthoringTest, InspectsAWasmFile) {
  Demo();
  ASSERT_TRUE(Plugctl({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", Path("p")}).ok());
  nlohmann::json r = PlugctlJson({"inspect", Path("p/plugin.wasm")});
  EXPECT_EQ(r["proxyAbiVersions"], nlohmann::json::array({"0_2_1"}));
  WriteFile(dir_ / "garbage.wasm", "nope");
  RunResult bad = Plugctl({"inspect", Path("garbage.wasm")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("magic"), std::string::npos) << bad.err;
}

// Undecided is not valid: a pattern PCRE2 gives up on, or a schema `validate` rejects, fails
// `config check` with the path, never "valid".
TEST_F(AuthoringTest, ConfigCheckNeverCallsUndecidedValid) {
  Demo();
  std::filesystem::path dir = dir_ / "plugin";
  ASSERT_TRUE(Plugctl({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", dir.string()}).ok());
  const std::string head =
      "apiVersion: 1.0.0\ninfo: {category: auth, name: p, title: P, description: d, "
      "version: 1.0.0}\nspec:\n  phase: AUTHN\n  priority: 1\n  configSchema:\n"
      "    openAPIV3Schema:\n      type: object\n      properties:\n";
  WriteFile(dir / "spec.yaml", head + "        name: {type: string, pattern: '^(a+)+$'}\n");
  WriteFile(dir_ / "c.yaml", "name: " + std::string(40, 'a') + "b\n");
  RunResult r = Plugctl({"config", "check", dir.string(), Path("c.yaml")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.out.find("c.yaml:1: name: undecided"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("INVALID"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  WriteFile(dir / "spec.yaml", head + "        name: {type: strin}\n");
  EXPECT_EQ(Plugctl({"validate", dir.string()}).exit_code, 1);
  r = Plugctl({"config", "check", dir.string(), Path("c.yaml")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.out.find("undecided: the plugin's schema is invalid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown type"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace plugctl::testing
