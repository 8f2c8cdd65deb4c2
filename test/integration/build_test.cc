// `plugctl build` on the example plugin (examples/add-header, compiled to wasm during the
// build): to OCI layouts, archives and a real docker-registry, with skopeo as an independent
// reader. Builds must be reproducible: same files, same manifest digest.
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class BuildTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!fs::exists(Example() / "plugin.wasm")) {
      GTEST_SKIP() << "examples not built (PLUGCTL_BUILD_EXAMPLES=OFF): " << Example().string();
    }
  }

  static fs::path Example() { return fs::path(PLUGCTL_BINARY_DIR) / "examples" / "add-header"; }

  // plugctl --format json build ARGS, with optional environment.
  nlohmann::json Build(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {"--format", "json", "build"});
    RunResult r = Plugctl(args, {.env = std::move(env)});
    EXPECT_TRUE(r.ok()) << r.Summary();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  std::string SkopeoManifestDigest(const std::string& location) {
    return SkopeoInspectDigest({"--raw", "--tls-verify=false", location});
  }
  std::string SkopeoConfigDigest(const std::string& location) {
    return SkopeoInspectDigest({"--config", "--raw", location});
  }

  // A copy of the example directory (so tests can change it).
  fs::path CopyExample(const std::string& name) {
    fs::path dir = dir_ / name;
    fs::create_directories(dir);
    for (const char* f : {"plugin.wasm", "spec.yaml", "README.md", "README_EN.md"}) {
      fs::copy_file(Example() / f, dir / f);
    }
    return dir;
  }
};

