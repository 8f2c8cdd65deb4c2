// The CLI contract: exit codes, help, JSON output and errors on hostile input.
#include <fstream>

#include "fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t CountFiles(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

TEST_F(CliTest, HelpAndVersionExitZero) {
  EXPECT_TRUE(Plugctl({"--help"}).ok());
  for (const char* cmd : {"copy", "inspect", "tags", "demo", "version"}) {
    RunResult r = Plugctl({cmd, "--help"});
    EXPECT_TRUE(r.ok()) << cmd << ": " << r.Summary();
    EXPECT_NE(r.out.find(cmd), std::string::npos) << r.out;
  }
  RunResult v = Plugctl({"version"});
  EXPECT_TRUE(v.ok());
  EXPECT_NE(v.out.find("plugctl "), std::string::npos);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Plugctl({}).exit_code, 2);
  EXPECT_EQ(Plugctl({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(Plugctl({"copy", "oci:only-one"}).exit_code, 2);
  RunResult bad_ref = Plugctl({"inspect", "Upper/Case:tag"});
  EXPECT_EQ(bad_ref.exit_code, 2) << bad_ref.Summary();
  EXPECT_NE(bad_ref.err.find("lowercase"), std::string::npos) << bad_ref.err;
  RunResult xml = Plugctl({"--format", "xml", "version"});
  EXPECT_EQ(xml.exit_code, 2);
  EXPECT_NE(xml.err.find("expected text or json, got \"xml\""), std::string::npos) << xml.err;
  // The enum's numbers are not names of formats.
  EXPECT_EQ(Plugctl({"--format", "1", "version"}).exit_code, 2);
  EXPECT_TRUE(Plugctl({"--format", "JSON", "version"}).ok());
}

TEST_F(CliTest, UnknownCommandsAndGlobalOptionsInHelp) {
  for (std::vector<std::string> args : {std::vector<std::string>{"pusj", "a", "b"},
                                        {"--concurrency", "2", "inspecct", "x"},
                                        {"--no-progress", "fetch"}}) {
    RunResult r = Plugctl(args);
    EXPECT_EQ(r.exit_code, 2) << r.Summary();
    EXPECT_NE(r.err.find("unknown command"), std::string::npos) << r.err;
  }
  // Global options appear in every command's help; --format shows its two values only.
  RunResult help = Plugctl({"copy", "--help"});
  ASSERT_TRUE(help.ok()) << help.Summary();
  EXPECT_NE(help.out.find("--plain-http"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--format text|json"), std::string::npos) << help.out;
  EXPECT_EQ(help.out.find("->"), std::string::npos) << help.out;
}

TEST_F(CliTest, JsonErrorsAreOneObjectOnStdout) {
  RunResult r = Plugctl({"--format", "json", "inspect", "oci:" + Path("missing")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["error"]["code"], "NOT_FOUND") << r.out;
  EXPECT_NE(out["error"]["message"].get<std::string>().find("missing"), std::string::npos);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;

  RunResult usage = Plugctl({"--format=json", "nope"});
  EXPECT_EQ(usage.exit_code, 2);
  nlohmann::json usage_out = nlohmann::json::parse(usage.out, nullptr, false);
  ASSERT_FALSE(usage_out.is_discarded()) << usage.out;
  EXPECT_EQ(usage_out["error"]["code"], "USAGE");
}

// In an air gap a typo must never become a Docker Hub lookup.
TEST_F(CliTest, LocalPathsAreReadByContentOrRefused) {
  Demo();
  // A layout and archives named without their transport are read by content.
  const std::string layout = DemoLayout().substr(4);  // "oci:" dropped
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", "oci-archive:" + Path("b.tar")});
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0-docker",
               "docker-archive:" + Path("d.bin") + ":plugins/hello:1"});
  for (const std::string& bare : {layout + ":hello-world:1.0.0", Path("b.tar"), Path("d.bin")}) {
    RunResult r = Plugctl({"inspect", "--no-gateway", bare});
    if (bare.starts_with(layout)) {
      // "DIR:TAG" is not a path on disk: only a transport says where the tag starts.
      EXPECT_NE(r.exit_code, 0) << r.Summary();
      continue;
    }
    EXPECT_TRUE(r.ok()) << bare << ": " << r.Summary();
  }
  RunResult plain = Plugctl({"inspect", "--no-gateway", layout});
  EXPECT_FALSE(plain.ok()) << plain.Summary();  // two images: which one
  EXPECT_NE(plain.err.find("holds 2 images"), std::string::npos) << plain.err;

  // Missing paths, lists and foreign transports.
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"pull", "plugins.tar", "-o", Path("o")}, "no such file or directory"},
      {{"mirror", "plugin.properties", "--to", "oci:" + Path("m")}, "no such file or directory"},
      {{"copy", "./layout", "oci:" + Path("x")}, "no such file or directory"},
      {{"copy", "dir:/x", "oci:" + Path("x")}, "unknown transport"},
      {{"copy", "containers-storage:x", "oci:" + Path("x")}, "unknown transport"},
      {{"tag", "docker-archive:" + Path("none.tar"), "x:1"}, "no such file or directory"},
  };
  for (const auto& [args, needle] : cases) {
    RunResult r = Plugctl(args);
    EXPECT_NE(r.exit_code, 0) << r.Summary();
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.Summary();
    EXPECT_EQ(r.err.find("docker.io"), std::string::npos) << r.Summary();
  }
  WriteFile(Path("plugins.properties"), "basic-auth=oci://reg.invalid/plugins/basic-auth:1.0.0\n");
  RunResult list = Plugctl({"copy", Path("plugins.properties"), "oci:" + Path("o")});
  EXPECT_NE(list.exit_code, 0);
  EXPECT_NE(list.err.find("plugctl mirror"), std::string::npos) << list.Summary();
}

