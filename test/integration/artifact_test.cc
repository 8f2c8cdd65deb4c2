// ORAS parity: `plugctl push` of any files as one artifact (seed 001's `oras push` command,
// unchanged but for the name), `plugctl pull --all`, `plugctl attach` + `referrers` on both
// registry kinds (docker-registry: the tag schema; plugctl serve: the referrers API), `plugctl
// init`, and bulk pulls from lists and bundles. skopeo reads what was pushed as an interop check.
#include <fstream>
#include <set>

#include "fixture.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

class ArtifactCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    demo_ = PlugctlJson({"demo", "--dir", Path("demo")});
    ASSERT_TRUE(demo_.contains("wasmSha256")) << demo_.dump();
    // Seed 001's files: the READMEs and the plugin.tar.gz of the demo's Higress image.
    fs::path work = dir_ / "work";
    WriteFile(work / "README.md", "# ai-proxy\n中文\n");
    WriteFile(work / "README_EN.md", "# ai-proxy\nEnglish\n");
    WriteFile(work / "README_dev.md", "# ai-proxy\nfor developers\n");
    WriteFile(work / "plugin.tar.gz", DemoLayer("plugin.tar.gz"));
  }

  std::string DemoLayer(const std::string& title) {
    nlohmann::json inspect = PlugctlJson({"inspect", DemoLayout() + ":hello-world:1.0.0"});
    for (const auto& layer : inspect["layers"]) {
      if (layer.value("annotations", nlohmann::json::object())
              .value("org.opencontainers.image.title", "") == title) {
        std::string hex = layer["digest"].get<std::string>().substr(7);
        return ReadAll(dir_ / "demo/layout/blobs/sha256" / hex);
      }
    }
    ADD_FAILURE() << "no layer titled " << title;
    return "";
  }

  // Seed 001's `oras push` with plugctl in place of oras, run in dir_/work.
  RunResult SeedPush(const std::string& ref, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "push",
        "--insecure",
        ref,
        "./README.md:application/vnd.module.wasm.doc.v1+markdown",
        "./README_EN.md:application/vnd.module.wasm.doc.v1.en+markdown",
        "./README_dev.md:application/vnd.module.wasm.doc.v1.en+markdown",
        "./plugin.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip"};
    args.insert(args.begin(), extra.begin(), extra.end());
    return Plugctl(args, {.cwd = (dir_ / "work").string()});
  }

  // Pulls `ref` as a plugin and with --all, checking both against the pushed files.
  void CheckPullsBack(const std::string& ref, const std::string& name) {
    SCOPED_TRACE(ref);
    nlohmann::json plugin = PlugctlJson({"pull", ref, "-o", Path(name + "-plugin")});
    EXPECT_EQ(plugin["wasmSha256"], demo_["wasmSha256"]);
    EXPECT_EQ(oci::Digest::Of(ReadAll(dir_ / (name + "-plugin") / "plugin.wasm")).ToString(),
              demo_["wasmSha256"]);
    EXPECT_EQ(plugin["gateway"]["loadable"], true) << plugin.dump(2);
    EXPECT_EQ(ReadAll(dir_ / (name + "-plugin") / "README_EN.md"),
              ReadAll(dir_ / "work/README_EN.md"));

    nlohmann::json all = PlugctlJson({"pull", "--all", ref, "-o", Path(name + "-all")});
    EXPECT_EQ(all["artifactType"], "application/vnd.unknown.artifact.v1");
    EXPECT_EQ(
        Names(dir_ / (name + "-all")),
        (std::set<std::string>{"README.md", "README_EN.md", "README_dev.md", "plugin.tar.gz"}));
    for (const char* f : {"README.md", "README_EN.md", "README_dev.md", "plugin.tar.gz"}) {
      EXPECT_EQ(ReadAll(dir_ / (name + "-all") / f), ReadAll(dir_ / "work" / f)) << f;
    }
  }

  nlohmann::json demo_;
};

