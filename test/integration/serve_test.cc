// `plugctl serve` end to end: the conformance checks, real clients (plugctl, skopeo), a
// mirrored bundle served as it is, read-only, auth, kill -9 in the middle of a mirror, gc,
// hostile HTTP, and the operational endpoints.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "fixture.h"
#include "registry_fixture.h"
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The server's log once it holds `needle` (access lines are written up to 100 ms late), or as
// it is after 10 s.
std::string LogWith(const fs::path& log_path, std::string_view needle) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  std::string log = ReadAll(log_path);
  while (log.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    log = ReadAll(log_path);
  }
  return log;
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

class ServeTest : public CliTest {
 protected:
  std::unique_ptr<RegistryServer> Serve(const std::string& name, RegistryConfig config = {}) {
    config.kind = RegistryKind::kPlugctlServe;
    return StartRegistryOrSkip(dir_ / name, config);
  }
  RunResult Conformance(const RegistryServer& server, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        "python3",
        std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/distribution_conformance.py", "--url",
        fmt::format("http://{}", server.host()), "--require-tag-delete"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, {.timeout = seconds(240)});
  }
  // Writes the demo plugin into a layout whose ref name is a whole reference, as
  // `plugctl mirror --to oci:DIR` writes bundles.
  fs::path MirroredLayout(const std::string& ref_name) {
    Demo();
    fs::path layout = dir_ / "bundle";
    RunResult copy = Plugctl(
        {"copy", DemoLayout() + ":hello-world:1.0.0", "oci:" + layout.string() + ":placeholder"});
    EXPECT_TRUE(copy.ok()) << copy.Summary();
    nlohmann::json index = nlohmann::json::parse(ReadAll(layout / "index.json"));
    index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = ref_name;
    std::ofstream(layout / "index.json") << index.dump();
    return layout;
  }
};

TEST_F(ServeTest, PassesTheDistributionConformanceChecks) {
  auto server = Serve("serve");
  if (!server) return;
  RunResult r = Conformance(*server);
  EXPECT_TRUE(r.ok()) << r.out << r.err;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
}

TEST_F(ServeTest, PassesTheConformanceChecksWithTokenAuth) {
  auto server = Serve("serve", {.htpasswd = true});
  if (!server) return;
  RunResult r = Conformance(
      *server, {"--user", server->config().user, "--password", server->config().password});
  EXPECT_TRUE(r.ok()) << r.out << r.err;
}

TEST_F(ServeTest, ServesAMirroredBundleWithTheHostDropped) {
  fs::path layout =
      MirroredLayout("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0");
  std::string digest =
      nlohmann::json::parse(ReadAll(layout / "index.json"))["manifests"][0]["digest"];
  int port = FreePort();
  std::string host = fmt::format("127.0.0.1:{}", port);
  Background serve({PlugctlBinary(), "serve", layout.string(), "--listen", host},
                   Path("serve.log"));
  ASSERT_TRUE(WaitForPort(port, seconds(20))) << ReadAll(Path("serve.log"));
  nlohmann::json resolved = PlugctlJson({"resolve", host + "/plugins/basic-auth:1.0.0"});
  EXPECT_EQ(resolved["digest"], digest) << resolved.dump();
  EXPECT_EQ(SkopeoInspectDigest(
                {"--raw", "--tls-verify=false", "docker://" + host + "/plugins/basic-auth:1.0.0"}),
            digest);
  nlohmann::json catalog = PlugctlJson({"catalog", host});
  EXPECT_EQ(catalog["repositories"], nlohmann::json::array({"plugins/basic-auth"}))
      << catalog.dump();
  RunResult pull = Plugctl({"pull", host + "/plugins/basic-auth:1.0.0", "-o", Path("pulled")});
  ASSERT_TRUE(pull.ok()) << pull.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "pulled" / "plugin.wasm"));
  // What serve writes keeps the layout readable by plugctl and skopeo.
  PlugctlJson({"copy", host + "/plugins/basic-auth:1.0.0", host + "/plugins/copied:2.0.0"});
  RunResult skopeo =
      Skopeo({"inspect", "--raw", "oci:" + layout.string() + ":plugins/copied:2.0.0"});
  EXPECT_TRUE(skopeo.ok()) << skopeo.Summary();
  nlohmann::json tags = PlugctlJson({"tags", "oci:" + layout.string()});
  EXPECT_EQ(tags["tags"].size(), 2u) << tags.dump();
}

