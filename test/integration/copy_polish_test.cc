// copy, tag, inspect and serve as an outside tester met them (issue 13, polish round):
//  - the gateway verdict names no --variant fix for images without any plugin.wasm;
//  - the verdict is taken from the destination when the source cannot be read for it;
//  - a docker archive's RepoTag that is no valid destination tag is refused before transfer;
//  - docker archives with one RepoTag on two images, and their "holds N images" hint;
//  - `tag` validates every tag before writing one; `serve` takes oci:DIR and refuses archives;
//  - `pull --all` error texts (tampered ORAS directories, artifacts without titled layers).
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"
#include <fmt/format.h>

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

// Writes a docker archive of one image per "REPOTAG=LAYERCOUNT" argument after the file name:
// each image gets its own config and LAYERCOUNT gzip layers holding a text file (no plugin.wasm).
constexpr const char* kDockerArchiveScript = R"PY(
import gzip, hashlib, io, json, sys, tarfile
out, images = {}, []
for n, spec in enumerate(sys.argv[2:]):
    repotag, count = spec.rsplit("=", 1)
    layers, diff_ids = [], []
    for i in range(int(count)):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            data = ("image %d layer %d" % (n, i)).encode()
            info = tarfile.TarInfo("note.txt")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        raw = buf.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        gz = gzip.compress(raw, mtime=0)
        name = hashlib.sha256(gz).hexdigest() + ".tar.gz"
        out[name] = gz
        layers.append(name)
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-0%dT00:00:00Z" % (n + 1),
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    out[config_name] = config
    images.append({"Config": config_name, "RepoTags": [repotag] if repotag else [], "Layers": layers})
out["manifest.json"] = json.dumps(images).encode()
with tarfile.open(sys.argv[1], "w") as t:
    for name, data in out.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
)PY";

class CopyPolishTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!HaveProgram("python3")) GTEST_SKIP() << "python3 not installed";
  }

  // A docker archive at Path(name) holding one image per "REPOTAG=LAYERS" spec.
  std::string DockerArchive(const std::string& name, const std::vector<std::string>& specs) {
    std::vector<std::string> args = {"python3", "-c", kDockerArchiveScript, Path(name)};
    args.insert(args.end(), specs.begin(), specs.end());
    RunResult r = RunProcess(args);
    EXPECT_TRUE(r.ok()) << r.Summary();
    return Path(name);
  }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
};

using CopyPolishRegistryTest = WithRegistry<CopyPolishTest>;

