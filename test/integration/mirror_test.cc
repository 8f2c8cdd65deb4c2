// The air gap, end to end, with real peers: an "internet" docker-registry holding plugins of
// every shape, a mirror into one OCI archive, the archive loaded into a second, private
// docker-registry, and every digest and plugin.wasm byte compared; skopeo reads the bundles;
// a mirror killed midway completes on rerun.
#include <signal.h>

#include <fstream>
#include <map>
#include <thread>

#include "fixture.h"
#include "image_factory.h"
#include "registry_fixture.h"
#include <sys/wait.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class MirrorTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo not installed (run scripts/setup.sh)";
    internet_ = StartRegistryOrSkip(dir_ / "internet");
    if (!internet_) return;
    private_ = StartRegistryOrSkip(dir_ / "private");
    if (!private_) return;
    demo_ = PlugctlJson({"demo", "--dir", Path("demo")});
    wasm_sha256_ = demo_["wasmSha256"];
    PlugctlJson({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", Path("demo/plugin")});
    wasm_ = ReadAll(dir_ / "demo/plugin/plugin.wasm");
    ASSERT_EQ(oci::Digest::Of(wasm_).ToString(), wasm_sha256_);
  }

  std::string Internet(const std::string& repo_tag) const { return internet_->Ref(repo_tag); }
  std::string Private(const std::string& repo_tag) const { return private_->Ref(repo_tag); }
  std::string Resolve(const std::string& ref) {
    nlohmann::json j = PlugctlJson({"resolve", ref});
    return j.value("digest", "");
  }

  // The internet side: plugins in the shapes ../shared/docs/field-notes.md §2 lists.
  void PopulateInternet() {
    const std::string compat = DemoLayout() + ":hello-world:1.0.0";
    // Higress image spec (ORAS-style artifact, unknown config type), by plugctl.
    PlugctlJson({"copy", compat, Internet("plugins/hello-world:1.0.0")});
    PlugctlJson({"tag", Internet("plugins/hello-world:1.0.0"), "1.1.0", "2.0.0"});
    // docker FROM scratch shape, pushed by skopeo as Docker schema2.
    RunResult r = Skopeo({"copy", "--dest-tls-verify=false",
                          "docker-archive:" + Path("demo/hello-world.docker.tar"),
                          "docker://" + Internet("plugins/hello-docker:1.0.0")});
    ASSERT_TRUE(r.ok()) << r.Summary();
    // The 2-layer oci variant, rebuilt by plugctl.
    PlugctlJson({"copy", "--variant", "oci", compat, Internet("plugins/hello-oci:1.0.0")});
    // A 2026 pipeline accident: one raw wasm layer, which the gateway refuses.
    WriteLayoutImage(dir_ / "raw", "1.0.0",
                     {{.media_type = "application/vnd.module.wasm.content.layer.v1+wasm",
                       .bytes = wasm_,
                       .title = "plugin.wasm"}});
    PlugctlJson({"copy", "oci:" + Path("raw") + ":1.0.0", Internet("plugins/raw-wasm:1.0.0")});
  }

  std::unique_ptr<RegistryServer> internet_;
  std::unique_ptr<RegistryServer> private_;
  nlohmann::json demo_;
  std::string wasm_sha256_;
  std::string wasm_;
};

