// Real Docker (Debian's dockerd 20.10, a private daemon) and podman 4.3 against every docker
// archive plugctl writes, and plugctl against what they save and push:
//  * `docker load`/`podman load` of single-image, multi-image (accumulated by copy, tag and
//    mirror), converted (--variant docker) and renamed archives, with the expected names;
//  * `docker save`/`podman save` output read by `plugctl copy` and `plugctl pull` with the very
//    plugin.wasm bytes the image was made from;
//  * `docker push`/`podman push` to a real docker-registry, then `plugctl pull`;
//  * docker-variant images plugctl pushes, pulled by both engines.
//
// One engine of each kind per test suite (started in SetUpTestSuite, shared by the suite's tests
// when they run in one process; ctest runs each test in its own process, so each starts its
// own). Images are tiny (the demo plugin): vfs copies every layer in full. Tests skip only when
// an engine cannot start, and CI fails on such a skip (test/ci-skips.txt allows none here).
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string_view>

#include "engine_fixture.h"
#include "fixture.h"
#include "registry_fixture.h"
#include <sys/stat.h>

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class DockerInteropTest : public CliTest, public ::testing::WithParamInterface<EngineKind> {
 protected:
  static void SetUpTestSuite() {
    for (EngineKind kind : {EngineKind::kDocker, EngineKind::kPodman}) {
      std::string why;
      engines_[kind] = ContainerEngine::Start(kind, &why);
      why_[kind] = why;
    }
  }
  static void TearDownTestSuite() {
    engines_.clear();
    why_.clear();
  }

  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    engine_ = engines_[GetParam()].get();
    if (engine_ == nullptr) {
      GTEST_SKIP() << EngineKindName(GetParam()) << " could not start: " << why_[GetParam()];
    }
    // Each test starts from an empty image store (the engine is shared by the suite).
    RunResult r =
        engine_->Run({"image", "prune", "-a", "-f"}, {.timeout = ContainerEngine::kCommandTimeout});
    ASSERT_TRUE(r.ok()) << r.Summary();
    ASSERT_EQ(Names(), std::set<std::string>{});
    Demo();
  }

  std::string DockerShaped() const { return DemoLayout() + ":hello-world:1.0.0-docker"; }
  std::string HigressShaped() const { return DemoLayout() + ":hello-world:1.0.0"; }
  // The plugin.wasm the demo images were made from, as plugctl extracts it.
  std::string DemoWasm() {
    if (demo_wasm_.empty()) {
      PlugctlJson({"pull", HigressShaped(), "-o", Path("demo-wasm")});
      demo_wasm_ = ReadAll(dir_ / "demo-wasm" / "plugin.wasm");
      EXPECT_EQ(demo_wasm_.substr(0, 4), std::string("\0asm", 4));
    }
    return demo_wasm_;
  }

  // The image names the engine holds, as docker writes them: podman's "docker.io/library/x:1"
  // and "docker.io/p/x:1" (what it reads from io.containerd.image.name) and "localhost/x:1"
  // (what it makes of a short RepoTag on its docker-archive path) are docker's "x:1", "p/x:1".
  std::set<std::string> Names() {
    RunResult r = engine_->Run({"images", "--format", "{{.Repository}}:{{.Tag}}"},
                               {.timeout = ContainerEngine::kCommandTimeout});
    EXPECT_TRUE(r.ok()) << r.Summary();
    std::set<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line.find("<none>") != std::string::npos) continue;
      for (std::string_view prefix : {"docker.io/library/", "docker.io/", "localhost/"}) {
        if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
      }
      out.insert(line);
    }
    return out;
  }

  // `load -i TAR` into an emptied store; the names it yields.
  std::set<std::string> LoadAlone(const std::string& tar) {
    RunResult r =
        engine_->Run({"image", "prune", "-a", "-f"}, {.timeout = ContainerEngine::kCommandTimeout});
    EXPECT_TRUE(r.ok()) << r.Summary();
    for (const std::string& name : Names()) engine_->Remove(name);
    std::string first;
    r = engine_->Load(tar, &first);
    EXPECT_TRUE(r.ok()) << tar << ": " << r.Summary();
    return Names();
  }

  // plugin.wasm as `plugctl pull` extracts it from `location` (engines save layers
  // uncompressed, which the gateway does not load: pull says so and extracts all the same).
  std::string PulledWasm(const std::string& location, const std::string& dir) {
    nlohmann::json pulled = PlugctlJson({"pull", location, "-o", Path(dir)});
    EXPECT_TRUE(pulled.contains("wasmSha256")) << pulled.dump(2);
    return ReadAll(dir_ / dir / "plugin.wasm");
  }

  static inline std::map<EngineKind, std::unique_ptr<ContainerEngine>> engines_;
  static inline std::map<EngineKind, std::string> why_;
  ContainerEngine* engine_ = nullptr;
  std::string demo_wasm_;
};

