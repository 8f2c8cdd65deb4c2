// Hostile local input through the CLI ("Hostile input, round two"): special files where
// regular files are expected, unrelated files as archive destinations, deeply nested JSON,
// archives that would fill the disk. Every case must end promptly with one line on stderr and
// exit 1.
#include <algorithm>
#include <fstream>

#include "fixture.h"
#include <sys/stat.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

// Bounded: a reader blocking on a FIFO would otherwise hang the test run.
constexpr std::chrono::seconds kPrompt{20};

class HostileTest : public CliTest {
 protected:
  RunResult Run(std::vector<std::string> args) {
    return Plugctl(std::move(args), {.timeout = kPrompt});
  }

  // Expects a prompt failure: exit 1, one line on stderr mentioning `needle`.
  void ExpectOneLineFailure(const RunResult& r, const std::string& needle) {
    EXPECT_FALSE(r.timed_out) << r.Summary();
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  void MakeFifo(const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::remove(p, ec);
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0) << p;
  }
};

TEST_F(HostileTest, FifoPluginWasmIsRefusedPromptly) {
  Demo();
  std::filesystem::path dir = dir_ / "plugin";
  RunResult pulled = Plugctl({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", dir.string()});
  ASSERT_TRUE(pulled.ok()) << pulled.Summary();
  MakeFifo(dir / "plugin.wasm");
  // validate reports what is wrong as a finding on stdout, and fails in one line on stderr.
  RunResult r = Run({"validate", dir.string()});
  ExpectOneLineFailure(r, "not valid");
  EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out;
}

TEST_F(HostileTest, FifoIndexJsonIsRefusedPromptly) {
  Demo();
  MakeFifo(dir_ / "demo" / "layout" / "index.json");
  ExpectOneLineFailure(Run({"inspect", DemoLayout() + ":hello-world:1.0.0"}), "index.json");
}

TEST_F(HostileTest, FifoBlobIsRefusedPromptly) {
  Demo();
  nlohmann::json inspect = PlugctlJson({"inspect", DemoLayout() + ":hello-world:1.0.0"});
  std::string digest = inspect["layers"][2]["digest"];
  MakeFifo(dir_ / "demo" / "layout" / "blobs" / "sha256" / digest.substr(7));
  RunResult r = Run({"copy", DemoLayout() + ":hello-world:1.0.0", "oci:" + Path("out")});
  ExpectOneLineFailure(r, "not a regular file");
}

TEST_F(HostileTest, FifoArchiveAndListAreRefusedPromptly) {
  Demo();
  MakeFifo(dir_ / "in.tar");
  ExpectOneLineFailure(Run({"copy", "oci-archive:" + Path("in.tar"), "oci:" + Path("out")}),
                       "in.tar");
  ExpectOneLineFailure(Run({"copy", "docker-archive:" + Path("in.tar"), "oci:" + Path("out")}),
                       "in.tar");
  MakeFifo(dir_ / "list.txt");
  ExpectOneLineFailure(Run({"mirror", Path("list.txt"), "--to", "oci:" + Path("out")}), "list.txt");
}

TEST_F(HostileTest, DockerArchiveDestinationNeverReplacesAnUnrelatedFile) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0-docker";
  const std::string precious = "my thesis, no backup\n";
  WriteFile(dir_ / "notes.txt", precious);
  RunResult r = Run({"copy", src, "docker-archive:" + Path("notes.txt") + ":x/y:1"});
  ExpectOneLineFailure(r, "not a docker archive");
  EXPECT_EQ(ReadAll(dir_ / "notes.txt"), precious);

  // An OCI archive is not a docker archive either.
  ASSERT_TRUE(Run({"copy", src, "oci-archive:" + Path("oci.tar")}).ok());
  std::string oci_bytes = ReadAll(dir_ / "oci.tar");
  ExpectOneLineFailure(Run({"copy", src, "docker-archive:" + Path("oci.tar") + ":x/y:1"}),
                       "not a docker archive");
  EXPECT_EQ(ReadAll(dir_ / "oci.tar"), oci_bytes);

  // A docker archive may be added to (and an empty file replaced).
  ASSERT_TRUE(Run({"copy", src, "docker-archive:" + Path("d.tar") + ":x/y:1"}).ok());
  RunResult again = Run({"copy", src, "docker-archive:" + Path("d.tar") + ":x/y:2"});
  EXPECT_TRUE(again.ok()) << again.Summary();
  WriteFile(dir_ / "empty.tar", "");
  RunResult empty = Run({"copy", src, "docker-archive:" + Path("empty.tar") + ":x/y:1"});
  EXPECT_TRUE(empty.ok()) << empty.Summary();
}

std::string Deep(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST_F(HostileTest, DeeplyNestedIndexJsonFailsInOneLine) {
  Demo();
  std::filesystem::path layout = dir_ / "demo" / "layout";
  WriteFile(layout / "index.json", "{\"schemaVersion\":2,\"manifests\":" + Deep(100000) + "}");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"inspect", DemoLayout() + ":hello-world:1.0.0"},
        {"--format", "json", "inspect", DemoLayout() + ":hello-world:1.0.0"},
        {"tags", DemoLayout()}}) {
    RunResult r = Run(args);
    ExpectOneLineFailure(r, "index.json: JSON nested deeper than 64 levels");
  }
  // The same layout inside an OCI archive.
  RunResult tar = RunProcess({"tar", "-C", layout.string(), "-cf", Path("deep.tar"), "."});
  ASSERT_TRUE(tar.ok()) << tar.Summary();
  ExpectOneLineFailure(Run({"inspect", "oci-archive:" + Path("deep.tar")}),
                       "nested deeper than 64 levels");
}