TEST_F(MirrorTest, AirGapThroughAnOciArchiveKeepsEveryDigestAndByte) {
  PopulateInternet();
  if (HasFatalFailure()) return;

  // A plugins.properties list as Higress ships it, plus a YAML list selecting by semver.
  WriteFile(dir_ / "plugins.properties",
            "# Higress plugins\n"
            "hello-world=oci://" +
                Internet("plugins/hello-world:1.0.0") + "\n" + "hello-docker = oci://" +
                Internet("plugins/hello-docker:1.0.0") + "\n" + "hello-oci=oci://" +
                Internet("plugins/hello-oci:1.0.0") + "\n" + "raw-wasm=oci://" +
                Internet("plugins/raw-wasm:1.0.0") + "\n");
  WriteFile(dir_ / "more.yaml", "images:\n  - repository: " + Internet("plugins/hello-world") +
                                    "\n    semver: '>=1.1 <3'\n");
  const std::vector<std::string> images = {
      "plugins/hello-world:1.0.0",  "plugins/hello-world:1.1.0", "plugins/hello-world:2.0.0",
      "plugins/hello-docker:1.0.0", "plugins/hello-oci:1.0.0",   "plugins/raw-wasm:1.0.0"};
  std::map<std::string, std::string> source_digest;
  for (const auto& image : images) source_digest[image] = Resolve(Internet(image));

  // Dry run: names everything, writes nothing.
  const std::string bundle = "oci-archive:" + Path("bundle.tar");
  nlohmann::json dry = PlugctlJson(
      {"mirror", Path("plugins.properties"), Path("more.yaml"), "--to", bundle, "--dry-run"});
  ASSERT_EQ(dry["images"].size(), images.size()) << dry.dump(2);
  for (const auto& item : dry["images"]) EXPECT_EQ(item["state"], "would-copy");
  EXPECT_FALSE(fs::exists(Path("bundle.tar")));

  // Internet side → bundle.
  nlohmann::json out =
      PlugctlJson({"mirror", Path("plugins.properties"), Path("more.yaml"), "--to", bundle});
  EXPECT_EQ(out["copied"], images.size()) << out.dump(2);
  EXPECT_EQ(out["failed"], 0);
  EXPECT_EQ(out["notLoadable"], 1) << out.dump(2);  // raw-wasm, reported not refused
  for (const auto& item : out["images"]) {
    std::string source = item["source"];
    bool raw = source.find("raw-wasm") != std::string::npos;
    EXPECT_EQ(item["gateway"]["loadable"], !raw) << item.dump(2);
  }
  // skopeo reads the bundle by full reference (its OCI reader skips index entries of Docker
  // media types, so the docker-shaped image is only visible to plugctl).
  for (const std::string& image :
       {std::string("plugins/hello-world:2.0.0"), std::string("plugins/hello-oci:1.0.0")}) {
    RunResult r = Skopeo({"inspect", "--raw", bundle + ":" + Internet(image)});
    ASSERT_TRUE(r.ok()) << r.Summary();
    EXPECT_EQ(oci::Digest::Of(r.out).ToString(), source_digest[image]);
  }

  // A second run moves nothing.
  nlohmann::json again =
      PlugctlJson({"mirror", Path("plugins.properties"), Path("more.yaml"), "--to", bundle});
  EXPECT_EQ(again["copied"], 0);
  EXPECT_EQ(again["upToDate"], images.size());
  EXPECT_EQ(again["bytesCopied"], 0);

  // Across the gap: the internet registry is gone.
  internet_.reset();
  nlohmann::json load = PlugctlJson({"mirror", bundle, "--to", private_->host() + "/mirror"});
  EXPECT_EQ(load["copied"], images.size()) << load.dump(2);
  for (const auto& image : images) {
    SCOPED_TRACE(image);
    std::string name = image.substr(image.find('/') + 1);  // plugins/x:t → x:t under mirror/
    std::string ref = Private("mirror/" + name);
    EXPECT_EQ(Resolve(ref), source_digest[image]);
    if (image.find("raw-wasm") != std::string::npos) continue;
    nlohmann::json pulled = PlugctlJson({"pull", ref, "-o", Path("pulled/" + name)});
    EXPECT_EQ(pulled["wasmSha256"], wasm_sha256_);
    EXPECT_EQ(ReadAll(dir_ / "pulled" / name / "plugin.wasm"), wasm_);
  }
  // Loading again is a no-op.
  nlohmann::json reload = PlugctlJson({"mirror", bundle, "--to", private_->host() + "/mirror"});
  EXPECT_EQ(reload["upToDate"], images.size());
}

TEST_F(MirrorTest, DockerExportConvertsWhatDockerCannotLoad) {
  PopulateInternet();
  if (HasFatalFailure()) return;
  // The ORAS-style image has a config type docker load refuses: say so, suggest --variant.
  const std::string docker_tar = "docker-archive:" + Path("one.tar");
  RunResult r = Plugctl({"copy", Internet("plugins/hello-world:1.0.0"), docker_tar});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("--variant docker"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(Path("one.tar")));

  nlohmann::json converted = PlugctlJson(
      {"copy", "--variant", "docker", Internet("plugins/hello-world:1.0.0"), docker_tar});
  EXPECT_NE(converted["digest"], converted["sourceDigest"]);
  EXPECT_EQ(converted["wasmSha256"], wasm_sha256_);
  // Conversions are reproducible: the same source gives the same image.
  nlohmann::json again =
      PlugctlJson({"copy", "--variant", "docker", Internet("plugins/hello-world:1.0.0"),
                   "oci:" + Path("again") + ":x"});
  EXPECT_EQ(again["digest"], converted["digest"]);
  r = Skopeo({"inspect", docker_tar + ":" + Internet("plugins/hello-world:1.0.0")});
  EXPECT_TRUE(r.ok()) << r.Summary();

  // Many images into one docker archive, converted where needed.
  WriteFile(dir_ / "list.txt", Internet("plugins/hello-world:1.0.0") + "\n" +
                                   Internet("plugins/hello-docker:1.0.0") + "\n");
  const std::string many = "docker-archive:" + Path("many.tar");
  r = Plugctl({"mirror", Path("list.txt"), "--to", many});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();  // hello-world cannot be loaded as it is
  nlohmann::json out =
      PlugctlJson({"mirror", Path("list.txt"), "--to", many, "--variant", "docker"});
  EXPECT_EQ(out["copied"], 2) << out.dump(2);
  for (const std::string& image :
       {std::string("plugins/hello-world:1.0.0"), std::string("plugins/hello-docker:1.0.0")}) {
    r = Skopeo({"copy", many + ":" + Internet(image), "oci:" + Path("from-docker") + ":x"});
    EXPECT_TRUE(r.ok()) << image << r.Summary();
    nlohmann::json pulled =
        PlugctlJson({"pull", many + ":" + Internet(image), "-o", Path("d/" + image)});
    EXPECT_EQ(pulled["wasmSha256"], wasm_sha256_);
    EXPECT_EQ(pulled["gateway"]["loadable"], true);
  }
}

