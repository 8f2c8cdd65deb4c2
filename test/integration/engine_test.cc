// Real container engines (Debian's dockerd 20.10 and podman 4.3) against the registry under test:
// what users do with `docker push`/`podman pull` must work on the registry plugctl talks to, and
// what the engines make of plugin images plugctl pushes is part of the product's knowledge.
//
// Every test runs for each (registry kind, engine) pair; the registry kind is where `plugctl
// serve` will join Debian's docker-registry.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <tuple>

#include "engine_fixture.h"
#include "fixture.h"
#include "image_factory.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

using EngineParam = std::tuple<RegistryKind, EngineKind>;

class EngineTest : public CliTest, public ::testing::WithParamInterface<EngineParam> {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    engine_ = StartEngineOrSkip(std::get<1>(GetParam()));
  }
  void TearDown() override {
    // The engine first: it may still hold connections to the registry.
    engine_.reset();
    registries_.clear();
    CliTest::TearDown();
  }

  // A registry of the parameter's kind under dir_ (several per test are fine).
  EngineRegistry* StartRegistry(const RegistryConfig& config = {}) {
    const fs::path dir = dir_ / ("registry-" + std::to_string(registries_.size()));
    registries_.push_back(StartEngineRegistryOrSkip(std::get<0>(GetParam()), dir, config));
    return registries_.back().get();
  }

  // The demo's docker-shaped plugin image (plugin.wasm in one tar.gz layer, Docker schema2) as a
  // docker-archive plugctl writes, loaded into the engine: the engines' only way to get an image
  // here without network. Returns the name the engine gave it.
  std::string LoadDemoImage() {
    Demo();
    const std::string archive = Path("engine-src.tar");
    RunResult copy =
        Plugctl({"copy", DockerShaped(), "docker-archive:" + archive + ":engine/src:1"});
    EXPECT_TRUE(copy.ok()) << copy.Summary();
    std::string name;
    RunResult load = engine_->Load(archive, &name);
    EXPECT_TRUE(load.ok()) << load.Summary();
    EXPECT_FALSE(name.empty()) << load.out;
    return name;
  }

  std::string DockerShaped() const { return DemoLayout() + ":hello-world:1.0.0-docker"; }
  std::string HigressShaped() const { return DemoLayout() + ":hello-world:1.0.0"; }

  bool HasRepoDigest(const std::string& ref, const std::string& repo_digest) {
    std::vector<std::string> digests = engine_->RepoDigests(ref);
    return std::find(digests.begin(), digests.end(), repo_digest) != digests.end();
  }

  // "127.0.0.1:PORT/repo" of "127.0.0.1:PORT/repo:tag".
  static std::string Repository(const std::string& ref) { return ref.substr(0, ref.rfind(':')); }

  bool AuthFileHas(const std::string& host) {
    auto j = nlohmann::json::parse(ReadAll(engine_->auth_file()), nullptr, false);
    return !j.is_discarded() && j.contains("auths") && j["auths"].contains(host);
  }

  std::vector<std::unique_ptr<EngineRegistry>> registries_;
  std::unique_ptr<ContainerEngine> engine_;
};