TEST_F(ArtifactCliTest, SeedPushToLayoutAndArchivePullsBothWays) {
  RunResult layout = SeedPush("oci:" + Path("layout") + ":v1");
  ASSERT_TRUE(layout.ok()) << layout.Summary();
  EXPECT_NE(layout.out.find("Pushed 4 files"), std::string::npos) << layout.out;
  CheckPullsBack("oci:" + Path("layout") + ":v1", "layout");

  nlohmann::json inspect = PlugctlJson({"inspect", "oci:" + Path("layout") + ":v1"});
  EXPECT_EQ(inspect["artifactType"], "application/vnd.unknown.artifact.v1");
  EXPECT_EQ(inspect["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
  EXPECT_EQ(inspect["config"]["size"], 2);
  EXPECT_EQ(inspect["layers"][3]["annotations"]["org.opencontainers.image.title"], "plugin.tar.gz");

  RunResult archive = SeedPush("oci-archive:" + Path("a.tar"));
  ASSERT_TRUE(archive.ok()) << archive.Summary();
  CheckPullsBack("oci-archive:" + Path("a.tar") + ":latest", "archive");

  if (HaveProgram("skopeo")) {
    // An independent reader sees the same manifest bytes.
    EXPECT_EQ(SkopeoInspectDigest({"--raw", "oci:" + Path("layout") + ":v1"}), inspect["digest"]);
  }
}

TEST_F(ArtifactCliTest, RefusalsSayWhy) {
  RunResult docker = SeedPush("docker-archive:" + Path("d.tar") + ":x:1");
  EXPECT_EQ(docker.exit_code, 1);
  EXPECT_NE(docker.err.find("docker archive holds only docker images"), std::string::npos)
      << docker.err;
  EXPECT_FALSE(fs::exists(dir_ / "d.tar"));

  // (Directories are packed as ORAS packs them: oras_dir_test.cc.)
  fs::create_directories(dir_ / "work/adir");
  RunResult directory =
      Plugctl({"push", "oci:" + Path("l"), "--config", "adir"}, {.cwd = Path("work")});
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_NE(directory.err.find("is a directory"), std::string::npos) << directory.err;

  WriteFile(dir_ / "work/odd:name", "x");
  RunResult colon = Plugctl({"push", "oci:" + Path("l"), "odd:name"}, {.cwd = Path("work")});
  EXPECT_EQ(colon.exit_code, 1);
  EXPECT_NE(colon.err.find("holds ':'"), std::string::npos) << colon.err;
  EXPECT_FALSE(fs::exists(dir_ / "l"));

  // A plain pull of a non-plugin artifact points at --all.
  RunResult pushed =
      Plugctl({"push", "oci:" + Path("l") + ":docs", "README.md"}, {.cwd = Path("work")});
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();
  RunResult pull = Plugctl({"pull", "oci:" + Path("l") + ":docs", "-o", Path("o")});
  EXPECT_EQ(pull.exit_code, 1);
  EXPECT_NE(pull.err.find("pull --all"), std::string::npos) << pull.err;
}

TEST_F(ArtifactCliTest, AnnotationsAndConfig) {
  WriteFile(dir_ / "work/ann.json",
            R"({"$manifest": {"team": "gw"}, "README.md": {"lang": "zh"}})");
  WriteFile(dir_ / "work/cfg.json", R"({"x": 1})");
  RunResult r = Plugctl(
      {"--format", "json", "push", "oci:" + Path("l") + ":v1", "README.md", "--annotation", "k=v",
       "--annotation-file", "ann.json", "--config", "cfg.json:application/vnd.example.config+json",
       "--artifact-type", "application/vnd.example"},
      {.cwd = Path("work")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json inspect = PlugctlJson({"inspect", "--no-gateway", "oci:" + Path("l") + ":v1"});
  EXPECT_EQ(inspect["artifactType"], "application/vnd.example");
  EXPECT_EQ(inspect["annotations"]["k"], "v");
  EXPECT_EQ(inspect["annotations"]["team"], "gw");
  EXPECT_TRUE(inspect["annotations"].contains("org.opencontainers.image.created"));
  EXPECT_EQ(inspect["config"]["mediaType"], "application/vnd.example.config+json");
  EXPECT_EQ(inspect["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(inspect["layers"][0]["annotations"]["lang"], "zh");
}

class ArtifactRegistryTest : public WithRegistry<ArtifactCliTest> {};

TEST_F(ArtifactRegistryTest, SeedPushOverLocalhostAndAttach) {
  // The seed pushes to localhost:5000 with --insecure: the registry speaks plain HTTP there.
  const std::string port = registry_->host().substr(registry_->host().find(':') + 1);
  const std::string ref = "localhost:" + port + "/ai_proxy:v1";
  RunResult pushed = SeedPush(ref);
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();
  CheckPullsBack(ref, "registry");
  nlohmann::json inspect = PlugctlJson({"inspect", ref});
  if (HaveProgram("skopeo")) {
    EXPECT_EQ(SkopeoDigest(Ref("ai_proxy:v1")), inspect["digest"]);
  }

  WriteFile(dir_ / "work/sbom.json", R"({"spdxVersion": "SPDX-2.3"})");
  nlohmann::json attached =
      PlugctlJson({"attach", ref, Path("work/sbom.json:application/spdx+json"), "--artifact-type",
                   "application/spdx+json"});
  EXPECT_EQ(attached["subject"]["digest"], inspect["digest"]);
  nlohmann::json referrers = PlugctlJson({"referrers", ref});
  ASSERT_EQ(referrers["referrers"].size(), 1u) << referrers.dump(2);
  EXPECT_EQ(referrers["referrers"][0]["digest"], attached["digest"]);
  EXPECT_EQ(referrers["referrers"][0]["artifactType"], "application/spdx+json");
  nlohmann::json sbom =
      PlugctlJson({"pull", "--all", Ref("ai_proxy@") + attached["digest"].get<std::string>(), "-o",
                   Path("sbom")});
  EXPECT_EQ(ReadAll(dir_ / "sbom/sbom.json"), ReadAll(dir_ / "work/sbom.json"));
}

// The other registry kind, so both the referrers API (plugctl serve) and the tag schema
// (docker-registry 2.8) are exercised whichever kind the suite runs with.
TEST_F(ArtifactCliTest, AttachOnTheOtherRegistryKind) {
  RegistryConfig config;
  config.kind = DefaultRegistryKind() == RegistryKind::kPlugctlServe ? RegistryKind::kDockerRegistry
                                                                     : RegistryKind::kPlugctlServe;
  auto registry = StartRegistryOrSkip(dir_ / "registry2", config);
  if (!registry) return;
  const std::string ref = registry->Ref("plugins/hello:1");
  ASSERT_TRUE(SeedPush(ref).ok());
  WriteFile(dir_ / "work/sig.txt", "signature");
  nlohmann::json attached = PlugctlJson({"attach", ref, Path("work/sig.txt"), "--artifact-type",
                                         "application/vnd.example.signature"});
  nlohmann::json referrers = PlugctlJson({"referrers", ref});
  ASSERT_EQ(referrers["referrers"].size(), 1u) << referrers.dump(2);
  EXPECT_EQ(referrers["referrers"][0]["digest"], attached["digest"]);
}

TEST_F(ArtifactCliTest, InitScaffoldValidatesAndBuilds) {
  RunResult init = Plugctl({"init", Path("my-plugin")});
  ASSERT_TRUE(init.ok()) << init.Summary();
  nlohmann::json valid = PlugctlJson({"validate", "--strict", Path("my-plugin")});
  EXPECT_EQ(valid["valid"], true) << valid.dump(2);
  EXPECT_EQ(valid["plugin"]["name"], "my-plugin");

  if (HaveProgram("clang") && HaveProgram("wasm-ld")) {
    RunResult built = RunProcess({Path("my-plugin/build.sh")});
    ASSERT_TRUE(built.ok()) << built.Summary();
  }
  nlohmann::json image =
      PlugctlJson({"build", Path("my-plugin"), "-t", "oci:" + Path("out") + ":0.1.0"});
  EXPECT_EQ(image["name"], "my-plugin");
  nlohmann::json pulled = PlugctlJson({"pull", "oci:" + Path("out") + ":0.1.0", "-o", Path("p")});
  EXPECT_EQ(pulled["gateway"]["loadable"], true);

  RunResult again = Plugctl({"init", Path("my-plugin")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
  RunResult bad = Plugctl({"init", Path("x"), "--name", "Bad_Name"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

TEST_F(ArtifactRegistryTest, BulkPullFromListAndBundle) {
  const std::string compat = DemoLayout() + ":hello-world:1.0.0";
  PlugctlJson({"copy", compat, Ref("plugins/basic-auth:1.0.0")});
  PlugctlJson({"copy", compat, Ref("plugins/jsonrpc-converter:2.0.0")});
  WriteFile(dir_ / "plugins.properties", "basic-auth=oci://" + Ref("plugins/basic-auth:1.0.0") +
                                             "\n" + "json-converter=oci://" +
                                             Ref("plugins/jsonrpc-converter:2.0.0") + "\n");
  nlohmann::json list = PlugctlJson({"pull", Path("plugins.properties"), "-o", Path("out")});
  ASSERT_EQ(list["images"].size(), 2u) << list.dump(2);
  for (const char* sub : {"out/basic-auth/1.0.0", "out/json-converter/2.0.0"}) {
    EXPECT_EQ(oci::Digest::Of(ReadAll(dir_ / sub / "plugin.wasm")).ToString(), demo_["wasmSha256"])
        << sub;
  }

  // A bundle mirror wrote (it keeps the plugins.properties keys): the same names.
  RunResult mirrored =
      Plugctl({"mirror", Path("plugins.properties"), "--to", "oci-archive:" + Path("b.tar")});
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();
  nlohmann::json bundle = PlugctlJson({"pull", "oci-archive:" + Path("b.tar"), "-o", Path("b")});
  ASSERT_EQ(bundle["images"].size(), 2u) << bundle.dump(2);
  EXPECT_TRUE(fs::exists(dir_ / "b/json-converter/2.0.0/plugin.wasm"));
  EXPECT_TRUE(fs::exists(dir_ / "b/basic-auth/1.0.0/plugin.wasm"));

  // Two images landing in one directory: refused before anything is written.
  PlugctlJson({"copy", compat, Ref("other/basic-auth:1.0.0")});
  WriteFile(dir_ / "clash.txt",
            Ref("plugins/basic-auth:1.0.0") + "\n" + Ref("other/basic-auth:1.0.0") + "\n");
  RunResult clash = Plugctl({"pull", Path("clash.txt"), "-o", Path("clash")});
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_NE(clash.err.find("basic-auth"), std::string::npos) << clash.err;
  EXPECT_FALSE(fs::exists(dir_ / "clash/basic-auth"));

  RunResult missing = Plugctl({"pull", Path("nope.properties"), "-o", Path("x")});
  EXPECT_NE(missing.exit_code, 0);
}

}  // namespace
}  // namespace plugctl::testing
