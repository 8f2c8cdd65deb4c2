// The registry client against a real docker-registry (distribution 2.8) on
// 127.0.0.1, with skopeo as an independent second client.
#include <algorithm>
#include <fstream>
#include <thread>

#include "fixture.h"
#include "image_factory.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

using RegistryTest = WithRegistry<CliTest>;

TEST_F(RegistryTest, PushAndPullKeepDigestsAndBytes) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  nlohmann::json pushed = PlugctlJson({"copy", src, Ref("plugins/hello-world:1.0.0")});
  nlohmann::json source = PlugctlJson({"inspect", src});
  EXPECT_EQ(pushed["digest"], source["digest"]);
  EXPECT_EQ(PlugctlJson({"resolve", Ref("plugins/hello-world:1.0.0")})["digest"], source["digest"]);
  // An independent client sees the same manifest bytes.
  EXPECT_EQ(SkopeoDigest(Ref("plugins/hello-world:1.0.0")), source["digest"]);

  nlohmann::json pulled =
      PlugctlJson({"copy", "oci://" + Ref("plugins/hello-world:1.0.0"), "oci:" + Path("pulled")});
  EXPECT_EQ(pulled["digest"], source["digest"]);
  for (const auto& layer : source["layers"]) {
    std::string hex = layer["digest"].get<std::string>().substr(7);
    EXPECT_EQ(ReadAll(dir_ / "pulled/blobs/sha256" / hex),
              ReadAll(dir_ / "demo/layout/blobs/sha256" / hex));
  }
  nlohmann::json inspect = PlugctlJson({"inspect", Ref("plugins/hello-world:1.0.0")});
  EXPECT_EQ(inspect["layers"].size(), 3u);
}