TEST_P(EngineTest, LoadPushRemovePullKeepsTheImage) {
  EngineRegistry* registry = StartRegistry();
  if (registry == nullptr) return;
  const std::string name = LoadDemoImage();
  ASSERT_FALSE(HasFailure());
  nlohmann::json source = PlugctlJson({"inspect", DockerShaped()});
  const std::string image_id = engine_->ImageId(name);
  // The image ID is the config digest: the engine stored the config plugctl wrote, byte for byte.
  EXPECT_EQ(image_id, source["config"]["digest"]);

  const std::string ref = registry->Ref("engine/x:1");
  RunResult r = engine_->Tag(name, ref);
  ASSERT_TRUE(r.ok()) << r.Summary();
  std::string pushed;
  r = engine_->Push(ref, registry->ca_file(), &pushed);
  ASSERT_TRUE(r.ok()) << r.Summary();
  ASSERT_EQ(pushed.size(), 71u) << r.out;
  // The registry holds what the engine says it pushed.
  EXPECT_EQ(PlugctlJson({"resolve", ref})["digest"], pushed);

  ASSERT_TRUE(engine_->Remove(ref).ok());
  ASSERT_TRUE(engine_->Remove(name).ok());
  EXPECT_EQ(engine_->ImageId(ref), "") << "still present after rmi";

  r = engine_->Pull(ref, registry->ca_file());
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(engine_->ImageId(ref), image_id);
  EXPECT_TRUE(HasRepoDigest(ref, Repository(ref) + "@" + pushed));

  // Both engines store layers uncompressed and gzip them again on push, so what they push is a
  // new manifest: still a loadable plugin with the same plugin.wasm, but a WasmPlugin pinned to
  // the original manifest digest no longer matches it. Mirrors must copy, not re-push.
  nlohmann::json repushed = PlugctlJson({"inspect", ref});
  EXPECT_NE(repushed["digest"], source["digest"]);
  EXPECT_EQ(repushed["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(repushed["gateway"]["loadable"], true) << repushed["gateway"].dump();
  EXPECT_EQ(repushed["gateway"]["wasmSha256"], source["gateway"]["wasmSha256"]);
}

TEST_P(EngineTest, LoginPushPullLogoutWithHtpasswdOverTls) {
  EngineRegistry* registry = StartRegistry({.tls = true, .htpasswd = true});
  if (registry == nullptr) return;
  const std::string name = LoadDemoImage();
  ASSERT_FALSE(HasFailure());
  const std::string host = registry->host();
  const std::string ref = registry->Ref("engine/secure:1");
  const RegistryConfig& config = registry->config();
  ASSERT_TRUE(engine_->Tag(name, ref).ok());

  std::string pushed;
  RunResult anonymous = engine_->Push(ref, registry->ca_file(), &pushed);
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.Summary();

  if (engine_->kind() == EngineKind::kPodman) {
    // podman checks the certificate even on loopback: without the CA, no login.
    RunResult unverified = engine_->Run(
        {"login", "-u", config.user, "--password-stdin", host},
        {.timeout = ContainerEngine::kCommandTimeout, .stdin_data = config.password + "\n"});
    EXPECT_NE(unverified.exit_code, 0) << unverified.Summary();
    EXPECT_NE(unverified.err.find("certificate signed by unknown authority"), std::string::npos)
        << unverified.err;
  }

  RunResult bad =
      engine_->Login(host, config.user, "wrong-" + config.password, registry->ca_file());
  EXPECT_NE(bad.exit_code, 0) << bad.Summary();
  EXPECT_FALSE(AuthFileHas(host));

  RunResult login = engine_->Login(host, config.user, config.password, registry->ca_file());
  ASSERT_TRUE(login.ok()) << login.Summary();
  EXPECT_TRUE(AuthFileHas(host)) << ReadAll(engine_->auth_file());

  RunResult push = engine_->Push(ref, registry->ca_file(), &pushed);
  ASSERT_TRUE(push.ok()) << push.Summary();
  const std::string image_id = engine_->ImageId(ref);
  ASSERT_TRUE(engine_->Remove(ref).ok());
  RunResult pull = engine_->Pull(ref, registry->ca_file());
  ASSERT_TRUE(pull.ok()) << pull.Summary();
  EXPECT_EQ(engine_->ImageId(ref), image_id);
  EXPECT_TRUE(HasRepoDigest(ref, Repository(ref) + "@" + pushed));

  // plugctl reads the engine's credentials file as it is.
  nlohmann::json resolved = PlugctlJson({"--ca-file", registry->ca_file(), "--registry-config",
                                         engine_->auth_file().string(), "resolve", ref});
  EXPECT_EQ(resolved["digest"], pushed);

  RunResult logout = engine_->Logout(host);
  EXPECT_TRUE(logout.ok()) << logout.Summary();
  EXPECT_FALSE(AuthFileHas(host)) << ReadAll(engine_->auth_file());
  ASSERT_TRUE(engine_->Remove(ref).ok());
  RunResult denied = engine_->Pull(ref, registry->ca_file());
  EXPECT_NE(denied.exit_code, 0) << denied.Summary();
}

// What each engine does with the plugin image shapes plugctl pushes. Only the Docker schema2
// shape (FROM scratch + COPY plugin.wasm) is a container image to them; the Higress/ORAS shape
// and the oci variant are refused by their config media type (docker: "unsupported media type
// application/vnd.unknown.config.v1+json"; podman: "unsupported image-specific operation on
// artifact with type …"), whatever the layers are.
TEST_P(EngineTest, PullsOnlyTheDockerShapeOfPluginImages) {
  EngineRegistry* registry = StartRegistry();
  if (registry == nullptr) return;
  Demo();
  const std::string higress = registry->Ref("plugins/higress:1.0.0");
  const std::string oci_variant = registry->Ref("plugins/oci-variant:1.0.0");
  const std::string raw_wasm = registry->Ref("plugins/raw-wasm:1.0.0");
  const std::string docker = registry->Ref("plugins/docker:1.0.0");
  nlohmann::json pushed = PlugctlJson({"copy", DockerShaped(), docker});
  PlugctlJson({"copy", HigressShaped(), higress});
  PlugctlJson({"copy", "--variant", "oci", HigressShaped(), oci_variant});
  // A 2026 pipeline accident: one raw wasm layer, no tar (image_factory, not plugctl, made it).
  WriteLayoutImage(dir_ / "factory", "raw",
                   {{.media_type = "application/vnd.module.wasm.content.layer.v1+wasm",
                     .bytes = std::string("\0asm\x01\0\0\0", 8),
                     .title = "plugin.wasm"}});
  PlugctlJson({"copy", "oci:" + Path("factory") + ":raw", raw_wasm});

  for (const auto& [ref, config_type] : std::vector<std::pair<std::string, std::string>>{
           {higress, "application/vnd.unknown.config.v1+json"},
           {oci_variant, "application/vnd.module.wasm.config.v1+json"},
           {raw_wasm, "application/vnd.unknown.config.v1+json"}}) {
    RunResult refused = engine_->Pull(ref, registry->ca_file());
    EXPECT_NE(refused.exit_code, 0) << ref << ": " << refused.Summary();
    EXPECT_NE(refused.err.find(config_type), std::string::npos) << ref << ": " << refused.err;
    EXPECT_EQ(engine_->ImageId(ref), "") << ref;
  }

  RunResult r = engine_->Pull(docker, registry->ca_file());
  ASSERT_TRUE(r.ok()) << r.Summary();
  // A pull keeps the manifest digest plugctl pushed (the digest a WasmPlugin pins).
  EXPECT_TRUE(HasRepoDigest(docker, Repository(docker) + "@" + pushed["digest"].get<std::string>()))
      << ::testing::PrintToString(engine_->RepoDigests(docker));
  nlohmann::json source = PlugctlJson({"inspect", DockerShaped()});
  EXPECT_EQ(engine_->ImageId(docker), source["config"]["digest"]);

  // And plugin.wasm comes out of the engine intact (`save` writes uncompressed layers).
  r = engine_->Save(docker, Path("saved.tar"));
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json extracted =
      PlugctlJson({"pull", "docker-archive:" + Path("saved.tar"), "-o", Path("extracted")});
  EXPECT_EQ(extracted["wasmSha256"], source["gateway"]["wasmSha256"]) << extracted.dump(2);
}

std::string ParamName(const ::testing::TestParamInfo<EngineParam>& info) {
  const std::string engine = EngineKindName(std::get<1>(info.param));
  return RegistryKindName(std::get<0>(info.param)) + "_" +
         static_cast<char>(std::toupper(engine[0])) + engine.substr(1);
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineTest,
                         ::testing::Combine(::testing::Values(RegistryKind::kDockerRegistry,
                                                              RegistryKind::kPlugctlServe),
                                            ::testing::Values(EngineKind::kDocker,
                                                              EngineKind::kPodman)),
                         ParamName);

// The helpers leave nothing behind: no process, no directory.
class EngineFixtureTest : public ::testing::TestWithParam<EngineKind> {};

TEST_P(EngineFixtureTest, StopsAndRemovesEverything) {
  std::unique_ptr<ContainerEngine> engine = StartEngineOrSkip(GetParam());
  if (!engine) return;
  const fs::path dir = engine->dir();
  RunResult version = engine->Run({"version"}, {.timeout = ContainerEngine::kCommandTimeout});
  EXPECT_TRUE(version.ok()) << version.Summary();
  int daemon_pid = 0;
  if (GetParam() == EngineKind::kDocker) {
    daemon_pid = std::atoi(ReadAll(dir / "docker.pid").c_str());
    EXPECT_GT(daemon_pid, 0);
  }
  engine.reset();
  EXPECT_FALSE(fs::exists(dir)) << dir;
  if (daemon_pid > 0) {
    EXPECT_NE(kill(daemon_pid, 0), 0) << "dockerd " << daemon_pid << " still running";
  }
}

std::string EngineName(const ::testing::TestParamInfo<EngineKind>& info) {
  return EngineKindName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineFixtureTest,
                         ::testing::Values(EngineKind::kDocker, EngineKind::kPodman), EngineName);

}  // namespace
}  // namespace plugctl::testing