// Item 1: no plugin.wasm anywhere (an image without layers, a signature) is "not a plugin",
// with no --variant fix, which would only fail with "no plugin.wasm".
TEST_F(CopyPolishRegistryTest, ImagesWithoutPluginWasmGetNoRebuildHint) {
  const std::string empty = DockerArchive("empty.tar", {"empty/img:1=0"});
  Write("sig.bin", "signature bytes");
  RunResult pushed =
      Plugctl({"push", Ref("sigs/sig:1"), Path("sig.bin") + ":application/vnd.test.sig"});
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();

  for (const std::string& src : {"docker-archive:" + empty, Ref("sigs/sig:1")}) {
    RunResult copied = Plugctl({"copy", src, "oci:" + Path("out")});
    ASSERT_TRUE(copied.ok()) << src << ": " << copied.Summary();
    EXPECT_NE(copied.out.find("gateway: will NOT load it: not a plugin (no plugin.wasm)"),
              std::string::npos)
        << copied.out;
    EXPECT_EQ(copied.out.find("fix:"), std::string::npos) << copied.out;
    nlohmann::json json = PlugctlJson({"copy", src, "oci-archive:" + Path("out.tar") + ":x"});
    EXPECT_TRUE(json["gateway"]["notAPlugin"].get<bool>()) << json.dump();
    EXPECT_FALSE(json["gateway"].contains("fix")) << json.dump();
    RunResult refused = Plugctl({"copy", "--require-loadable", src, "oci:" + Path("refused")});
    EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
    EXPECT_NE(refused.err.find("not a plugin"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("--variant"), std::string::npos) << refused.err;
  }
  // Real plugins in the wrong shape still get the fix (copy_gateway_test.cc covers that).
}

// Item 2: the source lacks the layer blob the destination already had, so the copy skips it;
// the gateway check then reads the destination after the copy instead of giving up.
TEST_F(CopyPolishTest, GatewayCheckFallsBackToTheDestinationWhenTheSourceLacksABlob) {
  Demo();
  const std::string b = Path("b");
  ASSERT_TRUE(Plugctl({"copy", "--variant", "docker", DemoLayout() + ":hello-world:1.0.0",
                       "oci:" + b + ":docker"})
                  .ok());
  const std::string acc = "docker-archive:" + Path("acc.tar");
  RunResult first = Plugctl({"copy", "oci:" + b + ":docker", acc + ":x:1"});
  ASSERT_TRUE(first.ok()) << first.Summary();
  nlohmann::json inspect = PlugctlJson({"inspect", "oci:" + b + ":docker"});
  const std::string layer = inspect["manifest"]["layers"].back()["digest"].get<std::string>();
  fs::copy(b, Path("brk"), fs::copy_options::recursive);
  ASSERT_TRUE(fs::remove(Path("brk") + "/blobs/sha256/" + layer.substr(7)));

  RunResult copied = Plugctl({"copy", "oci:" + Path("brk") + ":docker", acc + ":q:1"});
  ASSERT_TRUE(copied.ok()) << copied.Summary();
  EXPECT_NE(copied.out.find("gateway: loads it (docker)"), std::string::npos) << copied.out;
  EXPECT_EQ(copied.out.find("not checked"), std::string::npos) << copied.out;
  nlohmann::json json = PlugctlJson({"copy", "oci:" + Path("brk") + ":docker", acc + ":r:1"});
  EXPECT_TRUE(json["gateway"]["loadable"].get<bool>()) << json.dump();
  EXPECT_FALSE(json.contains("gatewayError")) << json.dump();
  // --require-loadable decides before writing: unable to read the source, it refuses.
  RunResult strict =
      Plugctl({"copy", "--require-loadable", "oci:" + Path("brk") + ":docker", acc + ":s:1"});
  EXPECT_EQ(strict.exit_code, 1) << strict.Summary();
  EXPECT_NE(strict.err.find("gateway check"), std::string::npos) << strict.err;
}

// Item 3: a RepoTag that is no valid tag where the copy goes is refused before any blob moves.
TEST_F(CopyPolishRegistryTest, InvalidSourceNamesAreRefusedBeforeTransfer) {
  const std::string upper = DockerArchive("upper.tar", {"UPPER/Case:TAG=1"});
  const std::string digest =
      DockerArchive("digest.tar", {"x@sha256:" + std::string(64, '0') + "=1"});
  for (const std::string& src : {upper, digest}) {
    RunResult r = Plugctl({"copy", "docker-archive:" + src, Ref("plugins/x")});
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    EXPECT_NE(r.err.find("name a tag: " + Ref("plugins/x") + ":TAG"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("Copied"), std::string::npos) << r.out;
  }
  // Nothing reached the registry, not even blobs: the repository does not exist.
  RunResult tags = Plugctl({"tags", Ref("plugins/x")});
  EXPECT_NE(tags.exit_code, 0) << tags.Summary();
  RunResult into_layout = Plugctl({"copy", "docker-archive:" + digest, "oci:" + Path("lay")});
  EXPECT_EQ(into_layout.exit_code, 1) << into_layout.Summary();
  EXPECT_NE(into_layout.err.find("name a tag: oci:" + Path("lay") + ":TAG"), std::string::npos)
      << into_layout.err;
  EXPECT_FALSE(fs::exists(Path("lay")));
  RunResult bad_extra =
      Plugctl({"copy", "docker-archive:" + upper, Ref("plugins/y:1"), "--tag", "bad!"});
  EXPECT_EQ(bad_extra.exit_code, 1) << bad_extra.Summary();
  EXPECT_NE(bad_extra.err.find("bad!"), std::string::npos) << bad_extra.err;
  EXPECT_NE(Plugctl({"resolve", Ref("plugins/y:1")}).exit_code, 0);
  // Named explicitly, the copy goes through.
  RunResult named = Plugctl({"copy", "docker-archive:" + upper, Ref("plugins/x:1")});
  EXPECT_TRUE(named.ok()) << named.Summary();
}

// Item 4: one RepoTag on two images is ambiguous; the hint names every image once, in the
// transport form.
TEST_F(CopyPolishTest, AmbiguousRepoTagsAndTheSeveralImagesHint) {
  const std::string dup = DockerArchive("dup2.tar", {"same:1=1", "same:1=1"});
  RunResult any = Plugctl({"inspect", "docker-archive:" + dup});
  EXPECT_EQ(any.exit_code, 1) << any.Summary();
  EXPECT_NE(any.err.find("holds 2 images"), std::string::npos) << any.err;
  EXPECT_EQ(any.err.find("same:1"), std::string::npos) << any.err;
  RunResult tagged = Plugctl({"inspect", "docker-archive:" + dup + ":same:1"});
  EXPECT_EQ(tagged.exit_code, 1) << tagged.Summary();
  EXPECT_NE(tagged.err.find("claimed by 2 images"), std::string::npos) << tagged.err;
  // Both digests are named, each as a location that works.
  size_t at = 0;
  int named = 0;
  while ((at = tagged.err.find("docker-archive:" + dup + ":@sha256:", at)) != std::string::npos) {
    std::string location =
        tagged.err.substr(at, ("docker-archive:" + dup + ":@sha256:").size() + 64);
    EXPECT_TRUE(Plugctl({"resolve", location}).ok()) << location;
    ++named;
    at += location.size();
  }
  EXPECT_EQ(named, 2) << tagged.err;

  const std::string multi = DockerArchive("multi.tar", {"u/x:1=1", "z/myp:1=1", "=1"});
  RunResult bare = Plugctl({"inspect", multi});
  EXPECT_EQ(bare.exit_code, 1) << bare.Summary();
  EXPECT_NE(bare.err.find("docker-archive:" + multi + ":u/x:1, docker-archive:" + multi +
                          ":z/myp:1, docker-archive:" + multi + ":@sha256:"),
            std::string::npos)
      << bare.err;
  EXPECT_TRUE(Plugctl({"inspect", "docker-archive:" + multi + ":z/myp:1"}).ok());

  // plugctl's own docker archives also carry an OCI layout listing each image under two names.
  Demo();
  const std::string both = Path("both.tar");
  ASSERT_TRUE(
      Plugctl({"copy", "docker-archive:" + multi + ":u/x:1", "docker-archive:" + both + ":u/x:1"})
          .ok());
  ASSERT_TRUE(Plugctl({"copy", "docker-archive:" + multi + ":z/myp:1",
                       "docker-archive:" + both + ":z/myp:1"})
                  .ok());
  for (const std::string& location : {both, "docker-archive:" + both, "oci-archive:" + both}) {
    RunResult r = Plugctl({"inspect", location});
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    EXPECT_EQ(r.err.find("docker.io/"), std::string::npos) << location << ": " << r.err;
    EXPECT_NE(r.err.find("-archive:" + both + ":u/x:1, "), std::string::npos) << r.err;
  }
}

// Item 5: every tag is checked before one is written.
TEST_F(CopyPolishRegistryTest, TagValidatesEveryTagFirst) {
  Demo();
  ASSERT_TRUE(Plugctl({"copy", DemoLayout() + ":hello-world:1.0.0", Ref("plugins/hello:1")}).ok());
  RunResult r = Plugctl({"tag", Ref("plugins/hello:1"), "good", "bad!"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("nothing was tagged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad!"), std::string::npos) << r.err;
  EXPECT_NE(Plugctl({"resolve", Ref("plugins/hello:good")}).exit_code, 0) << "good was written";
  RunResult archive =
      Plugctl({"tag", "docker-archive:" + Path("demo/hello-world.docker.tar"), "x/y:1", "bare"});
  EXPECT_EQ(archive.exit_code, 1) << archive.Summary();
  RunResult tags = Plugctl({"tags", "docker-archive:" + Path("demo/hello-world.docker.tar")});
  EXPECT_EQ(tags.out.find("x/y:1"), std::string::npos) << tags.out;
  // Layouts take any ref name without control characters, as before.
  RunResult layout = Plugctl({"tag", DemoLayout() + ":hello-world:1.0.0", "good", "bad!"});
  EXPECT_TRUE(layout.ok()) << layout.Summary();
  EXPECT_TRUE(Plugctl({"tag", Ref("plugins/hello:1"), "good", "also-good"}).ok());
  EXPECT_TRUE(Plugctl({"resolve", Ref("plugins/hello:also-good")}).ok());
}

// Item 6: serve oci:DIR serves DIR; archives and registry references are usage errors.
TEST_F(CopyPolishTest, ServeTakesOciDirAndRefusesArchives) {
  for (const std::string& arg :
       {"oci-archive:" + Path("x.tar"), "docker-archive:" + Path("y.tar"),
        std::string("127.0.0.1:5000/plugins"), std::string("oci://127.0.0.1:5000/plugins")}) {
    RunResult r =
        Plugctl({"serve", arg, "--listen", "127.0.0.1:0"}, {.timeout = std::chrono::seconds(30)});
    EXPECT_EQ(r.exit_code, 2) << arg << ": " << r.Summary();
    EXPECT_NE(r.err.find("serve needs a directory"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_empty(dir_)) << "a refused serve created something";
  // oci:DIR is DIR: what is pushed to the server lands in DIR.
  Demo();
  const int port = FreePort();
  const std::string host = fmt::format("127.0.0.1:{}", port);
  Background server({PlugctlBinary(), "serve", "oci:" + Path("served"), "--listen", host},
                    Path("serve.log"));
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(30))) << ReadAll(Path("serve.log"));
  RunResult pushed =
      Plugctl({"copy", DemoLayout() + ":hello-world:1.0.0", host + "/plugins/hello:1"});
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "served" / "index.json"));
  EXPECT_NE(ReadAll(dir_ / "served" / "index.json").find("plugins/hello:1"), std::string::npos);
}

// Items 7 and 8: pull --all error texts.
TEST_F(CopyPolishTest, PullAllErrorsSayWhatIsWrong) {
  fs::create_directories(dir_ / "site");
  Write("site/index.html", "<p>hello</p>\n");
  const std::string art = Path("art");
  RunResult pushed = Plugctl({"push", "oci:" + art + ":1", Path("site")});
  ASSERT_TRUE(pushed.ok()) << pushed.Summary();
  nlohmann::json inspect = PlugctlJson({"inspect", "--no-gateway", "oci:" + art + ":1"});
  const std::string layer = inspect["manifest"]["layers"][0]["digest"].get<std::string>();
  // Same size, other bytes: the gzip header's mtime, so the layer still decompresses.
  const fs::path blob = fs::path(art) / "blobs" / "sha256" / layer.substr(7);
  std::string bytes = ReadAll(blob);
  ASSERT_GT(bytes.size(), 8u);
  bytes[4] = static_cast<char>(bytes[4] ^ 1);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;
  RunResult tampered = Plugctl({"pull", "--all", "oci:" + art + ":1", "-o", Path("out")});
  EXPECT_EQ(tampered.exit_code, 1) << tampered.Summary();
  EXPECT_NE(tampered.err.find("digest mismatch: expected " + layer), std::string::npos)
      << tampered.err;
  EXPECT_EQ(tampered.err.find("after verification"), std::string::npos) << tampered.err;
  EXPECT_FALSE(fs::exists(Path("out/site")));

  // One layer without a title: "1 layer", not "1 layers".
  RunResult written = RunProcess({"python3", "-c", R"PY(
import hashlib, json, os, sys
root = sys.argv[1]
os.makedirs(root + "/blobs/sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(root + "/blobs/sha256/" + h, "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
layer = dict(put(b"untitled"), mediaType="application/octet-stream")
config = dict(put(b"{}"), mediaType="application/vnd.oci.empty.v1+json")
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "artifactType": "application/vnd.test", "config": config, "layers": [layer]}).encode()
entry = dict(put(manifest), mediaType="application/vnd.oci.image.manifest.v1+json",
             annotations={"org.opencontainers.image.ref.name": "1"})
open(root + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
open(root + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
)PY",
                                  Path("untitled")});
  ASSERT_TRUE(written.ok()) << written.Summary();
  RunResult untitled =
      Plugctl({"pull", "--all", "oci:" + Path("untitled") + ":1", "-o", Path("u")});
  EXPECT_EQ(untitled.exit_code, 1) << untitled.Summary();
  EXPECT_NE(untitled.err.find("has no titled layers (1 layer, without a title)"), std::string::npos)
      << untitled.err;
}

}  // namespace
}  // namespace plugctl::testing