TEST_F(RegistryTest, ReadsWhatSkopeoPushedInBothFormats) {
  Demo();
  // skopeo reads the docker-shaped demo image from the docker archive plugctl wrote.
  ASSERT_NO_FATAL_FAILURE(SkopeoPushDemoInBothFormats());

  nlohmann::json docker = PlugctlJson({"inspect", Ref("skopeo/docker:1")});
  EXPECT_EQ(docker["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(docker["digest"], SkopeoDigest(Ref("skopeo/docker:1")));
  nlohmann::json oci = PlugctlJson({"inspect", Ref("skopeo/oci:1")});
  EXPECT_EQ(oci["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(oci["digest"], SkopeoDigest(Ref("skopeo/oci:1")));
  // The plugin layer bytes are the same whatever the manifest format.
  EXPECT_EQ(docker["layers"][0]["digest"], oci["layers"][0]["digest"]);

  for (const char* repo : {"skopeo/docker:1", "skopeo/oci:1"}) {
    nlohmann::json pulled = PlugctlJson({"copy", Ref(repo), "oci:" + Path("out") + ":x"});
    EXPECT_EQ(pulled["digest"], SkopeoDigest(Ref(repo)));
  }
}

TEST_F(RegistryTest, TagsTagResolveAndCatalog) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  PlugctlJson({"copy", src, Ref("plugins/a:1.0.0"), "-t", "latest"});
  PlugctlJson({"tag", Ref("plugins/a:1.0.0"), "1", "1.0"});
  nlohmann::json tags = PlugctlJson({"tags", Ref("plugins/a")});
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"1", "1.0", "1.0.0", "latest"}));
  PlugctlJson({"copy", src, Ref("plugins/b:1")});
  PlugctlJson({"copy", src, Ref("other/c:1")});
  nlohmann::json catalog = PlugctlJson({"catalog", registry_->host(), "--page-size", "1"});
  EXPECT_EQ(catalog["repositories"], nlohmann::json::array({"other/c", "plugins/a", "plugins/b"}));

  RunResult missing = Plugctl({"resolve", Ref("plugins/a:nope")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;

  // HOST/PREFIX lists one namespace ("plugins", not "plugins-old" or "other").
  PlugctlJson({"copy", src, Ref("plugins-old/d:1")});
  nlohmann::json ns = PlugctlJson({"catalog", registry_->host() + "/plugins"});
  EXPECT_EQ(ns["repositories"], nlohmann::json::array({"plugins/a", "plugins/b"}));
  RunResult ns_text = Plugctl({"catalog", registry_->host() + "/other/"});
  EXPECT_EQ(ns_text.out, "other/c\n") << ns_text.Summary();
  // ORAS's spellings, as the Higress docs use them.
  RunResult repo_ls = Plugctl({"repo", "ls", registry_->host() + "/other"});
  EXPECT_EQ(repo_ls.out, "other/c\n") << repo_ls.Summary();
  nlohmann::json repo_tags = PlugctlJson({"repo", "tags", Ref("plugins/a")});
  EXPECT_EQ(repo_tags["tags"], tags["tags"]);

  // inspect says which tag it resolved: the one named, or "latest" when none is.
  nlohmann::json inspected = PlugctlJson({"inspect", "--no-gateway", Ref("plugins/a")});
  EXPECT_EQ(inspected["tags"], nlohmann::json::array({"latest"}));
  RunResult inspected_text = Plugctl({"inspect", "--no-gateway", Ref("plugins/a:1.0")});
  EXPECT_NE(inspected_text.out.find("Tag:         1.0\n"), std::string::npos)
      << inspected_text.Summary();

  // docker-style tag SRC DST: a full reference in the same repository tags, another
  // repository gets a copy.
  nlohmann::json tagged = PlugctlJson(
      {"tag", Ref("plugins/a:1.0"), Ref("plugins/a:stable"), Ref("mirror/a:1.0"), "plain"});
  EXPECT_EQ(tagged["tags"], nlohmann::json::array({"stable", "plain"})) << tagged.dump(2);
  EXPECT_EQ(tagged["copiedTo"].size(), 1u) << tagged.dump(2);
  EXPECT_EQ(PlugctlJson({"resolve", Ref("mirror/a:1.0")})["digest"],
            PlugctlJson({"resolve", Ref("plugins/a:stable")})["digest"]);

  // An image without referrers says so.
  RunResult none = Plugctl({"referrers", Ref("plugins/a:1.0")});
  EXPECT_TRUE(none.ok()) << none.Summary();
  EXPECT_NE(none.out.find("no referrers"), std::string::npos) << none.out;
}

TEST_F(RegistryTest, CopyBetweenRepositoriesMountsBlobs) {
  Demo();
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", Ref("plugins/src:1")});
  nlohmann::json copied = PlugctlJson({"copy", Ref("plugins/src:1"), Ref("plugins/dst:1")});
  EXPECT_EQ(copied["blobsMounted"], 4);
  EXPECT_EQ(copied["blobsCopied"], 0);
  EXPECT_EQ(SkopeoDigest(Ref("plugins/dst:1")), SkopeoDigest(Ref("plugins/src:1")));
}

TEST_F(RegistryTest, ChunkedUploadOfLargeBlobs) {
  std::string big = RandomBytes(3 << 20, 7);
  std::string digest = WriteLayoutImage(dir_ / "big", "v1", {{.bytes = big, .title = "big.bin"}});
  nlohmann::json pushed = PlugctlJson(
      {"--chunk-size", "262144", "copy", "oci:" + Path("big") + ":v1", Ref("big/chunked:v1")});
  EXPECT_EQ(pushed["digest"], digest);
  nlohmann::json pulled =
      PlugctlJson({"copy", Ref("big/chunked:v1"), "oci:" + Path("back") + ":v1"});
  EXPECT_EQ(pulled["digest"], digest);
  EXPECT_EQ(ReadAll(dir_ / "back/blobs/sha256" / oci::Digest::Of(big).hex()), big);
}

TEST_F(RegistryTest, DeleteRefusesToDropOtherTagsSilently) {
  Demo();
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", Ref("plugins/del:1"), "-t", "2"});
  RunResult refused = Plugctl({"delete", Ref("plugins/del:1")});
  EXPECT_EQ(refused.exit_code, 1) << refused.Summary();
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;
  EXPECT_TRUE(Plugctl({"resolve", Ref("plugins/del:1")}).ok());
  RunResult deleted = Plugctl({"delete", "--yes", Ref("plugins/del:1")});
  EXPECT_TRUE(deleted.ok()) << deleted.Summary();
  EXPECT_EQ(Plugctl({"resolve", Ref("plugins/del:2")}).exit_code, 1);
}

// HTTP_PROXY (as docker and Go read it; libcurl alone reads only http_proxy) sends registry
// traffic through a proxy; NO_PROXY exempts hosts.
TEST_F(RegistryTest, HonoursHttpProxyAndNoProxy) {
  if (!HaveProgram("python3")) GTEST_SKIP() << "python3 not installed";
  Demo();
  const std::string port_file = Path("proxy.port");
  const std::string log = Path("proxy.log");
  Background proxy({"python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/http_proxy.py",
                    "--port-file", port_file, "--log", log},
                   Path("proxy.out"));
  for (int i = 0; i < 400 && !fs::exists(port_file); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(port_file));
  std::string port;
  std::ifstream(port_file) >> port;
  const std::string proxy_url = "http://127.0.0.1:" + port;
  auto lines = [&] {
    std::ifstream in(log);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.find(registry_->host()) != std::string::npos;
    return n;
  };

  std::vector<std::string> push = {PlugctlBinary(),
                                   "--format",
                                   "json",
                                   "copy",
                                   DemoLayout() + ":hello-world:1.0.0",
                                   Ref("plugins/hello-world:1.0.0")};
  RunResult via = RunProcess(
      push,
      {.env = {{"HTTP_PROXY", proxy_url}, {"http_proxy", ""}, {"NO_PROXY", ""}, {"no_proxy", ""}}});
  ASSERT_TRUE(via.ok()) << via.Summary();
  const int proxied = lines();
  EXPECT_GT(proxied, 3) << "requests did not go through the proxy";
  EXPECT_EQ(PlugctlJson({"resolve", Ref("plugins/hello-world:1.0.0")})["digest"],
            nlohmann::json::parse(via.out)["digest"]);

  RunResult direct = RunProcess({PlugctlBinary(), "tags", Ref("plugins/hello-world")},
                                {.env = {{"HTTP_PROXY", proxy_url},
                                         {"http_proxy", ""},
                                         {"NO_PROXY", "127.0.0.1"},
                                         {"no_proxy", ""}}});
  ASSERT_TRUE(direct.ok()) << direct.Summary();
  EXPECT_EQ(lines(), proxied) << "NO_PROXY was not honoured";
}

// distribution 2.8 has no referrers API: pushing an artifact with a subject maintains the
// "sha256-<hex>" tag schema index, and `referrers` reads it back.
TEST_F(RegistryTest, ReferrersFallBackToTheTagSchema) {
  Demo();
  PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", Ref("plugins/hello-world:1.0.0")});
  nlohmann::json subject = PlugctlJson({"resolve", Ref("plugins/hello-world:1.0.0")});

  // A signature-like artifact, written by hand as an OCI layout.
  const fs::path layout = dir_ / "sig";
  auto put = [&](const std::string& bytes) {
    std::string digest = oci::Digest::Of(bytes).ToString();
    fs::create_directories(layout / "blobs/sha256");
    std::ofstream(layout / "blobs/sha256" / digest.substr(7), std::ios::binary) << bytes;
    return digest;
  };
  const std::string empty = put("{}");
  const std::string sig = put("signature bytes");
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"artifactType", "application/vnd.example.signature.v1"},
      {"config",
       {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", empty}, {"size", 2}}},
      {"layers", {{{"mediaType", "application/octet-stream"}, {"digest", sig}, {"size", 15}}}},
      {"subject",
       {{"mediaType", subject["mediaType"]},
        {"digest", subject["digest"]},
        {"size", subject["size"]}}}};
  const std::string manifest_bytes = manifest.dump();
  const std::string manifest_digest = put(manifest_bytes);
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests",
                           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"digest", manifest_digest},
                             {"size", manifest_bytes.size()},
                             {"annotations", {{"org.opencontainers.image.ref.name", "sig"}}}}}}};
  std::ofstream(layout / "index.json") << index.dump();
  std::ofstream(layout / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";

  PlugctlJson({"copy", "oci:" + layout.string() + ":sig", Ref("plugins/hello-world:sig")});
  nlohmann::json tags = PlugctlJson({"tags", Ref("plugins/hello-world")});
  const std::string schema_tag = "sha256-" + subject["digest"].get<std::string>().substr(7);
  // docker-registry 2.8 has no referrers API, so the client keeps the tag-schema index; a
  // registry with the API (plugctl serve) needs none.
  const bool has_api = registry_->kind() == RegistryKind::kPlugctlServe;
  EXPECT_EQ(std::find(tags["tags"].begin(), tags["tags"].end(), schema_tag) != tags["tags"].end(),
            !has_api)
      << tags.dump();

  nlohmann::json found = PlugctlJson({"referrers", Ref("plugins/hello-world:1.0.0")});
  ASSERT_EQ(found["referrers"].size(), 1u) << found.dump(2);
  EXPECT_EQ(found["referrers"][0]["digest"], manifest_digest);
  EXPECT_EQ(found["referrers"][0]["artifactType"], "application/vnd.example.signature.v1");
  nlohmann::json filtered = PlugctlJson(
      {"referrers", Ref("plugins/hello-world:1.0.0"), "--artifact-type", "application/x-other"});
  EXPECT_EQ(filtered["referrers"].size(), 0u);
  // Pushing the same artifact again does not list it twice.
  PlugctlJson({"copy", "oci:" + layout.string() + ":sig", Ref("plugins/hello-world:sig2")});
  EXPECT_EQ(PlugctlJson({"referrers", Ref("plugins/hello-world:1.0.0")})["referrers"].size(), 1u);
}

class SecureRegistryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    registry_ = StartRegistryOrSkip(dir_ / "registry", {.tls = true, .htpasswd = true});
    if (!registry_) return;
    config_ = Path("docker-config/config.json");
  }
  std::vector<std::string> Flags(std::vector<std::string> args) {
    args.insert(args.begin(), {"--ca-file", registry_->ca_file(), "--registry-config", config_});
    return args;
  }
  RunResult Login(const std::string& password) {
    return Plugctl(
        Flags({"login", registry_->host(), "-u", registry_->config().user, "--password-stdin"}),
        {.stdin_data = password + "\n"});
  }
  std::string Ref(const std::string& repo_tag) const { return registry_->Ref(repo_tag); }

  std::unique_ptr<RegistryServer> registry_;
  std::string config_;
};

TEST_F(SecureRegistryTest, LoginPushLogoutRoundTrip) {
  Demo();
  std::string src = DemoLayout() + ":hello-world:1.0.0";
  RunResult anonymous = Plugctl(Flags({"copy", src, Ref("plugins/x:1")}));
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_NE(anonymous.err.find("plugctl login"), std::string::npos) << anonymous.err;

  RunResult bad = Login("wrong-password");
  EXPECT_EQ(bad.exit_code, 1) << bad.Summary();
  EXPECT_FALSE(std::filesystem::exists(config_));

  RunResult login = Login(registry_->config().password);
  ASSERT_TRUE(login.ok()) << login.Summary();
  nlohmann::json config = nlohmann::json::parse(ReadAll(config_));
  ASSERT_TRUE(config["auths"].contains(registry_->host())) << config.dump();
  EXPECT_EQ((std::filesystem::status(config_).permissions() & std::filesystem::perms::others_read),
            std::filesystem::perms::none);

  RunResult push = Plugctl(Flags({"copy", src, Ref("plugins/x:1")}));
  ASSERT_TRUE(push.ok()) << push.Summary();
  // skopeo accepts the credentials file plugctl wrote.
  std::filesystem::create_directories(dir_ / "certs");
  std::filesystem::copy_file(registry_->ca_file(), dir_ / "certs/ca.crt");
  RunResult skopeo = Skopeo({"inspect", "--raw", "--authfile", config_, "--cert-dir", Path("certs"),
                             "docker://" + Ref("plugins/x:1")});
  EXPECT_TRUE(skopeo.ok()) << skopeo.Summary();

  RunResult logout = Plugctl(Flags({"logout", registry_->host()}));
  EXPECT_TRUE(logout.ok()) << logout.Summary();
  RunResult after = Plugctl(Flags({"resolve", Ref("plugins/x:1")}));
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_NE(after.err.find("401"), std::string::npos) << after.err;
}