TEST_F(MirrorTest, KeepGoingReportsFailuresAtTheEnd) {
  PopulateInternet();
  if (HasFatalFailure()) return;
  RunResult r = Plugctl({"--format", "json", "mirror", Internet("plugins/hello-world:1.0.0"),
                         Internet("plugins/missing:1.0.0"), Internet("plugins/hello-oci:1.0.0"),
                         "--to", private_->host() + "/p", "--keep-going"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["copied"], 2);
  EXPECT_EQ(out["failed"], 1);
  EXPECT_EQ(Resolve(Private("p/hello-oci:1.0.0")), Resolve(Internet("plugins/hello-oci:1.0.0")));
}

// Kill a mirror while it runs: what it left is never partial, and the rerun completes.
TEST_F(MirrorTest, KilledMidwayCompletesOnRerun) {
  // A bundle of several large images (layers of random bytes), named by full reference.
  const int kImages = 6;
  for (int i = 0; i < kImages; ++i) {
    WriteLayoutImage(dir_ / "big", "big.example.com/plugins/big-" + std::to_string(i) + ":1.0",
                     {{.bytes = RandomBytes(24 << 20, static_cast<uint32_t>(i + 1))}});
  }
  const std::string bundle = "oci:" + Path("big");
  const std::string dest = private_->host() + "/mirror";
  // Where each registry records the blobs a repository holds, to watch the mirror's progress.
  const fs::path repos = private_->kind() == RegistryKind::kPlugctlServe
                             ? private_->storage() / ".plugctl/repositories/mirror"
                             : private_->storage() / "docker/registry/v2/repositories/mirror";
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  // Files under `dir`, to see the mirror making progress.
  auto files_under = [](const fs::path& dir) {
    std::error_code ec;
    int n = 0;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      n += it->is_regular_file(ec) ? 1 : 0;
    }
    return n;
  };
  int round = 0;
  for (const std::string& target : {dest, "oci-archive:" + Path("big.tar")}) {
    SCOPED_TRACE(target);
    const bool archive = target.starts_with("oci-archive:");
    {
      Background mirror({"/usr/bin/env", "TMPDIR=" + tmp.string(), PlugctlBinary(), "--no-progress",
                         "--concurrency", "1", "mirror", bundle, "--to", target, "--jobs", "1",
                         "--no-gateway-check"},
                        Path("mirror.log"));
      // Pull the plug once the first image has arrived (registry) or the first blobs are
      // staged (archive): the run is then certainly unfinished. Bounded: 30 s.
      for (int i = 0; i < 3000; ++i) {
        if (archive ? files_under(tmp) >= 4 : files_under(repos) >= 3) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      kill(-mirror.pid(), SIGKILL);
    }
    if (archive) {
      // The archive is written once, at the end: killed before, there is none.
      EXPECT_FALSE(fs::exists(Path("big.tar")));
    }
    nlohmann::json out = PlugctlJson({"mirror", bundle, "--to", target});
    EXPECT_EQ(out["failed"], 0) << out.dump(2);
    EXPECT_GT(out["copied"].get<int>(), 0) << "the mirror was not interrupted";
    EXPECT_EQ(out["copied"].get<int>() + out["upToDate"].get<int>(), kImages);
    const std::string check = "oci:" + Path("check" + std::to_string(++round));
    for (int i = 0; i < kImages; ++i) {
      std::string name = "big.example.com/plugins/big-" + std::to_string(i) + ":1.0";
      std::string copy =
          archive ? target + ":" + name : dest + "/big-" + std::to_string(i) + ":1.0";
      // Copying into a fresh layout reads and verifies every blob against its digest.
      nlohmann::json copied = PlugctlJson({"copy", copy, check + ":" + std::to_string(i)});
      EXPECT_EQ(copied["digest"], PlugctlJson({"resolve", bundle + ":" + name})["digest"]);
    }
  }
}

}  // namespace
}  // namespace plugctl::testing