TEST_F(HostileTest, DeeplyNestedManifestFailsInOneLine) {
  Demo();
  std::filesystem::path layout = dir_ / "demo" / "layout";
  // Well under the 4 MiB manifest limit, with the right digest.
  std::string deep = "{\"schemaVersion\":2,\"layers\":" + Deep(100000) + "}";
  std::string digest = oci::Digest::Of(deep).ToString();
  WriteFile(layout / "blobs" / "sha256" / digest.substr(7), deep);
  nlohmann::json index = nlohmann::json::parse(ReadAll(layout / "index.json"));
  index["manifests"].push_back({{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", digest},
                                {"size", deep.size()},
                                {"annotations", {{"org.opencontainers.image.ref.name", "deep"}}}});
  WriteFile(layout / "index.json", index.dump());
  for (std::vector<std::string> args : {std::vector<std::string>{"inspect", DemoLayout() + ":deep"},
                                        {"--format", "json", "inspect", DemoLayout() + ":deep"},
                                        {"copy", DemoLayout() + ":deep", "oci:" + Path("out")}}) {
    ExpectOneLineFailure(Run(args), "nested deeper than 64 levels");
  }
  // The other images of the layout are still readable.
  EXPECT_TRUE(Run({"inspect", DemoLayout() + ":hello-world:1.0.0"}).ok());
}

// Runs test/integration/hostile_archive.py.
RunResult HostileArchive(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      "python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/hostile_archive.py"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {.timeout = std::chrono::seconds(120)});
}

// plugctl ARGS with no file larger than max_mib MiB writable (RLIMIT_FSIZE: a bigger write
// kills it with SIGXFSZ), so "it never wrote that member" is checked, not assumed.
RunResult PlugctlWithFileLimit(int max_mib, std::vector<std::string> args,
                               const std::string& tmpdir) {
  std::vector<std::string> argv = {"bash", "-c",
                                   "ulimit -f " + std::to_string(max_mib * 1024) + "; exec \"$@\"",
                                   "plugctl", PlugctlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {.timeout = std::chrono::seconds(120), .env = {{"TMPDIR", tmpdir}}});
}

TEST_F(HostileTest, UnreferencedArchiveMemberIsNeverWritten) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  ASSERT_TRUE(Run({"copy", src, "oci-archive:" + Path("plain.tar")}).ok());
  ASSERT_TRUE(Run({"copy", DemoLayout() + ":hello-world:1.0.0-docker",
                   "docker-archive:" + Path("plain-docker.tar") + ":x/y:1"})
                  .ok());
  // 512 MiB of zeros (about half a MiB gzipped) first, before index.json says what is needed.
  RunResult made = HostileArchive({"bloat", Path("plain.tar"), Path("bloated.tar.gz"), "512"});
  ASSERT_TRUE(made.ok()) << made.Summary();
  made = HostileArchive({"bloat", Path("plain-docker.tar"), Path("bloated-docker.tar.gz"), "512"});
  ASSERT_TRUE(made.ok()) << made.Summary();
  EXPECT_LT(std::filesystem::file_size(dir_ / "bloated.tar.gz"), 8u << 20);
  std::filesystem::create_directory(dir_ / "tmp");

  RunResult r = PlugctlWithFileLimit(
      16, {"copy", "oci-archive:" + Path("bloated.tar.gz"), "oci:" + Path("out") + ":v1"},
      Path("tmp"));
  EXPECT_TRUE(r.ok()) << r.Summary();
  r = PlugctlWithFileLimit(
      16, {"copy", "docker-archive:" + Path("bloated-docker.tar.gz"), "oci:" + Path("out") + ":v2"},
      Path("tmp"));
  EXPECT_TRUE(r.ok()) << r.Summary();
  // Adding to the archive (which reads it first) keeps the image and drops the junk.
  r = PlugctlWithFileLimit(16, {"copy", src, "oci-archive:" + Path("bloated.tar.gz") + ":again"},
                           Path("tmp"));
  EXPECT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(PlugctlJson({"tags", "oci-archive:" + Path("bloated.tar.gz")})["tags"],
            nlohmann::json::array({"again", "hello-world:1.0.0"}));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "tmp"));
}

TEST_F(HostileTest, ManyHardLinksToOneLayerAreOneFile) {
  Demo();
  ASSERT_TRUE(Run({"copy", DemoLayout() + ":hello-world:1.0.0-docker",
                   "docker-archive:" + Path("d.tar") + ":x/y:1"})
                  .ok());
  RunResult made = HostileArchive({"links", Path("d.tar"), Path("links.tar"), "20000"});
  ASSERT_TRUE(made.ok()) << made.Summary();
  RunResult r = Run({"copy", "docker-archive:" + Path("links.tar"), "oci:" + Path("out") + ":v1"});
  EXPECT_TRUE(r.ok()) << r.Summary();
}

TEST_F(HostileTest, ArchiveMemberLargerThanItsDescriptorIsRefused) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  nlohmann::json inspect = PlugctlJson({"inspect", src});
  std::string layer = inspect["layers"][2]["digest"];
  ASSERT_TRUE(Run({"copy", src, "oci-archive:" + Path("plain.tar")}).ok());
  RunResult made =
      HostileArchive({"oversize", Path("plain.tar"), Path("over.tar"), layer.substr(7)});
  ASSERT_TRUE(made.ok()) << made.Summary();
  RunResult r = Run({"copy", "oci-archive:" + Path("over.tar"), "oci:" + Path("out")});
  ExpectOneLineFailure(r, "its descriptor declares");
  EXPECT_NE(r.err.find(layer.substr(7)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plugctl::testing
