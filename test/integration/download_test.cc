// Plugin downloads from `plugctl serve` (/plugins/NAME/VERSION/plugin.wasm, the Higress
// plugin-server layout), fetched with curl as a gateway or an operator would: bytes and sha256
// against `plugctl pull` for every image shape, metadata.txt, HEAD, ranges, 304s, listings,
// names from plugins.properties, `wasmplugin --url-prefix http://`, auth and hostile paths.
#include <fstream>
#include <map>

#include "fixture.h"
#include "registry_fixture.h"
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

struct Fetched {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names, last value
  std::string body;
};

class DownloadTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!fs::exists(Example() / "plugin.wasm")) {
      GTEST_SKIP() << "examples not built (PLUGCTL_BUILD_EXAMPLES=OFF): " << Example().string();
    }
    wasm_hex_ = oci::Digest::Of(ReadAll(Example() / "plugin.wasm")).hex();
  }

  static fs::path Example() { return fs::path(PLUGCTL_BINARY_DIR) / "examples" / "add-header"; }

  std::unique_ptr<RegistryServer> Serve(RegistryConfig config = {}) {
    config.kind = RegistryKind::kPlugctlServe;
    return StartRegistryOrSkip(dir_ / "serve", config);
  }

  void Build(const RegistryServer& server, const std::string& repo_tag,
             const std::string& variant = "compat") {
    RunResult r = Plugctl({"build", Example().string(), "--variant", variant, "-t",
                           server.Ref(repo_tag), "--plain-http"});
    ASSERT_TRUE(r.ok()) << r.Summary();
  }

  Fetched Curl(const std::string& url, std::vector<std::string> extra = {}) {
    std::string headers = Path("headers.txt");
    std::string body = Path("body.bin");
    std::vector<std::string> argv = {"curl",  "-sS", "--path-as-is", "-m", "30",          "-D",
                                     headers, "-o",  body,           "-w", "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    RunResult r = RunProcess(argv, {.timeout = seconds(40)});
    Fetched f;
    f.status = std::atoi(r.out.c_str());
    f.body = ReadAll(body);
    std::istringstream in(ReadAll(headers));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      f.headers[name] = value;
    }
    fs::remove(body);
    return f;
  }

  std::string Url(const RegistryServer& server, const std::string& path) const {
    return fmt::format("http://{}{}", server.host(), path);
  }

  // sha256 of the plugin.wasm `plugctl pull` extracts from `ref`.
  std::string PulledWasm(const std::string& ref) {
    std::string out = Path("pulled-" + std::to_string(pulls_++));
    RunResult r = Plugctl({"pull", ref, "-o", out, "--plain-http"});
    EXPECT_TRUE(r.ok()) << r.Summary();
    return oci::Digest::Of(ReadAll(fs::path(out) / "plugin.wasm")).hex();
  }

  std::map<std::string, std::string> Metadata(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      size_t colon = line.find(": ");
      if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return out;
  }

  std::string wasm_hex_;
  int pulls_ = 0;
};