TEST_F(ServeTest, ImportsAnArchiveBundle) {
  Demo();
  std::string archive = Path("bundle.tar");
  ASSERT_TRUE(Plugctl({"copy", DemoLayout() + ":hello-world:1.0.0",
                       "oci-archive:" + archive + ":plugins/hello:1.0.0"})
                  .ok());
  auto server = Serve("serve", {.extra_args = {"--import", archive}});
  if (!server) return;
  nlohmann::json tags = PlugctlJson({"tags", server->Ref("plugins/hello")});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"1.0.0"})) << tags.dump();
}

TEST_F(ServeTest, ReadOnlyServesPullsAndRefusesWrites) {
  Demo();
  auto writable = Serve("serve");
  if (!writable) return;
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", writable->Ref("plugins/x:1")});
  writable.reset();
  auto server = Serve("serve", {.read_only = true});
  if (!server) return;
  PlugctlJson({"resolve", server->Ref("plugins/x:1")});
  RunResult push =
      Plugctl({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/y:1")});
  EXPECT_EQ(push.exit_code, 1) << push.Summary();
  std::string raw = RawExchange(server->host(),
                                "DELETE /v2/plugins/x/manifests/1 HTTP/1.1\r\nHost: x\r\n"
                                "Connection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(raw), "HTTP/1.1 405 Method Not Allowed") << raw;
  EXPECT_NE(raw.find("UNSUPPORTED"), std::string::npos) << raw;
}

TEST_F(ServeTest, AnonymousReadWithPushForUsersOnly) {
  Demo();
  auto server = Serve("serve", {.htpasswd = true, .anonymous_read = true});
  if (!server) return;
  std::string config = Path("docker-config/config.json");
  RunResult login = Plugctl({"--registry-config", config, "login", server->host(), "-u",
                             server->config().user, "--password-stdin"},
                            {.stdin_data = server->config().password + "\n"});
  ASSERT_TRUE(login.ok()) << login.Summary();
  PlugctlJson({"--registry-config", config, "copy", DemoLayout() + ":hello-world:1.0.0",
               server->Ref("plugins/x:1")});
  // Anonymous clients pull (through the token flow) but do not push.
  RunResult skopeo =
      Skopeo({"inspect", "--raw", "--tls-verify=false", "docker://" + server->Ref("plugins/x:1")});
  EXPECT_TRUE(skopeo.ok()) << skopeo.Summary();
  RunResult push = Plugctl({"--registry-config", Path("none.json"), "copy",
                            DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/y:1")});
  EXPECT_EQ(push.exit_code, 1) << push.Summary();
  RunResult bad = Skopeo({"inspect", "--raw", "--tls-verify=false", "--creds", "plugctl:wrong",
                          "docker://" + server->Ref("plugins/x:1")});
  EXPECT_FALSE(bad.ok());
}

TEST_F(ServeTest, AccessRulesScopeUsersToRepositories) {
  Demo();
  auto server = Serve("serve", {.htpasswd = true,
                                .access_yaml = "- user: plugctl\n"
                                               "  repositories: [\"team/*\"]\n"
                                               "  actions: [pull, push]\n"});
  if (!server) return;
  std::string creds = server->config().user + ":" + server->config().password;
  std::string src = "docker-archive:" + Path("demo/hello-world.docker.tar");
  RunResult allowed = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", creds, src,
                              "docker://" + server->Ref("team/app:1")});
  EXPECT_TRUE(allowed.ok()) << allowed.Summary();
  RunResult denied = Skopeo({"copy", "--dest-tls-verify=false", "--dest-creds", creds, src,
                             "docker://" + server->Ref("other/app:1")});
  EXPECT_FALSE(denied.ok()) << denied.Summary();
}

TEST_F(ServeTest, RefusesPasswordsOverPlainHttpOffLoopback) {
  std::ofstream(Path("htpasswd"))
      << "u:$2y$05$abcdefghijklmnopqrstuuJqGpq7GFSq0W6Vmzwyf8WpxyQ3mCQwW\n";
  RunResult r =
      Plugctl({"serve", Path("store"), "--listen", "0.0.0.0:0", "--htpasswd", Path("htpasswd")},
              {.timeout = seconds(20)});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("plain HTTP"), std::string::npos) << r.err;
}

TEST_F(ServeTest, KillDuringAMirrorLeavesStorageConsistent) {
  Demo();
  auto server = Serve("serve");
  if (!server) return;
  // A list of 30 images: the demo plugin under 30 repositories of a source registry.
  auto source = Serve("source");
  if (!source) return;
  std::string list;
  for (int i = 0; i < 30; ++i) {
    std::string ref = source->Ref(fmt::format("plugins/p{}:1.0.0", i));
    PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", ref});
    list += ref + "\n";
  }
  std::ofstream(Path("list.txt")) << list;
  std::vector<std::string> mirror = {
      PlugctlBinary(),     "mirror", Path("list.txt"), "--to", server->host() + "/mirror",
      "--no-gateway-check"};
  Background run(mirror, Path("mirror.log"));
  std::this_thread::sleep_for(milliseconds(400));
  server->Kill();
  std::string why;
  ASSERT_TRUE(server->Restart(&why)) << why;
  // Every tag that exists names a complete image.
  RunResult catalog = Plugctl({"--format", "json", "catalog", server->host()});
  ASSERT_TRUE(catalog.ok()) << catalog.Summary();
  const nlohmann::json repositories = nlohmann::json::parse(catalog.out)["repositories"];
  for (const auto& repo : repositories) {
    nlohmann::json tags = PlugctlJson({"tags", server->Ref(repo.get<std::string>())});
    for (const auto& tag : tags["tags"]) {
      RunResult copy =
          Plugctl({"copy", server->Ref(repo.get<std::string>() + ":" + tag.get<std::string>()),
                   "oci:" + Path("check") + ":x"});
      EXPECT_TRUE(copy.ok()) << repo << ":" << tag << " " << copy.Summary();
    }
  }
  // The rerun completes.
  RunResult rerun = RunProcess(mirror, {.timeout = seconds(180)});
  EXPECT_TRUE(rerun.ok()) << rerun.Summary();
  nlohmann::json tags = PlugctlJson({"tags", server->Ref("mirror/p29")});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"1.0.0"})) << tags.dump();
}

