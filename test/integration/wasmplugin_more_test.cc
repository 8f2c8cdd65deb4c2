// `plugctl wasmplugin` error and iteration paths: every image of a list or bundle is tried and
// the good ones printed; archives named without a transport are read by content; usage errors
// for foreign transports and missing files; a config fragment that only disables the plugin;
// --platform against what a plugin server serves; findings in --format json errors. Against a
// real docker-registry where a registry is involved; resources are checked against Higress's
// WasmPlugin CRD by test/integration/crd_check.py.
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"
#include <yaml-cpp/yaml.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class WasmPluginMoreTest : public ExampleLayoutTest {
 protected:
  void ExpectCrdValid(const std::string& text) {
    fs::path crd = fs::path(PLUGCTL_SOURCE_DIR) / ".." / "shared" / "data" / "higress-crd" /
                   "wasmplugin-v1alpha1.openapiv3.json";
    ASSERT_TRUE(fs::exists(crd)) << "no WasmPlugin CRD at " << crd;
    RunResult r =
        RunProcess({"python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/crd_check.py",
                    crd.string()},
                   {.stdin_data = text});
    EXPECT_TRUE(r.ok()) << r.Summary() << "\n" << text;
  }

  static std::vector<YAML::Node> Parse(const std::string& text) {
    try {
      return YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << e.what() << "\n" << text;
      return {};
    }
  }
};

using WasmPluginMoreRegistryTest = WithRegistry<WasmPluginMoreTest>;

// The tester's repro: a missing image before and after a good one.
TEST_F(WasmPluginMoreRegistryTest, ListTriesEveryImageAndPrintsTheGoodOnes) {
  ASSERT_TRUE(Plugctl({"copy", layout_, Ref("plugins/myp:1.2.3")}).ok());
  std::string list = Write("two.properties", "x1=oci://" + Ref("plugins/gone1:1.0.0") +
                                                 "\nmyp=oci://" + Ref("plugins/myp:1.2.3") +
                                                 "\nx2=oci://" + Ref("plugins/gone2:1.0.0") + "\n");
  std::vector<std::string> args = {"wasmplugin", list, "--url-prefix", "oci://" + Ref("plugins"),
                                   "--no-url-check"};
  RunResult r = Plugctl(args);
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  auto docs = Parse(r.out);
  ASSERT_EQ(docs.size(), 1u) << r.out;
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "oci://" + Ref("plugins/myp:1.2.3"));
  ExpectCrdValid(r.out);
  // Each failure is one line naming its image, and the summary names both.
  EXPECT_EQ(CountOf(r.err, "error: " + Ref("plugins/gone1:1.0.0")), 1u) << r.err;
  EXPECT_EQ(CountOf(r.err, "error: " + Ref("plugins/gone2:1.0.0")), 1u) << r.err;
  EXPECT_NE(r.err.find("2 of 3 images failed"), std::string::npos) << r.err;

  // JSON: a List of the good ones (the shape a list file asks for), one document on stdout.
  std::vector<std::string> json_args = args;
  json_args.insert(json_args.begin(), {"--format", "json"});
  RunResult j = Plugctl(json_args);
  EXPECT_EQ(j.exit_code, 1) << j.Summary();
  nlohmann::json list_json = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(list_json.is_discarded()) << j.out;
  EXPECT_EQ(list_json["kind"], "List");
  ASSERT_EQ(list_json["items"].size(), 1u);
  ExpectCrdValid(j.out);

  // -o FILE is written only when every image made a resource: a part of a list applied later
  // would silently leave plugins out.
  std::vector<std::string> to_file = args;
  to_file.insert(to_file.end(), {"-o", Path("out.yaml")});
  RunResult f = Plugctl(to_file);
  EXPECT_EQ(f.exit_code, 1) << f.Summary();
  EXPECT_FALSE(fs::exists(dir_ / "out.yaml"));
  EXPECT_EQ(f.out, "");
  EXPECT_NE(f.err.find("nothing written to"), std::string::npos) << f.err;

  // All failed, JSON: one error object listing each failure.
  std::string gone =
      Write("gone.properties", "x1=oci://" + Ref("plugins/gone1:1.0.0") + "\nx2=oci://" +
                                   Ref("plugins/gone2:1.0.0") + "\n");
  RunResult none = Plugctl({"--format", "json", "wasmplugin", gone, "--url-prefix",
                            "oci://" + Ref("plugins"), "--no-url-check"});
  EXPECT_EQ(none.exit_code, 1) << none.Summary();
  nlohmann::json error = nlohmann::json::parse(none.out, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << none.out;
  ASSERT_EQ(error["error"]["failures"].size(), 2u) << none.out;
}

