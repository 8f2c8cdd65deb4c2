// Per-side registry options of copy and mirror (--src-…/--dest-…, as skopeo has them) between
// two real docker-registry peers: a plain-HTTP one without auth and a TLS one with htpasswd.
// Only per-side options are given, so each side must get its own transport and credentials.
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"

namespace plugctl::testing {
namespace {

class SideOptionsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    plain_ = StartRegistryOrSkip(dir_ / "plain");
    if (!plain_) return;
    secure_ = StartRegistryOrSkip(dir_ / "secure", {.tls = true, .htpasswd = true});
    if (!secure_) return;
    // An empty credentials file: nothing but the command line may authenticate.
    std::filesystem::create_directories(dir_ / "docker-config");
    env_config_ = Path("docker-config/config.json");
    std::ofstream(env_config_) << "{}";
    Demo();
    RunResult seeded = Plugctl(
        {"copy", DemoLayout() + ":hello-world:1.0.0", plain_->Ref("plugins/hello-world:1.0.0")});
    ASSERT_TRUE(seeded.ok()) << seeded.Summary();
  }
  std::string Creds(const std::string& password) const {
    return secure_->config().user + ":" + password;
  }
  // Global options that must not authenticate or trust anything by themselves.
  std::vector<std::string> Cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--registry-config", env_config_});
    return args;
  }

  std::unique_ptr<RegistryServer> plain_;
  std::unique_ptr<RegistryServer> secure_;
  std::string env_config_;
};

TEST_F(SideOptionsTest, CopyPlainToSecureAndBack) {
  const std::string src = plain_->Ref("plugins/hello-world:1.0.0");
  const std::string dst = secure_->Ref("plugins/hello-world:1.0.0");
  nlohmann::json pushed =
      PlugctlJson(Cmd({"copy", "--src-plain-http", "--dest-ca-file", secure_->ca_file(),
                       "--dest-creds", Creds(secure_->config().password), src, dst}));
  nlohmann::json original = PlugctlJson(Cmd({"resolve", src}));
  EXPECT_EQ(pushed["digest"], original["digest"]);

  // The reverse, with skopeo's spelling of the TLS switch on the source.
  nlohmann::json back = PlugctlJson(
      Cmd({"copy", "--src-tls-verify=false", "--src-creds", Creds(secure_->config().password),
           "--dest-plain-http", dst, plain_->Ref("plugins/back:1.0.0")}));
  EXPECT_EQ(back["digest"], original["digest"]);
  EXPECT_EQ(PlugctlJson(Cmd({"resolve", plain_->Ref("plugins/back:1.0.0")}))["digest"],
            original["digest"]);

  // The destination's options are not the source's: without --dest-ca-file TLS fails.
  RunResult no_ca = Plugctl(Cmd({"copy", "--src-ca-file", secure_->ca_file(), "--dest-creds",
                                 Creds(secure_->config().password), src, dst}));
  EXPECT_EQ(no_ca.exit_code, 1) << no_ca.Summary();
}

TEST_F(SideOptionsTest, WrongCredentialsNameTheSideAndStaySecret) {
  const std::string src = plain_->Ref("plugins/hello-world:1.0.0");
  const std::string dst = secure_->Ref("plugins/x:1");
  const std::string secret = "wrong-pass-7b1e";
  RunResult dest = Plugctl(Cmd({"--debug", "copy", "--dest-ca-file", secure_->ca_file(),
                                "--dest-creds", Creds(secret), src, dst}));
  EXPECT_EQ(dest.exit_code, 1) << dest.Summary();
  EXPECT_NE(dest.err.find("destination"), std::string::npos) << dest.err;

  EXPECT_EQ(dest.err.find(secret), std::string::npos) << dest.err;
  EXPECT_EQ(dest.out.find(secret), std::string::npos) << dest.out;

  RunResult source =
      Plugctl(Cmd({"--debug", "copy", "--src-ca-file", secure_->ca_file(), "--src-creds",
                   Creds(secret), secure_->Ref("plugins/any:1"), "oci:" + Path("out")}));
  EXPECT_EQ(source.exit_code, 1) << source.Summary();
  EXPECT_NE(source.err.find("source"), std::string::npos) << source.err;
  EXPECT_EQ(source.err.find(secret), std::string::npos) << source.err;

  // A password without a user (USER alone asks for the password: bulk_pull_test.cc).
  RunResult malformed =
      Plugctl(Cmd({"copy", "--src-creds", ":only-a-pass", src, "oci:" + Path("o")}));
  EXPECT_EQ(malformed.exit_code, 1) << malformed.Summary();
  EXPECT_NE(malformed.err.find("--src-creds wants USER:PASS"), std::string::npos) << malformed.err;
  EXPECT_EQ(malformed.err.find("only-a-pass"), std::string::npos) << malformed.err;
}

TEST_F(SideOptionsTest, MirrorWithPerSideOptions) {
  const std::string src = plain_->Ref("plugins/hello-world:1.0.0");
  const std::vector<std::string> dest_opts = {"--dest-ca-file", secure_->ca_file(), "--dest-creds",
                                              Creds(secure_->config().password)};
  std::vector<std::string> args = {"mirror", "--src-plain-http", src, "--to",
                                   secure_->host() + "/mirrored"};
  args.insert(args.end(), dest_opts.begin(), dest_opts.end());
  RunResult mirrored = Plugctl(Cmd(args));
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();

  nlohmann::json check =
      PlugctlJson(Cmd({"copy", "--src-ca-file", secure_->ca_file(), "--src-creds",
                       Creds(secure_->config().password),
                       secure_->Ref("mirrored/hello-world:1.0.0"), "oci:" + Path("check")}));
  EXPECT_EQ(check["digest"], PlugctlJson(Cmd({"resolve", src}))["digest"]);

  // Wrong destination credentials fail the run, naming the destination, never the secret.
  const std::string secret = "wrong-pass-93c0";
  RunResult bad = Plugctl(Cmd({"mirror", src, "--to", secure_->host() + "/other", "--dest-ca-file",
                               secure_->ca_file(), "--dest-creds", Creds(secret)}));
  EXPECT_NE(bad.exit_code, 0) << bad.Summary();
  EXPECT_NE((bad.err + bad.out).find(secure_->host() + "/other"), std::string::npos)
      << bad.Summary();
  EXPECT_EQ((bad.err + bad.out).find(secret), std::string::npos) << bad.Summary();
}

}  // namespace
}  // namespace plugctl::testing
