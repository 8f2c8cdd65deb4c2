// copy and mirror as a careful user meets them (issue 13, items 2, 3 and 6):
//  - the gateway verdict for every image written, `--require-loadable` refusing `docker save`
//    output (uncompressed layers) before anything is written, with the --variant that fixes it;
//  - `--variant` carrying the image's metadata from any shape, and leaving an image already in
//    the requested shape unchanged (same digest);
//  - bundle names: `mirror --prefix/--map` into archives gives docker archives the private
//    registry's RepoTags, and mirror loads bundles written by `copy` and `build` (plain tags).
#include <algorithm>
#include <map>
#include <sstream>

#include "fixture.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

// Rewrites a docker archive the way `docker save` writes it: layers as uncompressed
// <sha256>/layer.tar, the config under <sha256>.json, one RepoTag.
constexpr const char* kDockerSaveScript = R"PY(
import gzip, hashlib, io, json, sys, tarfile
src, dst, repotag = sys.argv[1:4]
with tarfile.open(src) as t:
    files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
entry = json.loads(files["manifest.json"])[0]
config = json.loads(files[entry["Config"]])
out, layers, diff_ids = {}, [], []
for path in entry["Layers"]:
    data = files[path]
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    h = hashlib.sha256(data).hexdigest()
    out[h + "/VERSION"] = b"1.0"
    out[h + "/layer.tar"] = data
    layers.append(h + "/layer.tar")
    diff_ids.append("sha256:" + h)
config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
config_bytes = json.dumps(config).encode()
config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
out[config_name] = config_bytes
out["manifest.json"] = json.dumps(
    [{"Config": config_name, "RepoTags": [repotag], "Layers": layers}]).encode()
with tarfile.open(dst, "w") as t:
    for name, data in out.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
)PY";

// Prints the RepoTags of every image in a docker archive, one per line.
constexpr const char* kRepoTagsScript = R"PY(
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for entry in json.loads(t.extractfile("manifest.json").read()):
        for tag in entry.get("RepoTags") or []:
            print(tag)
)PY";

class CopyGatewayTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!HaveProgram("python3")) GTEST_SKIP() << "python3 not installed";
    Demo();
  }

  // demo/hello-world.docker.tar as `docker save` would have written it.
  std::string DockerSaved(const std::string& repotag = "registry.example/plugins/hello:1.0.0") {
    const std::string out = Path("saved.tar");
    RunResult r = RunProcess(
        {"python3", "-c", kDockerSaveScript, Path("demo/hello-world.docker.tar"), out, repotag});
    EXPECT_TRUE(r.ok()) << r.Summary();
    return "docker-archive:" + out;
  }

  std::vector<std::string> RepoTags(const std::string& file) {
    RunResult r = RunProcess({"python3", "-c", kRepoTagsScript, file});
    EXPECT_TRUE(r.ok()) << r.Summary();
    std::vector<std::string> tags;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) tags.push_back(line);
    std::sort(tags.begin(), tags.end());
    return tags;
  }

  static fs::path Example() { return fs::path(PLUGCTL_BINARY_DIR) / "examples" / "add-header"; }
  bool HaveExample() const { return fs::exists(Example() / "plugin.wasm"); }
};

using CopyGatewayRegistryTest = WithRegistry<CopyGatewayTest>;
// Conversions of the example plugin (built with the examples, which the TSan preset leaves
// out): a suite name of their own keeps them out of scripts/tsan.sh's "Copy…" suites, where
// they would only skip; they run single-threaded conversions the ASan run covers.
using VariantConversionTest = CopyGatewayTest;