TEST_F(CliTest, FailuresExitOneWithOneLine) {
  RunResult r = Plugctl({"inspect", "oci:" + Path("missing")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CliTest, DemoInspectAndTags) {
  Demo();
  nlohmann::json inspect = PlugctlJson({"inspect", DemoLayout() + ":hello-world:1.0.0"});
  ASSERT_TRUE(inspect.contains("layers"));
  ASSERT_EQ(inspect["layers"].size(), 3u);
  EXPECT_EQ(inspect["layers"][2]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(inspect["layers"][2]["annotations"]["org.opencontainers.image.title"], "plugin.tar.gz");
  EXPECT_EQ(inspect["config"]["mediaType"], "application/vnd.unknown.config.v1+json");

  nlohmann::json tags = PlugctlJson({"tags", DemoLayout()});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"hello-world:1.0.0", "hello-world:1.0.0-docker"}));

  RunResult text = Plugctl({"inspect", DemoLayout() + ":hello-world:1.0.0"});
  ASSERT_TRUE(text.ok()) << text.Summary();
  EXPECT_NE(text.out.find("plugin.tar.gz"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("README.md"), std::string::npos) << text.out;
}

TEST_F(CliTest, DemoIsRepeatable) {
  Demo();
  Demo();
}

TEST_F(CliTest, CopyKeepsDigestAndSecondCopyTransfersNothing) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  nlohmann::json first = PlugctlJson({"copy", src, "oci:" + Path("out") + ":v1"});
  nlohmann::json source = PlugctlJson({"inspect", src});
  EXPECT_EQ(first["digest"], source["digest"]);
  EXPECT_EQ(first["blobsCopied"], 4);
  nlohmann::json second = PlugctlJson({"copy", src, "oci:" + Path("out") + ":v1"});
  EXPECT_EQ(second["blobsCopied"], 0);
  EXPECT_EQ(second["blobsSkipped"], 4);
  nlohmann::json copied = PlugctlJson({"inspect", "oci:" + Path("out") + ":v1"});
  EXPECT_EQ(copied["digest"], source["digest"]);
}

TEST_F(CliTest, CopyWithoutDestinationTagKeepsSourceTag) {
  Demo();
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", "oci:" + Path("out")});
  nlohmann::json tags = PlugctlJson({"tags", "oci:" + Path("out")});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"hello-world:1.0.0"}));
}

// Replaces the bytes of the plugin layer of the demo layout (same length).
std::string CorruptPluginLayer(CliTest& t, const std::filesystem::path& layout,
                               const nlohmann::json& inspect) {
  std::string digest = inspect["layers"][2]["digest"];
  std::filesystem::path blob = layout / "blobs" / "sha256" / digest.substr(7);
  std::string bytes = ReadFile(blob);
  bytes[bytes.size() / 2] ^= 0x55;
  WriteFile(blob, bytes);
  (void)t;
  return digest;
}

TEST_F(CliTest, CorruptBlobFailsAndLeavesNothingHalfWritten) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  nlohmann::json inspect = PlugctlJson({"inspect", src});
  std::string digest = CorruptPluginLayer(*this, dir_ / "demo" / "layout", inspect);

  for (const std::string& dst : {"oci:" + Path("out") + ":v1", "oci-archive:" + Path("out.tar"),
                                 "docker-archive:" + Path("d.tar") + ":x/y:1"}) {
    RunResult r = Plugctl({"copy", src, dst});
    EXPECT_EQ(r.exit_code, 1) << dst << ": " << r.Summary();
    EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(digest), std::string::npos) << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "blobs" / "sha256" / digest.substr(7)));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "blobs" / "sha256" /
                                       inspect["digest"].get<std::string>().substr(7)));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out.tar"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "d.tar"));
  // No temporary files are left behind either.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST_F(CliTest, IndexNamingMissingBlobIsClearError) {
  Demo();
  std::filesystem::path layout = dir_ / "demo" / "layout";
  nlohmann::json inspect = PlugctlJson({"inspect", DemoLayout() + ":hello-world:1.0.0"});
  std::string digest = inspect["digest"];
  std::filesystem::remove(layout / "blobs" / "sha256" / digest.substr(7));
  RunResult r = Plugctl({"inspect", DemoLayout() + ":hello-world:1.0.0"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find(digest), std::string::npos) << r.err;
}

TEST_F(CliTest, InvalidIndexJsonIsClearError) {
  Demo();
  WriteFile(dir_ / "demo" / "layout" / "index.json", "{ not json");
  RunResult r = Plugctl({"tags", DemoLayout()});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("index.json"), std::string::npos) << r.err;
}

TEST_F(CliTest, OversizedManifestIsRefused) {
  Demo();
  // A blob of 5 MiB whose digest is right, named by index.json as a manifest.
  std::filesystem::path layout = dir_ / "demo" / "layout";
  std::string big = "{\"schemaVersion\":2,\"pad\":\"" + std::string(5 << 20, 'a') + "\"}";
  std::string digest = oci::Digest::Of(big).ToString();
  WriteFile(layout / "blobs" / "sha256" / digest.substr(7), big);
  nlohmann::json index = nlohmann::json::parse(ReadFile(layout / "index.json"));
  index["manifests"].push_back({{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", digest},
                                {"size", big.size()},
                                {"annotations", {{"org.opencontainers.image.ref.name", "big"}}}});
  WriteFile(layout / "index.json", index.dump());
  RunResult r = Plugctl({"copy", DemoLayout() + ":big", "oci:" + Path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("limit"), std::string::npos) << r.err;
  EXPECT_EQ(CountFiles(dir_ / "out" / "blobs"), 0u);
}

}  // namespace
}  // namespace plugctl::testing