// A bundle with one image whose manifest blob is gone: the other still gets its resource.
TEST_F(WasmPluginMoreTest, BundleWithABrokenEntryPrintsTheOthers) {
  fs::copy(Example(), dir_ / "second", fs::copy_options::recursive);
  std::ofstream(dir_ / "second" / "README.md", std::ios::app) << "\nanother build\n";
  ASSERT_TRUE(Plugctl({"build", Path("second"), "-t", "oci:" + Path("layout") + ":2.0.0"}).ok());
  std::string digest =
      PlugctlJson({"inspect", "--no-gateway", "oci:" + Path("layout") + ":2.0.0"})["digest"];
  fs::remove(dir_ / "layout" / "blobs" / "sha256" / digest.substr(7));

  RunResult r = Plugctl({"wasmplugin", "oci:" + Path("layout"), "--url-prefix", "http://f/p"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  auto docs = Parse(r.out);
  ASSERT_EQ(docs.size(), 1u) << r.out;
  EXPECT_EQ(docs[0]["spec"]["url"].as<std::string>(), "http://f/p/add-header/1.0.0/plugin.wasm");
  ExpectCrdValid(r.out);
  EXPECT_EQ(CountOf(r.err, "error: oci:" + Path("layout") + " (2.0.0)"), 1u) << r.err;
}

// Archives and layouts named without a transport are images, judged by content.
TEST_F(WasmPluginMoreTest, BarePathArchivesAreBundlesNotLists) {
  ASSERT_TRUE(Plugctl({"build", Example().string(), "-t", "docker-archive:" + Path("bd.tar"),
                       "--variant", "docker"})
                  .ok());
  ASSERT_TRUE(Plugctl({"copy", layout_, "oci-archive:" + Path("oa.tar")}).ok());
  for (const std::string& bare : {Path("bd.tar"), Path("oa.tar"), Path("layout")}) {
    RunResult r = Plugctl({"wasmplugin", bare, "--url-prefix", "http://f/p"});
    EXPECT_TRUE(r.ok()) << bare << ": " << r.Summary();
    auto docs = Parse(r.out);
    ASSERT_EQ(docs.size(), 1u) << r.out;
    EXPECT_EQ(docs[0]["kind"].as<std::string>(), "WasmPlugin");
  }
  // A tar of something else is neither: said so, not a YAML parser's complaint about NUL bytes.
  ASSERT_EQ(RunProcess({"tar", "-cf", Path("other.tar"), "-C", Example().string(), "plugin.wasm"})
                .exit_code,
            0);
  RunResult other = Plugctl({"wasmplugin", Path("other.tar"), "--url-prefix", "http://f/p"});
  EXPECT_EQ(other.exit_code, 1) << other.Summary();
  EXPECT_NE(other.err.find("neither an image archive"), std::string::npos) << other.err;
  EXPECT_EQ(other.err.find("NUL"), std::string::npos) << other.err;
}

// Foreign transports and missing files are usage errors (exit 2), as for pull and copy; a
// missing source gets no hint about creating a layout there.
TEST_F(WasmPluginMoreTest, ForeignTransportsAndMissingFilesAreUsageErrors) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"wasmplugin", "dir:/x"},
        std::vector<std::string>{"mirror", "dir:/x", "--to", "oci:" + Path("q")},
        std::vector<std::string>{"mirror", layout_, "--to", "dir:/x"},
        std::vector<std::string>{"pull", "dir:/x", "-o", Path("q")},
        std::vector<std::string>{"copy", "dir:/x", "oci:" + Path("q")}}) {
    RunResult r = Plugctl(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.Summary();
    EXPECT_NE(r.err.find("unknown transport"), std::string::npos) << r.err;
  }
  for (std::vector<std::string> args :
       {std::vector<std::string>{"wasmplugin", "missing.properties"},
        std::vector<std::string>{"mirror", "missing.properties", "--to", "oci:" + Path("q")},
        std::vector<std::string>{"pull", "missing.properties", "-o", Path("q")},
        std::vector<std::string>{"copy", "missing.tar", "oci:" + Path("q")}}) {
    RunResult r = Plugctl(args, {.cwd = dir_.string()});
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.Summary();
    EXPECT_NE(r.err.find(args[1] + ": no such file or directory"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("name its transport"), std::string::npos) << r.err;
  }
  // A destination may be created: there the hint stays.
  RunResult dest = Plugctl({"copy", layout_, "out.tar"}, {.cwd = dir_.string()});
  EXPECT_EQ(dest.exit_code, 2) << dest.Summary();
  EXPECT_NE(dest.err.find("oci-archive:out.tar"), std::string::npos) << dest.err;
}

// `defaultConfigDisable: true` alone disables the plugin; a non-boolean is refused by path,
// and --format json carries the findings.
TEST_F(WasmPluginMoreTest, DisableOnlyConfigAndJsonFindings) {
  std::string off = Write("off.yaml", "defaultConfigDisable: true\n");
  RunResult r = Plugctl({"wasmplugin", layout_, "--url-prefix", "http://f/p", "--config", off});
  ASSERT_TRUE(r.ok()) << r.Summary();
  auto docs = Parse(r.out);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_TRUE(docs[0]["spec"]["defaultConfigDisable"].as<bool>());
  EXPECT_FALSE(docs[0]["spec"]["defaultConfig"]);
  ExpectCrdValid(r.out);

  for (const char* text : {"defaultConfigDisable: 0\n", "defaultConfigDisable: \"true\"\n"}) {
    std::string bad = Write("bad.yaml", text);
    RunResult refused = Plugctl(
        {"--format", "json", "wasmplugin", layout_, "--url-prefix", "http://f/p", "--config", bad});
    EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
    nlohmann::json error = nlohmann::json::parse(refused.out, nullptr, false);
    ASSERT_FALSE(error.is_discarded()) << refused.out;
    bool named = false;
    for (const auto& d : error["error"]["details"]) {
      named |= d["path"] == "defaultConfigDisable" && d["severity"] == "error";
    }
    EXPECT_TRUE(named) << refused.out;
  }
}

// An index whose linux/arm64 plugin.wasm differs from the linux/amd64 one: a plugin server
// serves the amd64 file, so an http(s):// URL cannot pin the arm64 one.
TEST_F(WasmPluginMoreTest, PlatformMustBeWhatAPluginServerServes) {
  fs::copy(Example(), dir_ / "arm", fs::copy_options::recursive);
  // A custom section makes another, still valid, module.
  std::ofstream(dir_ / "arm" / "plugin.wasm", std::ios::app | std::ios::binary)
      << std::string("\x00\x05\x04xtra", 7);
  std::string layout = Path("layout");
  ASSERT_TRUE(Plugctl({"build", Path("arm"), "-t", "oci:" + layout + ":arm"}).ok());
  ASSERT_TRUE(AddPlatformIndex(dir_ / "layout", {{"1.0.0", "amd64"}, {"arm", "arm64"}}, "multi"));
  std::string multi = "oci:" + layout + ":multi";

  RunResult arm =
      Plugctl({"wasmplugin", multi, "--url-prefix", "http://f/p", "--platform", "linux/arm64"});
  EXPECT_EQ(arm.exit_code, 1) << arm.Summary();
  EXPECT_EQ(arm.out, "");
  EXPECT_NE(arm.err.find("--platform linux/arm64"), std::string::npos) << arm.err;
  EXPECT_NE(arm.err.find("linux/amd64"), std::string::npos) << arm.err;
  // The platform the server serves is fine, named or not.
  std::string amd64_wasm = oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).hex();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"wasmplugin", multi, "--url-prefix", "http://f/p"},
        std::vector<std::string>{"wasmplugin", multi, "--url-prefix", "http://f/p", "--platform",
                                 "linux/amd64"}}) {
    RunResult r = Plugctl(args);
    ASSERT_TRUE(r.ok()) << r.Summary();
    auto docs = Parse(r.out);
    ASSERT_EQ(docs.size(), 1u);
    EXPECT_EQ(docs[0]["spec"]["sha256"].as<std::string>(), amd64_wasm);
  }
}

TEST_F(WasmPluginMoreTest, BadNamespaceNamesTheOption) {
  RunResult r =
      Plugctl({"wasmplugin", layout_, "--url-prefix", "http://f/p", "--namespace", "x y"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_NE(r.err.find("--namespace"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pass --name"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plugctl::testing