TEST_F(CopyGatewayTest, DockerSaveOutputIsFlaggedAndRequireLoadableRefusesIt) {
  const std::string saved = DockerSaved();
  nlohmann::json inspect = PlugctlJson({"inspect", saved});
  ASSERT_FALSE(inspect["gateway"]["loadable"].get<bool>()) << inspect.dump();

  // Copied as it is (digests kept), with the verdict and the fix.
  RunResult copied = Plugctl({"copy", saved, "oci:" + Path("plain") + ":hello:1.0.0"});
  ASSERT_TRUE(copied.ok()) << copied.Summary();
  EXPECT_NE(copied.out.find("gateway: will NOT load it"), std::string::npos) << copied.out;
  EXPECT_NE(copied.out.find("fix: rebuild it with --variant compat"), std::string::npos)
      << copied.out;
  nlohmann::json json = PlugctlJson({"copy", saved, "oci:" + Path("plain") + ":hello:1.0.1"});
  EXPECT_FALSE(json["gateway"]["loadable"].get<bool>());
  EXPECT_EQ(json["gateway"]["path"], "none");
  EXPECT_NE(json["gateway"]["fix"].get<std::string>().find("--variant oci"), std::string::npos);

  // --require-loadable: refused before the destination exists, naming the fix.
  for (const std::string& dst : {"oci:" + Path("refused") + ":x", "oci-archive:" + Path("r.tar"),
                                 "docker-archive:" + Path("r.docker.tar") + ":a/b:1"}) {
    RunResult r = Plugctl({"copy", "--require-loadable", saved, dst});
    EXPECT_EQ(r.exit_code, 1) << dst << ": " << r.Summary();
    EXPECT_NE(r.err.find("would not load in the gateway"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--variant"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(Path("refused")));
  EXPECT_FALSE(fs::exists(Path("r.tar")));
  EXPECT_FALSE(fs::exists(Path("r.docker.tar")));
  RunResult docker_hint =
      Plugctl({"copy", "--require-loadable", saved, "docker-archive:" + Path("d.tar") + ":a/b:1"});
  EXPECT_NE(docker_hint.err.find("--variant docker"), std::string::npos) << docker_hint.err;

  // The fix it names works, and keeps plugin.wasm byte for byte.
  PlugctlJson({"pull", saved, "-o", Path("orig")});
  const std::string wasm = ReadAll(dir_ / "orig" / "plugin.wasm");
  ASSERT_FALSE(wasm.empty());
  for (const std::string variant : {"compat", "oci"}) {
    RunResult fixed = Plugctl({"copy", "--require-loadable", "--variant", variant, saved,
                               "oci:" + Path("fixed") + ":hello-" + variant});
    ASSERT_TRUE(fixed.ok()) << fixed.Summary();
    EXPECT_NE(fixed.out.find("gateway: loads it"), std::string::npos) << fixed.out;
    PlugctlJson({"pull", "oci:" + Path("fixed") + ":hello-" + variant, "-o", Path(variant)});
    EXPECT_EQ(ReadAll(dir_ / variant / "plugin.wasm"), wasm);
  }

  // A loadable image says so.
  RunResult good = Plugctl({"copy", DemoLayout() + ":hello-world:1.0.0", "oci:" + Path("good")});
  ASSERT_TRUE(good.ok()) << good.Summary();
  EXPECT_NE(good.out.find("gateway: loads it (oci-compat)"), std::string::npos) << good.out;
}

TEST_F(CopyGatewayRegistryTest, RegistryCopiesAndMirrorsRefuseUnloadableImagesFirst) {
  const std::string saved = DockerSaved("registry.example/plugins/hello:1.0.0");
  const std::string target = Ref("plugins/hello:1.0.0");

  RunResult refused = Plugctl({"copy", "--require-loadable", saved, target});
  EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
  EXPECT_NE(refused.err.find("--variant compat"), std::string::npos) << refused.err;
  EXPECT_NE(Plugctl({"resolve", target}).exit_code, 0) << "the refused copy wrote the image";

  RunResult mirror_refused =
      Plugctl({"mirror", "--require-loadable", saved, "--to", registry_->Ref("plugins")});
  EXPECT_EQ(mirror_refused.exit_code, 1) << mirror_refused.Summary();
  EXPECT_NE(mirror_refused.err.find("nothing was written"), std::string::npos)
      << mirror_refused.err;
  EXPECT_NE(mirror_refused.err.find("--variant compat"), std::string::npos) << mirror_refused.err;
  EXPECT_NE(Plugctl({"resolve", target}).exit_code, 0) << "the refused mirror wrote the image";

  // Without --require-loadable it is copied, and every line says what the gateway makes of it.
  RunResult mirrored = Plugctl({"mirror", saved, "--to", registry_->Ref("plugins")});
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();
  EXPECT_NE(mirrored.out.find("! gateway: will NOT load it"), std::string::npos) << mirrored.out;
  EXPECT_NE(mirrored.out.find("fix: rebuild it with --variant compat"), std::string::npos);
  nlohmann::json copy_json = PlugctlJson({"copy", saved, Ref("plugins/hello:copy")});
  EXPECT_FALSE(copy_json["gateway"]["loadable"].get<bool>());

  // The fix: rebuilt into a shape the gateway loads.
  nlohmann::json fixed = PlugctlJson({"mirror", "--require-loadable", "--variant", "compat", saved,
                                      "--to", registry_->Ref("fixed")});
  ASSERT_EQ(fixed["images"].size(), 1u) << fixed.dump();
  EXPECT_TRUE(fixed["images"][0]["gateway"]["loadable"].get<bool>()) << fixed.dump();
  nlohmann::json inspect = PlugctlJson({"inspect", Ref("fixed/hello:1.0.0")});
  EXPECT_TRUE(inspect["gateway"]["loadable"].get<bool>());
  RunResult good =
      Plugctl({"mirror", DemoLayout() + ":hello-world:1.0.0", "--to", registry_->Ref("good")});
  ASSERT_TRUE(good.ok()) << good.Summary();
  EXPECT_NE(good.out.find("gateway: loads it (oci-compat)"), std::string::npos) << good.out;
}

TEST_F(VariantConversionTest, VariantRoundTripsKeepMetadata) {
  if (!HaveExample()) GTEST_SKIP() << "examples not built: " << Example().string();
  const std::map<std::string, std::string> env = {{"SOURCE_DATE_EPOCH", "1700000000"}};
  const std::vector<std::string> keys = {"io.higress.plugin.name", "org.opencontainers.image.title",
                                         "org.opencontainers.image.version",
                                         "org.opencontainers.image.description",
                                         "org.opencontainers.image.created"};
  for (const std::string start : {"compat", "oci"}) {
    SCOPED_TRACE(start);
    const std::string layout = "oci:" + Path("rt-" + start);
    RunResult built = Plugctl(
        {"build", Example().string(), "--variant", start, "-t", layout + ":orig"}, {.env = env});
    ASSERT_TRUE(built.ok()) << built.Summary();
    nlohmann::json orig = PlugctlJson({"inspect", layout + ":orig"});
    ASSERT_EQ(orig["annotations"]["org.opencontainers.image.created"], "2023-11-14T22:13:20Z");

    // To docker: the metadata become config labels (created: the config's), and the output
    // says which files cannot travel.
    RunResult to_docker = Plugctl({"copy", "--variant", "docker", layout + ":orig", layout + ":d"});
    ASSERT_TRUE(to_docker.ok()) << to_docker.Summary();
    if (start == "compat") {
      EXPECT_NE(to_docker.out.find("cannot travel in the docker variant"), std::string::npos)
          << to_docker.out;
    }
    nlohmann::json docker = PlugctlJson({"inspect", layout + ":d"});
    nlohmann::json config = docker["config"]["content"];
    EXPECT_EQ(config["created"], "2023-11-14T22:13:20Z");
    for (const std::string& key : keys) {
      if (key == "org.opencontainers.image.created") continue;
      EXPECT_EQ(config["config"]["Labels"][key], orig["annotations"][key]) << key;
    }

    // And back: the same annotations as the original.
    RunResult back = Plugctl({"copy", "--variant", start, layout + ":d", layout + ":back"});
    ASSERT_TRUE(back.ok()) << back.Summary();
    nlohmann::json again = PlugctlJson({"inspect", layout + ":back"});
    for (const std::string& key : keys) {
      EXPECT_TRUE(orig["annotations"].contains(key)) << key;
      EXPECT_EQ(again["annotations"][key], orig["annotations"][key]) << key;
    }
    if (start == "oci") {
      // The oci variant holds no documents: the round trip gives the original image back.
      EXPECT_EQ(again["digest"], orig["digest"]);
    }
  }
}

TEST_F(VariantConversionTest, ConvertingIntoTheSameShapeKeepsTheDigest) {
  if (!HaveExample()) GTEST_SKIP() << "examples not built: " << Example().string();
  for (const std::string variant : {"compat", "oci", "docker"}) {
    SCOPED_TRACE(variant);
    const std::string layout = "oci:" + Path("same-" + variant);
    RunResult built =
        Plugctl({"build", Example().string(), "--variant", variant, "-t", layout + ":orig"});
    ASSERT_TRUE(built.ok()) << built.Summary();
    const std::string digest = PlugctlJson({"resolve", layout + ":orig"})["digest"];
    nlohmann::json copied =
        PlugctlJson({"copy", "--variant", variant, layout + ":orig", layout + ":again"});
    EXPECT_EQ(copied["digest"], digest);
    EXPECT_TRUE(copied["unchanged"].get<bool>());
    EXPECT_EQ(PlugctlJson({"resolve", layout + ":again"})["digest"], digest);
    RunResult text = Plugctl({"copy", "--variant", variant, layout + ":orig", layout + ":text"});
    ASSERT_TRUE(text.ok()) << text.Summary();
    EXPECT_NE(text.out.find("unchanged (already the " + variant + " variant)"), std::string::npos)
        << text.out;
  }
  // The demo's compat image (official-image shape, no metadata) is one too.
  nlohmann::json demo =
      PlugctlJson({"copy", "--variant", "compat", DemoLayout() + ":hello-world:1.0.0",
                   "oci:" + Path("demo-same") + ":x"});
  EXPECT_TRUE(demo["unchanged"].get<bool>());
  EXPECT_EQ(demo["digest"], demo["sourceDigest"]);
}

TEST_F(CopyGatewayTest, MirrorIntoArchivesRenamesWithPrefixAndMap) {
  // A bundle as copy writes it: plain NAME:TAG tags.
  const std::string layout = "oci:" + Path("copied");
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", layout + ":hello-world:1.0.0"});
  PlugctlJson({"copy", "--variant", "docker", DemoLayout() + ":hello-world:1.0.0",
               layout + ":hello-docker:1.0.0"});

  // (Only the docker-shaped image: docker cannot load the compat one.)
  RunResult prefixed =
      Plugctl({"mirror", layout + ":hello-docker:1.0.0", "--to", "docker-archive:" + Path("p.tar"),
               "--prefix", "registry.local:5000/plugins"});
  ASSERT_TRUE(prefixed.ok()) << prefixed.Summary();
  EXPECT_EQ(RepoTags(Path("p.tar")),
            (std::vector<std::string>{"registry.local:5000/plugins/hello-docker:1.0.0"}))
      << prefixed.out;

  RunResult both =
      Plugctl({"mirror", layout, "--to", "oci-archive:" + Path("p.oci.tar"), "--prefix",
               "registry.local:5000/plugins", "--map", "docker.io/library/hello-world=team/hw"});
  ASSERT_TRUE(both.ok()) << both.Summary();
  RunResult tags = Plugctl({"tags", "oci-archive:" + Path("p.oci.tar")});
  ASSERT_TRUE(tags.ok()) << tags.Summary();
  EXPECT_NE(tags.out.find("registry.local:5000/plugins/team/hw:1.0.0"), std::string::npos)
      << tags.out;
  EXPECT_NE(tags.out.find("registry.local:5000/plugins/hello-docker:1.0.0"), std::string::npos)
      << tags.out;

  // --map alone renames full names.
  RunResult mapped =
      Plugctl({"mirror", layout + ":hello-docker:1.0.0", "--to", "docker-archive:" + Path("m.tar"),
               "--map", "docker.io/library=registry.local:5000/plugins"});
  ASSERT_TRUE(mapped.ok()) << mapped.Summary();
  EXPECT_EQ(RepoTags(Path("m.tar")),
            (std::vector<std::string>{"registry.local:5000/plugins/hello-docker:1.0.0"}));
}

TEST_F(CopyGatewayRegistryTest, MirrorLoadsBundlesWrittenByCopyAndBuild) {
  const std::string digest =
      PlugctlJson({"resolve", DemoLayout() + ":hello-world:1.0.0"})["digest"];
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", "oci-archive:" + Path("c.tar")});
  RunResult loaded =
      Plugctl({"mirror", "oci-archive:" + Path("c.tar"), "--to", registry_->Ref("plugins")});
  ASSERT_TRUE(loaded.ok()) << loaded.Summary();
  EXPECT_EQ(PlugctlJson({"resolve", Ref("plugins/hello-world:1.0.0")})["digest"], digest);

  if (!HaveExample()) return;
  PlugctlJson({"build", Example().string(), "-t", "oci-archive:" + Path("b.tar")});
  RunResult built =
      Plugctl({"mirror", "oci-archive:" + Path("b.tar"), "--to", registry_->Ref("plugins")});
  ASSERT_TRUE(built.ok()) << built.Summary();
  // Named from spec.yaml's info.name ("add-header/v1"), tagged with its version.
  EXPECT_TRUE(Plugctl({"resolve", Ref("plugins/add-header:1.0.0")}).ok()) << built.out;
  RunResult renamed = Plugctl({"mirror", "oci-archive:" + Path("b.tar"), "--to",
                               registry_->Ref("plugins"), "--map", "1.0.0=header"});
  ASSERT_TRUE(renamed.ok()) << renamed.Summary();
  EXPECT_TRUE(Plugctl({"resolve", Ref("plugins/header:1.0.0")}).ok()) << renamed.out;
}

}  // namespace
}  // namespace plugctl::testing