using NameSet = std::set<std::string>;

TEST_P(DockerInteropTest, LoadsASingleImageArchiveUnderItsName) {
  const std::string tar = Path("single.tar");
  PlugctlJson({"copy", DockerShaped(), "docker-archive:" + tar + ":plugins/single:1.0.0"});
  EXPECT_EQ(LoadAlone(tar), NameSet{"plugins/single:1.0.0"});
  // The engine keeps the config plugctl wrote, byte for byte (the image ID is its digest).
  nlohmann::json source = PlugctlJson({"inspect", DockerShaped()});
  EXPECT_EQ(engine_->ImageId("plugins/single:1.0.0"), source["config"]["digest"]);
  // The demo's own docker archive (plugctl demo) loads too.
  EXPECT_EQ(LoadAlone(Path("demo/hello-world.docker.tar")),
            NameSet{"plugctl-demo/hello-world:1.0.0"});
}

TEST_P(DockerInteropTest, LoadsAConvertedImageUnderTheSourcesTag) {
  // No destination tag: the source's ("hello-world:1.0.0") is kept.
  const std::string tar = Path("converted.tar");
  nlohmann::json converted =
      PlugctlJson({"copy", "--variant", "docker", HigressShaped(), "docker-archive:" + tar});
  EXPECT_EQ(converted["tags"], nlohmann::json::array({"hello-world:1.0.0"}));
  EXPECT_EQ(LoadAlone(tar), NameSet{"hello-world:1.0.0"});
}

TEST_P(DockerInteropTest, LoadsRenamedAndAccumulatedArchives) {
  const std::string tar = Path("bundle.tar");
  const std::string archive = "docker-archive:" + tar;
  // Renamed on the way in, then a second image added to the same file, then retagged in place.
  PlugctlJson({"copy", DockerShaped(), archive + ":reg.example.com/plugins/hello:1.0.0"});
  PlugctlJson({"copy", "--variant", "docker", HigressShaped(), archive + ":other/converted:2.0"});
  nlohmann::json tagged =
      PlugctlJson({"tag", archive + ":reg.example.com/plugins/hello:1.0.0", "hello:latest"});
  EXPECT_EQ(tagged["tags"], nlohmann::json::array({"hello:latest"}));
  EXPECT_EQ(PlugctlJson({"tags", archive})["tags"],
            nlohmann::json::array(
                {"hello:latest", "other/converted:2.0", "reg.example.com/plugins/hello:1.0.0"}));

  EXPECT_EQ(LoadAlone(tar), (NameSet{"hello:latest", "other/converted:2.0",
                                     "reg.example.com/plugins/hello:1.0.0"}));
  EXPECT_EQ(engine_->ImageId("hello:latest"),
            engine_->ImageId("reg.example.com/plugins/hello:1.0.0"));

  // Writing a tag the archive has moves it, as in an OCI archive.
  PlugctlJson({"copy", archive + ":other/converted:2.0", archive + ":hello:latest"});
  EXPECT_EQ(LoadAlone(tar), (NameSet{"hello:latest", "other/converted:2.0",
                                     "reg.example.com/plugins/hello:1.0.0"}));
  EXPECT_EQ(engine_->ImageId("hello:latest"), engine_->ImageId("other/converted:2.0"));
}