TEST_F(DownloadTest, EveryImageShapeDownloadsTheWasmPullExtracts) {
  auto server = Serve();
  if (!server) return;
  // One plugin, three shapes: the Higress spec's tar+gzip layer, the 2-layer oci variant with a
  // raw wasm layer, and a Docker schema2 image.
  Build(*server, "plugins/add-header:1.0.0", "compat");
  Build(*server, "plugins/add-header:1.1.0", "oci");
  Build(*server, "plugins/add-header:1.2.0", "docker");
  for (std::string version : {"1.0.0", "1.1.0", "1.2.0"}) {
    SCOPED_TRACE(version);
    Fetched f = Curl(Url(*server, "/plugins/add-header/" + version + "/plugin.wasm"));
    ASSERT_EQ(f.status, 200) << f.body;
    EXPECT_EQ(f.headers["content-type"], "application/wasm");
    EXPECT_EQ(f.headers["content-length"], std::to_string(f.body.size()));
    std::string hex = oci::Digest::Of(f.body).hex();
    EXPECT_EQ(hex, wasm_hex_);
    EXPECT_EQ(hex, PulledWasm(server->Ref("plugins/add-header:" + version)));
    EXPECT_EQ(f.headers["etag"], "\"" + hex + "\"");

    Fetched meta = Curl(Url(*server, "/plugins/add-header/" + version + "/metadata.txt"));
    ASSERT_EQ(meta.status, 200);
    auto fields = Metadata(meta.body);
    EXPECT_EQ(fields["Plugin Name"], "add-header");
    EXPECT_EQ(fields["Size"], fmt::format("{} bytes", f.body.size()));
    EXPECT_EQ(fields["SHA256"], hex);
    std::ofstream(Path("wasm.bin"), std::ios::binary) << f.body;
    RunResult md5 = RunProcess({"md5sum", Path("wasm.bin")});
    ASSERT_TRUE(md5.ok());
    EXPECT_EQ(fields["MD5"], md5.out.substr(0, 32));
    EXPECT_EQ(fields["Created"].size(), 20u) << fields["Created"];  // 2026-12-02T08:00:00Z
    EXPECT_EQ(fields["Last Modified"].size(), 20u);
  }
}