TEST_F(SecureRegistryTest, TlsVerificationNeedsTheCa) {
  RunResult r = Plugctl({"--registry-config", config_, "tags", Ref("plugins/x")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--ca-file"), std::string::npos) << r.err;
  // --insecure skips verification (and then meets the password prompt of the registry).
  RunResult insecure =
      Plugctl({"--insecure", "--registry-config", config_, "tags", Ref("plugins/x")});
  EXPECT_EQ(insecure.exit_code, 1);
  EXPECT_NE(insecure.err.find("401"), std::string::npos) << insecure.err;
}

// Mutual TLS: the registry requires a client certificate; --cert-file/--key-file present one.
TEST_F(CliTest, ClientCertificatesForMutualTls) {
  auto registry = StartRegistryOrSkip(dir_ / "mtls", {.tls = true, .client_certs = true});
  if (!registry) return;
  Demo();
  const std::string ref = registry->Ref("plugins/hello-world:1.0.0");
  RunResult without =
      Plugctl({"--ca-file", registry->ca_file(), "copy", DemoLayout() + ":hello-world:1.0.0", ref});
  EXPECT_EQ(without.exit_code, 1) << without.Summary();
  nlohmann::json pushed = PlugctlJson(
      {"--ca-file", registry->ca_file(), "--cert-file", registry->client_cert(), "--key-file",
       registry->client_key(), "copy", DemoLayout() + ":hello-world:1.0.0", ref});
  nlohmann::json resolved =
      PlugctlJson({"--ca-file", registry->ca_file(), "--cert-file", registry->client_cert(),
                   "--key-file", registry->client_key(), "resolve", ref});
  EXPECT_EQ(resolved["digest"], pushed["digest"]);

  // A client resuming its TLS session (curl does across parallel connections) is served: the
  // second handshake reuses the first one's session. (s_client's exit status is not checked:
  // docker-registry closes HTTP/1.0 connections without a close_notify, which OpenSSL 3 calls
  // an error; plugctl serve sends one.)
  const std::string session = (dir_ / "tls-session.pem").string();
  for (const char* flag : {"-sess_out", "-sess_in"}) {
    RunResult r = RunProcess({"openssl", "s_client", "-connect", registry->host(), "-CAfile",
                              registry->ca_file(), "-cert", registry->client_cert(), "-key",
                              registry->client_key(), flag, session, "-ign_eof"},
                             {.timeout = std::chrono::seconds(20),
                              .stdin_data = "GET /v2/ HTTP/1.0\r\nHost: x\r\n\r\n"});
    EXPECT_NE(r.out.find(" 200 OK"), std::string::npos) << flag << ": " << r.Summary();
    if (std::string(flag) == "-sess_in") {
      EXPECT_NE(r.out.find("Reused,"), std::string::npos) << r.Summary();
    }
  }
}

}  // namespace
}  // namespace plugctl::testing