TEST_F(ServeTest, GcRemovesWhatNoImageReaches) {
  Demo();
  auto server = Serve("serve");
  if (!server) return;
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/x:1")});
  // A blob nobody references.
  std::string raw =
      RawExchange(server->host(),
                  fmt::format("POST /v2/plugins/x/blobs/uploads/?digest={} HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
                              oci::Digest::Of("hello").ToString()));
  ASSERT_EQ(StatusLine(raw), "HTTP/1.1 201 Created") << raw;
  std::string storage = server->storage().string();
  nlohmann::json dry = PlugctlJson({"gc", storage, "--dry-run", "--grace", "0"});
  EXPECT_EQ(dry["removed"], nlohmann::json::array({oci::Digest::Of("hello").ToString()}))
      << dry.dump();
  nlohmann::json done = PlugctlJson({"gc", storage, "--grace", "0"});
  EXPECT_EQ(done["removed"].size(), 1u);
  // The image still pulls; the orphan is gone.
  PlugctlJson({"copy", server->Ref("plugins/x:1"), "oci:" + Path("out") + ":1"});
  std::string head =
      RawExchange(server->host(), fmt::format("HEAD /v2/plugins/x/blobs/{} HTTP/1.1\r\nHost: x\r\n"
                                              "Connection: close\r\n\r\n",
                                              oci::Digest::Of("hello").ToString()));
  EXPECT_EQ(StatusLine(head), "HTTP/1.1 404 Not Found") << head;
}

