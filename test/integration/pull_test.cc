// `plugctl pull`: extracts plugin.wasm (and spec.yaml, README*.md) byte-identical from every
// image shape, including the docker-built ones ORAS cannot pull, pushed to a real
// docker-registry by an independent client (skopeo) in Docker schema2 and OCI formats.
#include <fstream>
#include <set>

#include "fixture.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

std::set<std::string> DirNames(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

class PullTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    demo_ = PlugctlJson({"demo", "--dir", Path("demo")});
    ASSERT_TRUE(demo_.contains("wasmSha256")) << demo_.dump();
    wasm_sha256_ = demo_["wasmSha256"];
  }

  std::string Compat() { return DemoLayout() + ":hello-world:1.0.0"; }

  // The bytes of the demo's layer titled `title` (its Higress image spec layers).
  std::string DemoLayer(const std::string& title) {
    nlohmann::json inspect = PlugctlJson({"inspect", Compat()});
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

  // Pulls `image` into dir_/out and checks plugin.wasm against the demo's module.
  nlohmann::json PullAndCheck(const std::string& image, const std::string& out) {
    SCOPED_TRACE(image);
    nlohmann::json pulled = PlugctlJson({"pull", image, "-o", Path(out)});
    EXPECT_EQ(pulled["wasmSha256"], wasm_sha256_);
    EXPECT_EQ(oci::Digest::Of(ReadAll(dir_ / out / "plugin.wasm")).ToString(), wasm_sha256_);
    EXPECT_EQ(pulled["files"][0]["name"], "plugin.wasm");
    EXPECT_EQ(pulled["files"][0]["sha256"], wasm_sha256_);
    EXPECT_EQ(pulled["gateway"]["loadable"], true) << pulled.dump(2);
    return pulled;
  }

  nlohmann::json demo_;
  std::string wasm_sha256_;
};

TEST_F(PullTest, LocalLocationsOfBothShapes) {
  nlohmann::json compat = PullAndCheck(Compat(), "compat");
  EXPECT_EQ(compat["shape"], "oci-compat");
  EXPECT_EQ(compat["manifestDigest"], PlugctlJson({"inspect", Compat()})["digest"]);
  EXPECT_EQ(DirNames(dir_ / "compat"),
            (std::set<std::string>{"plugin.wasm", "README.md", "spec.yaml"}));
  EXPECT_EQ(ReadAll(dir_ / "compat/spec.yaml"), DemoLayer("spec.yaml"));
  EXPECT_EQ(ReadAll(dir_ / "compat/README.md"), DemoLayer("README.md"));

  nlohmann::json docker = PullAndCheck(DemoLayout() + ":hello-world:1.0.0-docker", "docker");
  EXPECT_EQ(docker["shape"], "docker");
  EXPECT_EQ(DirNames(dir_ / "docker"), std::set<std::string>{"plugin.wasm"});

  PullAndCheck("oci-archive:" + Path("demo/hello-world.oci.tar") + ":1.0.0", "oci-archive");
  nlohmann::json archive =
      PullAndCheck("docker-archive:" + Path("demo/hello-world.docker.tar"), "docker-archive");
  EXPECT_EQ(archive["manifestDigest"], docker["manifestDigest"]);
}

TEST_F(PullTest, TextOutputAndOverwriteRules) {
  RunResult r = Plugctl({"pull", Compat(), "-o", Path("out")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  std::string manifest = PlugctlJson({"inspect", Compat()})["digest"];
  EXPECT_NE(r.out.find("plugin.wasm sha256:  " + wasm_sha256_.substr(7)), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Manifest digest:     " + manifest), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("The gateway would load this image: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("spec.yaml"), std::string::npos) << r.out;

  std::ofstream(dir_ / "out/plugin.wasm") << "mine";
  RunResult again = Plugctl({"pull", Compat(), "-o", Path("out")});
  EXPECT_EQ(again.exit_code, 1) << again.Summary();
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(ReadAll(dir_ / "out/plugin.wasm"), "mine");

  nlohmann::json forced = PlugctlJson({"pull", "--force", Compat(), "-o", Path("out")});
  EXPECT_EQ(forced["files"][0]["replaced"], true);
  EXPECT_EQ(oci::Digest::Of(ReadAll(dir_ / "out/plugin.wasm")).ToString(), wasm_sha256_);

  EXPECT_EQ(Plugctl({"pull", Compat(), "-o", Path("x"), "--platform", "linux"}).exit_code, 2);
  EXPECT_EQ(Plugctl({"pull", Compat()}).exit_code, 2);
}

TEST_F(PullTest, MissingImageFailsAndWritesNothing) {
  RunResult r = Plugctl({"pull", DemoLayout() + ":nope", "-o", Path("none")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_FALSE(fs::exists(dir_ / "none"));
}

class PullRegistryTest : public WithRegistry<PullTest> {
 protected:
  void SetUp() override {
    WithRegistry::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo not installed (run scripts/setup.sh)";
  }
};

TEST_F(PullRegistryTest, PullsWhatSkopeoAndPlugctlPushed) {
  // The docker `FROM scratch` shape, pushed by skopeo as Docker schema2 and as OCI: the images
  // `oras pull` skips ("Skipped pulling layers without file name").
  ASSERT_NO_FATAL_FAILURE(SkopeoPushDemoInBothFormats());
  // The Higress image spec shape, pushed by plugctl.
  PlugctlJson({"copy", Compat(), Ref("plugins/hello-world:1.0.0")});

  nlohmann::json docker = PullAndCheck(Ref("skopeo/docker:1"), "docker");
  EXPECT_EQ(docker["manifestDigest"], SkopeoDigest(Ref("skopeo/docker:1")));
  EXPECT_EQ(docker["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(docker["shape"], "docker");

  nlohmann::json oci = PullAndCheck("docker://" + Ref("skopeo/oci:1"), "oci");
  EXPECT_EQ(oci["manifestDigest"], SkopeoDigest(Ref("skopeo/oci:1")));
  EXPECT_EQ(oci["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(oci["shape"], "oci-compat");

  nlohmann::json higress = PullAndCheck(Ref("plugins/hello-world:1.0.0"), "higress");
  EXPECT_EQ(higress["manifestDigest"], SkopeoDigest(Ref("plugins/hello-world:1.0.0")));
  EXPECT_EQ(DirNames(dir_ / "higress"),
            (std::set<std::string>{"plugin.wasm", "README.md", "spec.yaml"}));
  EXPECT_EQ(ReadAll(dir_ / "higress/spec.yaml"), DemoLayer("spec.yaml"));
  EXPECT_EQ(ReadAll(dir_ / "higress/README.md"), DemoLayer("README.md"));
}

}  // namespace
}  // namespace plugctl::testing