TEST_F(BuildTest, ExampleToOciLayoutIsTheImageSpecAndReproducible) {
  const std::string layout = "oci:" + Path("layout") + ":add-header:1.0.0";
  nlohmann::json built = Build({Example().string(), "-t", layout});
  EXPECT_EQ(built["variant"], "compat");
  EXPECT_EQ(built["name"], "add-header/v1");
  EXPECT_EQ(built["version"], "1.0.0");
  EXPECT_EQ(built["title"], "Add Header");
  EXPECT_EQ(built["created"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(built["wasmSha256"], oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).ToString());
  EXPECT_EQ(built["abiVersions"], nlohmann::json::array({"0_2_1"}));
  ASSERT_EQ(built["targets"].size(), 1u);
  EXPECT_EQ(built["targets"][0]["digest"], built["digest"]);
  EXPECT_EQ(built["targets"][0]["tag"], "add-header:1.0.0");

  nlohmann::json inspect = PlugctlJson({"inspect", layout});
  EXPECT_EQ(inspect["digest"], built["digest"]);
  EXPECT_EQ(inspect["config"]["mediaType"], "application/vnd.unknown.config.v1+json");
  std::vector<std::string> titles, types;
  for (const auto& l : inspect["layers"]) {
    titles.push_back(l["annotations"]["org.opencontainers.image.title"]);
    types.push_back(l["mediaType"]);
  }
  EXPECT_EQ(titles,
            (std::vector<std::string>{"README_EN.md", "README.md", "spec.yaml", "plugin.tar.gz"}));
  EXPECT_EQ(types, (std::vector<std::string>{"application/vnd.module.wasm.doc.v1.en+markdown",
                                             "application/vnd.module.wasm.doc.v1+markdown",
                                             "application/vnd.module.wasm.spec.v1+yaml",
                                             "application/vnd.oci.image.layer.v1.tar+gzip"}));
  EXPECT_EQ(inspect["annotations"]["org.opencontainers.image.version"], "1.0.0");
  EXPECT_EQ(inspect["annotations"]["org.opencontainers.image.title"], "Add Header");

  // The same files elsewhere, built again (to an OCI archive): the same digest.
  fs::path copy = CopyExample("copy");
  nlohmann::json again = Build({copy.string(), "-t", "oci-archive:" + Path("a.tar")});
  EXPECT_EQ(again["digest"], built["digest"]);
  EXPECT_EQ(again["targets"][0]["tag"], "1.0.0");  // the spec version
  // SOURCE_DATE_EPOCH changes the created time, and so the digest, but no layer.
  nlohmann::json dated =
      Build({copy.string(), "-t", "oci:" + Path("dated")}, {{"SOURCE_DATE_EPOCH", "1700000000"}});
  EXPECT_EQ(dated["created"], "2023-11-14T22:13:20Z");
  EXPECT_NE(dated["digest"], built["digest"]);
  EXPECT_EQ(dated["layers"], built["layers"]);
  nlohmann::json dated_again =
      Build({copy.string(), "-t", "oci:" + Path("dated2")}, {{"SOURCE_DATE_EPOCH", "1700000000"}});
  EXPECT_EQ(dated_again["digest"], dated["digest"]);
}

TEST_F(BuildTest, TextOutputNamesEveryTargetAndTheWasmSha256) {
  RunResult r = Plugctl({"build", Example().string(), "-t", "oci:" + Path("l1") + ":a", "-t",
                         "oci:" + Path("l2") + ":b"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  std::string wasm_hex = oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).hex();
  EXPECT_NE(r.out.find("plugin.wasm  sha256:" + wasm_hex), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oci:" + Path("l1")), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oci:" + Path("l2")), std::string::npos) << r.out;
  EXPECT_EQ(PlugctlJson({"inspect", "oci:" + Path("l1") + ":a"})["digest"],
            PlugctlJson({"inspect", "oci:" + Path("l2") + ":b"})["digest"]);
}

TEST_F(BuildTest, SkopeoCopiesTheBuiltImageAndBackUnchanged) {
  if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo not installed (run scripts/setup.sh)";
  for (const char* variant : {"compat", "oci"}) {
    SCOPED_TRACE(variant);
    const std::string ours = "oci:" + Path(std::string("ours-") + variant) + ":1.0.0";
    nlohmann::json built = Build({Example().string(), "--variant", variant, "-t", ours});
    EXPECT_EQ(SkopeoManifestDigest(ours), built["digest"]);
    const std::string theirs = "oci:" + Path(std::string("theirs-") + variant) + ":x";
    RunResult r = Skopeo({"copy", ours, theirs});
    ASSERT_TRUE(r.ok()) << r.Summary();
    const std::string back = "oci:" + Path(std::string("back-") + variant) + ":y";
    r = Skopeo({"copy", theirs, back});
    ASSERT_TRUE(r.ok()) << r.Summary();
    EXPECT_EQ(PlugctlJson({"inspect", theirs})["digest"], built["digest"]);
    EXPECT_EQ(PlugctlJson({"inspect", back})["digest"], built["digest"]);
  }
}

TEST_F(BuildTest, DockerVariantToDockerArchiveIsReadBySkopeo) {
  if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo not installed (run scripts/setup.sh)";
  const std::string archive = "docker-archive:" + Path("plugin.tar");
  nlohmann::json built =
      Build({Example().string(), "--variant", "docker", "-t", archive + ":plugins/add-header:1.0.0",
             "-t", "docker-archive:" + Path("default.tar")});
  EXPECT_EQ(built["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(built["targets"][1]["tag"], "add-header:1.0.0");
  EXPECT_EQ(PlugctlJson({"tags", "docker-archive:" + Path("default.tar")})["tags"],
            nlohmann::json::array({"add-header:1.0.0"}));

  nlohmann::json inspect = PlugctlJson({"inspect", archive});
  EXPECT_EQ(inspect["digest"], built["digest"]);
  EXPECT_EQ(SkopeoConfigDigest(archive), built["config"]["digest"]);
  // skopeo converts it to OCI: its docker-archive reader hands layers out uncompressed
  // (verified against the diff_ids) and recompresses them, but the config, written in the key
  // order skopeo re-serializes with, keeps its digest (the image ID).
  RunResult r = Skopeo({"copy", archive, "oci:" + Path("from-docker") + ":x"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json reread = PlugctlJson({"inspect", "oci:" + Path("from-docker") + ":x"});
  EXPECT_EQ(reread["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(reread["config"]["digest"], built["config"]["digest"]);
  ASSERT_EQ(reread["layers"].size(), 1u);
  // The config carries the plugin's metadata as labels.
  EXPECT_EQ(inspect["config"]["content"]["config"]["Labels"]["org.opencontainers.image.version"],
            "1.0.0");
}

TEST_F(BuildTest, PushesToARegistryWithTheSameDigest) {
  auto registry = StartRegistryOrSkip(dir_ / "registry");
  if (!registry) return;
  const std::string ref = registry->Ref("plugins/add-header");
  nlohmann::json built =
      Build({Example().string(), "-t", ref + ":1.0.0", "-t", ref, "-t", "oci:" + Path("local")});
  ASSERT_EQ(built["targets"].size(), 3u);
  EXPECT_EQ(built["targets"][1]["tag"], "1.0.0");
  for (const auto& t : built["targets"]) EXPECT_EQ(t["digest"], built["digest"]);
  EXPECT_EQ(PlugctlJson({"resolve", ref + ":1.0.0"})["digest"], built["digest"]);
  if (!HaveProgram("skopeo")) return;
  EXPECT_EQ(SkopeoManifestDigest("docker://" + ref + ":1.0.0"), built["digest"]);
  // skopeo pulls it to a layout and pushes it back under another tag, unchanged.
  RunResult r =
      Skopeo({"copy", "--src-tls-verify=false", "docker://" + ref + ":1.0.0", "oci:" + Path("s")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  r = Skopeo({"copy", "--dest-tls-verify=false", "oci:" + Path("s"), "docker://" + ref + ":again"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(SkopeoManifestDigest("docker://" + ref + ":again"), built["digest"]);
}

TEST_F(BuildTest, RefusesWhatTheSpecForbids) {
  fs::path dir = CopyExample("broken");
  fs::remove(dir / "spec.yaml");
  RunResult r = Plugctl({"build", dir.string(), "-t", "oci:" + Path("x")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("spec.yaml is missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(Path("x")));
  r = Plugctl({"build", "--allow-missing", dir.string(), "-t", "oci:" + Path("x") + ":t"});
  EXPECT_TRUE(r.ok()) << r.Summary();

  // The compat image is not a docker image: a docker archive refuses it.
  r = Plugctl({"build", Example().string(), "-t", "docker-archive:" + Path("d.tar") + ":a/b:1"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("docker"), std::string::npos) << r.err;

  std::ofstream(dir / "plugin.wasm", std::ios::trunc) << "not wasm";
  r = Plugctl({"build", "--allow-missing", dir.string(), "-t", "oci:" + Path("y")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("plugin.wasm"), std::string::npos) << r.err;

  r = Plugctl({"build", Example().string(), "-t", "oci:" + Path("z")},
              {.env = {{"SOURCE_DATE_EPOCH", "yesterday"}}});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("SOURCE_DATE_EPOCH"), std::string::npos) << r.err;
}

TEST_F(BuildTest, UsageErrors) {
  EXPECT_EQ(Plugctl({"build", Example().string()}).exit_code, 2);  // no target
  EXPECT_EQ(Plugctl({"build", Example().string(), "--variant", "wasm", "-t", "oci:x"}).exit_code,
            2);
  EXPECT_EQ(Plugctl({"build", Path("nope"), "-t", "oci:x"}).exit_code, 2);
  EXPECT_EQ(Plugctl({"build", Example().string(), "-t", "bogus:"}).exit_code, 2);
}

}  // namespace
}  // namespace plugctl::testing