TEST_F(ServeTest, HostileRequestsGetClearErrors) {
  Demo();
  auto server = Serve("serve");
  if (!server) return;
  auto status = [&](const std::string& request) {
    return StatusLine(RawExchange(server->host(), request));
  };
  EXPECT_EQ(status("GET /v2/../../etc/passwd/tags/list HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status("GET /v2/%2e%2e/x/tags/list HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status("GET /v2/a%2Fb/tags/list HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status("GET /v2/x/blobs/sha256:..%2f..%2findex.json HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(
      status("GET /v2/x/blobs/uploads/../../oci-layout HTTP/1.1\r\nHost: x\r\n\r\n").substr(0, 12),
      "HTTP/1.1 404");
  EXPECT_EQ(status("NONSENSE\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(
      status("GET /v2/ HTTP/1.1\r\nHost: x\r\nX: " + std::string(64 * 1024, 'a') + "\r\n\r\n"),
      "HTTP/1.1 431 Request Header Fields Too Large");
  // A manifest naming blobs that are not there.
  std::string manifest = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},)"
      R"("layers":[]}})",
      oci::Digest::Of("{}").ToString());
  std::string raw =
      RawExchange(server->host(),
                  fmt::format("PUT /v2/x/manifests/1 HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              "application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\n"
                              "Connection: close\r\n\r\n{}",
                              manifest.size(), manifest));
  EXPECT_EQ(StatusLine(raw), "HTTP/1.1 400 Bad Request") << raw;
  EXPECT_NE(raw.find("MANIFEST_BLOB_UNKNOWN"), std::string::npos) << raw;
  // Accept negotiation: a client that lists only Docker types is not handed an OCI manifest.
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/x:1")});
  std::string docker_only =
      RawExchange(server->host(),
                  "GET /v2/plugins/x/manifests/1 HTTP/1.1\r\nHost: x\r\nAccept: "
                  "application/vnd.docker.distribution.manifest.v2+json\r\n"
                  "Connection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(docker_only), "HTTP/1.1 404 Not Found") << docker_only;
  EXPECT_NE(docker_only.find("MANIFEST_UNKNOWN"), std::string::npos) << docker_only;
  // …but every Accept field counts, not just the first.
  std::string two_fields =
      RawExchange(server->host(),
                  "GET /v2/plugins/x/manifests/1 HTTP/1.1\r\nHost: x\r\nAccept: "
                  "application/vnd.docker.distribution.manifest.v2+json\r\nAccept: "
                  "application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(two_fields), "HTTP/1.1 200 OK") << two_fields;
  // Storage holds nothing outside its directory.
  EXPECT_FALSE(fs::exists(dir_ / "serve" / "x"));
}

TEST_F(ServeTest, HealthMetricsAndAccessLog) {
  Demo();
  auto server = Serve("serve");
  if (!server) return;
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/x:1")});
  std::string health = RawExchange(server->host(),
                                   "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                   "Connection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(health), "HTTP/1.1 200 OK") << health;
  std::string metrics = RawExchange(server->host(),
                                    "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                    "Connection: close\r\n\r\n");
  EXPECT_NE(metrics.find("plugctl_http_requests_total{method=\"PUT\",code=\"201\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("plugctl_registry_storage_bytes "), std::string::npos) << metrics;
  std::string log = LogWith(server->log_path(), "\"PUT /v2/plugins/x/manifests/1\" 201");
  EXPECT_NE(log.find("\"PUT /v2/plugins/x/manifests/1\" 201"), std::string::npos) << log;
}

TEST_F(ServeTest, SigtermDrainsAndExitsZero) {
  int port = FreePort();
  std::string host = fmt::format("127.0.0.1:{}", port);
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execl(PlugctlBinary().c_str(), "plugctl", "serve", Path("store").c_str(), "--listen",
          host.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_TRUE(WaitForPort(port, seconds(20)));
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, WNOHANG);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(fs::exists(dir_ / "store" / "oci-layout"));
}

TEST_F(ServeTest, SkopeoSyncsIntoAndOutOfServe) {
  Demo();
  auto server = Serve("serve");
  if (!server) return;
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/hello:1.0.0")});
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", server->Ref("plugins/hello:2.0.0")});
  // Out: every tag of the repository into a directory; in: back under another name.
  RunResult out = Skopeo({"sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false",
                          server->Ref("plugins/hello"), Path("synced")});
  ASSERT_TRUE(out.ok()) << out.Summary();
  RunResult in = Skopeo({"sync", "--src", "dir", "--dest", "docker", "--dest-tls-verify=false",
                         Path("synced/hello:1.0.0"), server->Ref("copies")});
  ASSERT_TRUE(in.ok()) << in.Summary();
  nlohmann::json tags = PlugctlJson({"tags", server->Ref("copies/hello")});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"1.0.0"})) << tags.dump();
  EXPECT_EQ(PlugctlJson({"resolve", server->Ref("copies/hello:1.0.0")})["digest"],
            PlugctlJson({"resolve", server->Ref("plugins/hello:1.0.0")})["digest"]);
}

TEST_F(ServeTest, ConfigFileSetsOptionsAndFlagsWin) {
  int port = FreePort();
  std::ofstream(Path("serve.yaml")) << fmt::format(
      "dir: {}\nlisten: 127.0.0.1:{}\nread-only: true\nlog-format: json\n", Path("store"), port);
  // --read-only from the file; the command line turns JSON logs back to text.
  Background serve(
      {PlugctlBinary(), "serve", "--config", Path("serve.yaml"), "--log-format", "text"},
      Path("serve.log"));
  ASSERT_TRUE(WaitForPort(port, seconds(20))) << ReadAll(Path("serve.log"));
  std::string host = fmt::format("127.0.0.1:{}", port);
  std::string raw = RawExchange(host,
                                "POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(StatusLine(raw), "HTTP/1.1 405 Method Not Allowed") << raw;
  std::string log = LogWith(Path("serve.log"), "\"POST /v2/x/blobs/uploads/\" 405");
  EXPECT_NE(log.find("\"POST /v2/x/blobs/uploads/\" 405"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir_ / "store" / "oci-layout"));
  std::ofstream(Path("bad.yaml")) << "listen: 127.0.0.1:0\nno-such-option: 1\n";
  RunResult bad = Plugctl({"serve", "--config", Path("bad.yaml")}, {.timeout = seconds(20)});
  EXPECT_EQ(bad.exit_code, 1) << bad.Summary();
  EXPECT_NE(bad.err.find("no-such-option"), std::string::npos) << bad.err;
}

TEST_F(ServeTest, JsonAccessLog) {
  auto server = Serve("serve", {.extra_args = {"--log-format", "json"}});
  if (!server) return;
  RawExchange(server->host(), "GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  LogWith(server->log_path(), "\"path\":\"/v2/\"");
  std::ifstream in(server->log_path());
  std::string line;
  bool found = false;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j.contains("path") && j["path"] == "/v2/") {
      found = true;
      EXPECT_EQ(j["status"], 200);
      EXPECT_EQ(j["method"], "GET");
    }
  }
  EXPECT_TRUE(found) << ReadAll(server->log_path());
}

TEST_F(ServeTest, SighupReloadsTheCertificate) {
  auto server = Serve("serve", {.tls = true});
  if (!server) return;
  auto fingerprint = [&] {
    RunResult r = RunProcess(
        {"sh", "-c",
         fmt::format("openssl s_client -connect {} </dev/null 2>/dev/null | openssl x509 "
                     "-noout -fingerprint -sha256",
                     server->host())},
        {.timeout = seconds(30)});
    return r.out;
  };
  std::string before = fingerprint();
  ASSERT_NE(before.find("Fingerprint"), std::string::npos) << before;
  // A new certificate in place of the old, then SIGHUP.
  fs::path dir = dir_ / "serve";
  RunResult cert =
      RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                  (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(), "-days", "2",
                  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
                 {.timeout = seconds(60)});
  ASSERT_TRUE(cert.ok()) << cert.Summary();
  ::kill(server->pid(), SIGHUP);
  std::string after;
  for (int i = 0; i < 50; ++i) {
    after = fingerprint();
    if (after != before) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_NE(after, before);
  EXPECT_NE(after.find("Fingerprint"), std::string::npos) << after;
  EXPECT_NE(ReadAll(server->log_path()).find("TLS certificate reloaded"), std::string::npos);
}

TEST_F(ServeTest, BlobsOverTheSizeLimitGet413) {
  auto server = Serve("serve", {.extra_args = {"--max-blob-size", "10"}});
  if (!server) return;
  std::string body(20, 'x');
  std::string raw = RawExchange(
      server->host(), fmt::format("POST /v2/x/blobs/uploads/?digest={} HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 20\r\nConnection: close\r\n\r\n{}",
                                  oci::Digest::Of(body).ToString(), body));
  EXPECT_EQ(StatusLine(raw), "HTTP/1.1 413 Payload Too Large") << raw;
  // Chunks add up: two chunks of 6 bytes go over 10 as surely as one of 12.
  std::string start = RawExchange(server->host(),
                                  "POST /v2/x/blobs/uploads/ HTTP/1.1\r\n"
                                  "Host: x\r\nConnection: close\r\n\r\n");
  size_t at = start.find("Location: ");
  ASSERT_NE(at, std::string::npos) << start;
  std::string location = start.substr(at + 10, start.find("\r\n", at) - at - 10);
  auto patch = [&](const std::string& range) {
    return StatusLine(RawExchange(
        server->host(), fmt::format("PATCH {} HTTP/1.1\r\nHost: x\r\nContent-Range: {}\r\n"
                                    "Content-Length: 6\r\nConnection: close\r\n\r\nabcdef",
                                    location, range)));
  };
  EXPECT_EQ(patch("0-5"), "HTTP/1.1 202 Accepted");
  EXPECT_EQ(patch("6-11"), "HTTP/1.1 413 Payload Too Large");
}

}  // namespace
}  // namespace plugctl::testing
