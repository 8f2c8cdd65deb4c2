// The registry client against a real docker-registry (distribution 2.8) on
// 127.0.0.1, with skopeo as an independent second client.
#include <fstream>

#include "fixture.h"
#include "image_factory.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class RegistryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    std::string why;
    registry_ = RegistryServer::Start(dir_ / "registry", RegistryConfig{}, &why);
    if (!registry_) GTEST_SKIP() << why;
  }
  std::string Ref(const std::string& repo_tag) const { return registry_->host() + "/" + repo_tag; }

  std::string SkopeoDigest(const std::string& ref) {
    RunResult r = Skopeo({"inspect", "--raw", "--tls-verify=false", "docker://" + ref});
    EXPECT_TRUE(r.ok()) << r.Summary();
    return oci::Digest::Of(r.out).ToString();
  }

  std::unique_ptr<RegistryServer> registry_;
};

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
  std::string docker_src = "docker-archive:" + Path("demo/hello-world.docker.tar");
  RunResult r =
      Skopeo({"copy", "--dest-tls-verify=false", docker_src, "docker://" + Ref("skopeo/docker:1")});
  ASSERT_TRUE(r.ok()) << r.Summary();
  r = Skopeo({"copy", "--dest-tls-verify=false", "--format", "oci", docker_src,
              "docker://" + Ref("skopeo/oci:1")});
  ASSERT_TRUE(r.ok()) << r.Summary();

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

class SecureRegistryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    std::string why;
    registry_ = RegistryServer::Start(dir_ / "registry", {.tls = true, .htpasswd = true}, &why);
    if (!registry_) GTEST_SKIP() << why;
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
  std::string Ref(const std::string& repo_tag) const { return registry_->host() + "/" + repo_tag; }

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

}  // namespace
}  // namespace plugctl::testing