TEST_P(DockerInteropTest, MirrorIntoADockerArchiveIsIncremental) {
  const std::string bundle = "oci:" + Path("bundle");
  PlugctlJson({"copy", DockerShaped(), bundle + ":reg.example.com/plugins/a:1.0.0"});
  const std::string tar = Path("mirrored.tar");
  nlohmann::json first = PlugctlJson({"mirror", bundle, "--to", "docker-archive:" + tar});
  EXPECT_EQ(first["copied"], 1) << first.dump(2);
  struct stat before {};
  ASSERT_EQ(::stat(tar.c_str(), &before), 0);
  nlohmann::json again = PlugctlJson({"mirror", bundle, "--to", "docker-archive:" + tar});
  EXPECT_EQ(again["upToDate"], 1) << again.dump(2);
  EXPECT_EQ(again["copied"], 0) << again.dump(2);
  struct stat after {};
  ASSERT_EQ(::stat(tar.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "an up-to-date mirror rewrote the archive";

  PlugctlJson({"copy", DockerShaped(), bundle + ":reg.example.com/plugins/b:1.0.0"});
  nlohmann::json more = PlugctlJson({"mirror", bundle, "--to", "docker-archive:" + tar});
  EXPECT_EQ(more["copied"], 1) << more.dump(2);
  EXPECT_EQ(more["upToDate"], 1) << more.dump(2);
  EXPECT_EQ(LoadAlone(tar),
            (NameSet{"reg.example.com/plugins/a:1.0.0", "reg.example.com/plugins/b:1.0.0"}));

  // Converting mirrors rebuild reproducibly: the second one finds every blob and tag in place
  // and leaves the file alone.
  const std::string plugins = "oci:" + Path("plugins");
  PlugctlJson({"copy", HigressShaped(), plugins + ":reg.example.com/plugins/c:1.0.0"});
  const std::string converted = Path("converted.tar");
  PlugctlJson({"mirror", plugins, "--to", "docker-archive:" + converted, "--variant", "docker"});
  ASSERT_EQ(::stat(converted.c_str(), &before), 0);
  nlohmann::json reconverted = PlugctlJson(
      {"mirror", plugins, "--to", "docker-archive:" + converted, "--variant", "docker"});
  EXPECT_EQ(reconverted["bytesCopied"], 0) << reconverted.dump(2);
  ASSERT_EQ(::stat(converted.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "a reproducible conversion rewrote the archive";
  EXPECT_EQ(LoadAlone(converted), NameSet{"reg.example.com/plugins/c:1.0.0"});
}

// The engine's own save: layers uncompressed, a legacy manifest.json (docker 20.10) or
// podman's docker-archive writer; plugctl reads it with copy and pull.
TEST_P(DockerInteropTest, SavedArchivesReadByCopyAndPull) {
  const std::string loaded = Path("loaded.tar");
  PlugctlJson({"copy", DockerShaped(), "docker-archive:" + loaded + ":plugins/saved:1.0.0"});
  ASSERT_EQ(LoadAlone(loaded), NameSet{"plugins/saved:1.0.0"});
  const std::string saved = Path("saved.tar");
  RunResult r = engine_->Save("plugins/saved:1.0.0", saved);
  ASSERT_TRUE(r.ok()) << r.Summary();

  const std::string wasm = DemoWasm();
  ASSERT_FALSE(wasm.empty());
  EXPECT_EQ(PulledWasm("docker-archive:" + saved, "pulled-saved"), wasm);
  // copy without a destination tag keeps the RepoTag the engine wrote.
  nlohmann::json copied =
      PlugctlJson({"copy", "docker-archive:" + saved, "oci:" + Path("from-saved")});
  ASSERT_EQ(copied["tags"].size(), 1u) << copied.dump(2);
  const std::string tag = copied["tags"][0];
  EXPECT_NE(tag.find("plugins/saved:1.0.0"), std::string::npos) << tag;
  EXPECT_EQ(PulledWasm("oci:" + Path("from-saved") + ":" + tag, "pulled-layout"), wasm);
  nlohmann::json layout_tags = PlugctlJson({"tags", "oci:" + Path("from-saved")});
  EXPECT_EQ(layout_tags["tags"], nlohmann::json::array({tag}));

  // Saved by image ID, the archive names nothing: the copy takes the spec version when the
  // image has one, and otherwise refuses rather than write an image nobody can find.
  const std::string id = engine_->ImageId("plugins/saved:1.0.0");
  ASSERT_FALSE(id.empty());
  const std::string unnamed = Path("unnamed.tar");
  r = engine_->Save(id.substr(7), unnamed);
  ASSERT_TRUE(r.ok()) << r.Summary();
  RunResult refused = Plugctl({"copy", "docker-archive:" + unnamed, "oci:" + Path("nameless")});
  nlohmann::json inspected = PlugctlJson({"inspect", "docker-archive:" + unnamed});
  const bool has_version = inspected["config"]["content"]["config"].contains("Labels") &&
                           inspected["config"]["content"]["config"]["Labels"].contains(
                               "org.opencontainers.image.version");
  if (has_version) {
    EXPECT_TRUE(refused.ok()) << refused.Summary();
  } else {
    EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
    EXPECT_NE(refused.err.find("name a tag"), std::string::npos) << refused.err;
    EXPECT_FALSE(fs::exists(Path("nameless"))) << "a refused copy left a layout behind";
  }
  nlohmann::json named =
      PlugctlJson({"copy", "docker-archive:" + unnamed, "oci:" + Path("named") + ":1.0.0"});
  EXPECT_EQ(named["tags"], nlohmann::json::array({"1.0.0"}));
  EXPECT_EQ(PulledWasm("oci:" + Path("named") + ":1.0.0", "pulled-unnamed"), wasm);
}

// The engine pushes to a real docker-registry; plugctl pulls what it pushed.
TEST_P(DockerInteropTest, EnginePushThenPlugctlPull) {
  std::unique_ptr<RegistryServer> registry =
      StartRegistryOrSkip(dir_ / "registry", {.kind = RegistryKind::kDockerRegistry});
  if (!registry) return;
  const std::string loaded = Path("loaded.tar");
  PlugctlJson({"copy", DockerShaped(), "docker-archive:" + loaded + ":plugins/pushed:1.0.0"});
  ASSERT_EQ(LoadAlone(loaded), NameSet{"plugins/pushed:1.0.0"});
  const std::string ref = registry->Ref("plugins/pushed:1.0.0");
  ASSERT_TRUE(engine_->Tag("plugins/pushed:1.0.0", ref).ok());
  std::string digest;
  RunResult r = engine_->Push(ref, "", &digest);
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json pulled = PlugctlJson({"pull", ref, "-o", Path("pulled")});
  EXPECT_EQ(pulled["digest"], digest);
  EXPECT_EQ(ReadAll(dir_ / "pulled" / "plugin.wasm"), DemoWasm());
  // And copied back out as a layout with the registry's tag.
  nlohmann::json copied = PlugctlJson({"copy", ref, "oci:" + Path("out")});
  EXPECT_EQ(copied["tags"], nlohmann::json::array({"1.0.0"}));
}

// plugctl pushes the docker variant; the engine pulls it, keeps its digest and saves it back
// with the same plugin.wasm.
TEST_P(DockerInteropTest, PlugctlPushedDockerVariantPulledByTheEngine) {
  std::unique_ptr<RegistryServer> registry =
      StartRegistryOrSkip(dir_ / "registry", {.kind = RegistryKind::kDockerRegistry});
  if (!registry) return;
  const std::string ref = registry->Ref("plugins/converted:1.0.0");
  nlohmann::json pushed = PlugctlJson({"copy", "--variant", "docker", HigressShaped(), ref});
  RunResult r = engine_->Pull(ref, "");
  ASSERT_TRUE(r.ok()) << r.Summary();
  std::vector<std::string> digests = engine_->RepoDigests(ref);
  EXPECT_NE(std::find(digests.begin(), digests.end(),
                      ref.substr(0, ref.rfind(':')) + "@" + pushed["digest"].get<std::string>()),
            digests.end())
      << ::testing::PrintToString(digests);
  nlohmann::json inspected = PlugctlJson({"inspect", ref});
  EXPECT_EQ(engine_->ImageId(ref), inspected["config"]["digest"]);
  r = engine_->Save(ref, Path("saved.tar"));
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(PulledWasm("docker-archive:" + Path("saved.tar"), "pulled"), DemoWasm());
}

std::string EngineParamName(const ::testing::TestParamInfo<EngineKind>& info) {
  std::string name = EngineKindName(info.param);
  name[0] = static_cast<char>(std::toupper(name[0]));
  return name;
}

INSTANTIATE_TEST_SUITE_P(Engines, DockerInteropTest,
                         ::testing::Values(EngineKind::kDocker, EngineKind::kPodman),
                         EngineParamName);

}  // namespace
}  // namespace plugctl::testing