TEST_F(DownloadTest, HeadRangesAndConditionalRequests) {
  auto server = Serve();
  if (!server) return;
  Build(*server, "plugins/add-header:1.0.0");
  const std::string url = Url(*server, "/plugins/add-header/1.0.0/plugin.wasm");
  const std::string wasm = ReadAll(Example() / "plugin.wasm");
  const std::string etag = "\"" + wasm_hex_ + "\"";

  Fetched head = Curl(url, {"-I"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-length"], std::to_string(wasm.size()));
  EXPECT_EQ(head.headers["accept-ranges"], "bytes");
  // curl -I writes the head where the body would go; no module bytes follow it.
  EXPECT_EQ(head.body.find(std::string("\0asm", 4)), std::string::npos);
  ASSERT_FALSE(head.headers["last-modified"].empty());

  for (std::string value : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    SCOPED_TRACE(value);
    Fetched f = Curl(url, {"-H", "If-None-Match: " + value});
    EXPECT_EQ(f.status, 304);
    EXPECT_TRUE(f.body.empty());
    EXPECT_EQ(f.headers["etag"], etag);
  }
  EXPECT_EQ(Curl(url, {"-H", "If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(Curl(url, {"-H", "If-Modified-Since: " + head.headers["last-modified"]}).status, 304);
  EXPECT_EQ(Curl(url, {"-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"}).status, 200);

  Fetched part = Curl(url, {"-r", "8-15"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, wasm.substr(8, 8));
  EXPECT_EQ(part.headers["content-range"], fmt::format("bytes 8-15/{}", wasm.size()));
  Fetched tail = Curl(url, {"-H", "Range: bytes=-4"});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, wasm.substr(wasm.size() - 4));
  Fetched past = Curl(url, {"-H", fmt::format("Range: bytes={}-", wasm.size() + 10)});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers["content-range"], fmt::format("bytes */{}", wasm.size()));
  // If-Range with another validator: the whole file, as RFC 9110 says.
  Fetched stale = Curl(url, {"-r", "0-3", "-H", "If-Range: \"old\""});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, wasm);
  Fetched fresh = Curl(url, {"-r", "0-3", "-H", "If-Range: " + etag});
  EXPECT_EQ(fresh.status, 206);
  EXPECT_EQ(fresh.body, wasm.substr(0, 4));
  EXPECT_EQ(Curl(url, {"-X", "DELETE"}).status, 405);
  EXPECT_EQ(Curl(url, {"-X", "PUT", "--data", "x"}).status, 405);
}

TEST_F(DownloadTest, ListingsAreHtmlForPeopleAndJsonForScripts) {
  auto server = Serve();
  if (!server) return;
  Build(*server, "plugins/add-header:1.0.0");
  Build(*server, "plugins/add-header:1.10.0");
  Build(*server, "team/add-header:1.2.0");  // the same name from another repository

  Fetched root = Curl(Url(*server, "/plugins/"));
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(root.body.find("href=\"add-header/\""), std::string::npos) << root.body;

  Fetched versions = Curl(Url(*server, "/plugins/add-header/"), {"-H", "Accept: application/json"});
  ASSERT_EQ(versions.status, 200);
  auto j = nlohmann::json::parse(versions.body);
  ASSERT_EQ(j["versions"].size(), 3u) << j.dump();
  // Versions in semver order: 1.10.0 after 1.2.0.
  EXPECT_EQ(j["versions"][0]["version"], "1.0.0");
  EXPECT_EQ(j["versions"][1]["version"], "1.2.0");
  EXPECT_EQ(j["versions"][2]["version"], "1.10.0");
  EXPECT_EQ(j["versions"][2]["sha256"], wasm_hex_);

  Fetched files =
      Curl(Url(*server, "/plugins/add-header/1.0.0/"), {"-H", "Accept: application/json"});
  ASSERT_EQ(files.status, 200);
  auto f = nlohmann::json::parse(files.body);
  EXPECT_EQ(f["repository"], "plugins/add-header");
  std::vector<std::string> names = f["files"];
  EXPECT_NE(std::find(names.begin(), names.end(), "spec.yaml"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "README_EN.md"), names.end());
  Fetched spec = Curl(Url(*server, "/plugins/add-header/1.0.0/spec.yaml"));
  EXPECT_EQ(spec.status, 200);
  EXPECT_EQ(spec.body, ReadAll(Example() / "spec.yaml"));
  // A page of the server's origin never comes from a plugin's file.
  EXPECT_NE(Curl(Url(*server, "/plugins/add-header/1.0.0/README_EN.md"))
                .headers["content-security-policy"]
                .find("sandbox"),
            std::string::npos);
}

TEST_F(DownloadTest, WasmPluginHttpUrlIsWhereTheServedFileIs) {
  auto server = Serve();
  if (!server) return;
  Build(*server, "plugins/add-header:1.0.0");
  std::string prefix = Url(*server, "/plugins");
  RunResult r = Plugctl({"wasmplugin", server->Ref("plugins/add-header:1.0.0"), "--plain-http",
                         "--url-prefix", prefix});
  ASSERT_TRUE(r.ok()) << r.Summary();
  YAML::Node resource = YAML::Load(r.out);
  std::string url = resource["spec"]["url"].as<std::string>();
  EXPECT_EQ(url, prefix + "/add-header/1.0.0/plugin.wasm");
  Fetched f = Curl(url);
  ASSERT_EQ(f.status, 200);
  EXPECT_EQ(oci::Digest::Of(f.body).hex(), resource["spec"]["sha256"].as<std::string>());
}

TEST_F(DownloadTest, PluginsPropertiesKeysNameTheirRepositories) {
  std::ofstream(Path("plugins.properties"))
      << "# the console's names\n"
         "json-converter=oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/"
         "jsonrpc-converter:1.0.0\n"
         "add-header=oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/add-header:1.0.0\n";
  auto server = Serve({.extra_args = {"--names", Path("plugins.properties")}});
  if (!server) return;
  Build(*server, "plugins/jsonrpc-converter:1.0.0");
  EXPECT_EQ(Curl(Url(*server, "/plugins/json-converter/1.0.0/plugin.wasm")).status, 200);
  EXPECT_EQ(Curl(Url(*server, "/plugins/jsonrpc-converter/1.0.0/plugin.wasm")).status, 404);
  EXPECT_EQ(
      Metadata(
          Curl(Url(*server, "/plugins/json-converter/1.0.0/metadata.txt")).body)["Plugin Name"],
      "json-converter");
}

TEST_F(DownloadTest, HostilePathsNeverLeaveTheStore) {
  auto server = Serve();
  if (!server) return;
  Build(*server, "plugins/add-header:1.0.0");
  std::string long_name(8000, 'a');
  for (std::string path : std::vector<std::string>{
           "/plugins/../v2/_catalog", "/plugins/add-header/1.0.0/../../../../etc/passwd",
           "/plugins/%2e%2e/%2e%2e/index.json", "/plugins/add-header%2f1.0.0/plugin.wasm",
           "/plugins/add-header/1.0.0/.plugctl-info.json", "/plugins/add-header/1.0.0/plugin.wasm/",
           "/plugins/add-header/1.0.0/../1.0.0/plugin.wasm",
           "/plugins/add-header//1.0.0/plugin.wasm", "/plugins/add-header/1.0.0/plugin.wasm/x",
           "/plugins/add-header/1.0.0/index.json", "/plugins/" + long_name + "/1.0.0/plugin.wasm",
           "/plugins/add-header/" + long_name + "/plugin.wasm"}) {
    SCOPED_TRACE(path.substr(0, 80));
    Fetched f = Curl(Url(*server, path));
    EXPECT_TRUE(f.status == 404 || f.status == 400 || f.status == 431) << f.status;
    EXPECT_EQ(f.body.find("root:"), std::string::npos);
    EXPECT_EQ(f.body.find("\"manifests\""), std::string::npos);
  }
}

TEST_F(DownloadTest, DownloadsFollowTheRegistrysAccessRules) {
  auto server = Serve({.htpasswd = true});
  if (!server) return;
  std::string creds = server->config().user + ":" + server->config().password;
  std::string config = Path("docker-config/config.json");
  RunResult login = Plugctl({"--registry-config", config, "login", server->host(), "-u",
                             server->config().user, "--password-stdin", "--plain-http"},
                            {.stdin_data = server->config().password + "\n"});
  ASSERT_TRUE(login.ok()) << login.Summary();
  RunResult push = Plugctl({"--registry-config", config, "build", Example().string(), "-t",
                            server->Ref("plugins/add-header:1.0.0"), "--plain-http"});
  ASSERT_TRUE(push.ok()) << push.Summary();
  const std::string url = Url(*server, "/plugins/add-header/1.0.0/plugin.wasm");
  Fetched anonymous = Curl(url);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.headers["www-authenticate"].find("Basic"), std::string::npos);
  EXPECT_EQ(Curl(Url(*server, "/plugins/")).status, 401);
  EXPECT_EQ(Curl(url, {"-u", server->config().user + ":wrong"}).status, 401);
  Fetched user = Curl(url, {"-u", creds});
  EXPECT_EQ(user.status, 200);
  EXPECT_EQ(oci::Digest::Of(user.body).hex(), wasm_hex_);
}

TEST_F(DownloadTest, ExtractionIsCachedAcrossRestarts) {
  auto server = Serve();
  if (!server) return;
  Build(*server, "plugins/add-header:1.0.0");
  const std::string url = Url(*server, "/plugins/add-header/1.0.0/plugin.wasm");
  Fetched first = Curl(url, {"-I"});
  ASSERT_EQ(first.status, 200);
  server->Kill();
  std::string why;
  ASSERT_TRUE(server->Restart(&why)) << why;
  Fetched again = Curl(url, {"-I"});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.headers["last-modified"], first.headers["last-modified"]);
  EXPECT_EQ(again.headers["etag"], first.headers["etag"]);
  // Retagging moves the download to the new image at once.
  Build(*server, "plugins/add-header:1.0.0", "docker");
  EXPECT_EQ(Curl(url).status, 200);
}

}  // namespace
}  // namespace plugctl::testing
