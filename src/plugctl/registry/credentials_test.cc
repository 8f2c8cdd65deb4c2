#include "plugctl/registry/credentials.h"

#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"

namespace plugctl::registry {
namespace {

class DockerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = std::move(*TempDir::Create("plugctl-cred-test")); }
  std::filesystem::path Write(const std::string& json) {
    auto path = dir_->path() / "config.json";
    std::ofstream(path) << json;
    return path;
  }
  std::unique_ptr<TempDir> dir_;
};

TEST(Base64Test, RoundTrip) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_FALSE(Base64Decode("a*b").has_value());
}

TEST_F(DockerConfigTest, MissingFileIsEmpty) {
  auto config = DockerConfig::Load(dir_->path() / "none.json");
  ASSERT_TRUE(config.has_value());
  auto cred = config->Get("reg.local");
  ASSERT_TRUE(cred.has_value());
  EXPECT_TRUE(cred->empty());
}

TEST_F(DockerConfigTest, ReadsAuthsInEverySpelling) {
  auto path = Write(R"({"auths": {
    "https://reg.local:5000/v1/": {"auth": "dXNlcjpwYXNz"},
    "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
    "tok.example": {"identitytoken": "refresh-me"}
  }})");
  auto config = DockerConfig::Load(path);
  ASSERT_TRUE(config.has_value()) << config.error().message();
  auto cred = config->Get("reg.local:5000");
  ASSERT_TRUE(cred.has_value());
  EXPECT_EQ(cred->username, "user");
  EXPECT_EQ(cred->password, "pass");
  auto hub = config->Get("docker.io");
  EXPECT_EQ(hub->username, "hub");
  EXPECT_EQ(config->Get("registry-1.docker.io")->password, "secret");
  EXPECT_EQ(config->Get("tok.example")->identity_token, "refresh-me");
  EXPECT_TRUE(config->Get("other.example")->empty());
}

TEST_F(DockerConfigTest, RejectsMalformedFiles) {
  EXPECT_FALSE(DockerConfig::Load(Write("{not json")).has_value());
  auto deep = DockerConfig::Load(
      Write("{\"auths\":" + std::string(100000, '[') + std::string(100000, ']') + "}"));
  ASSERT_FALSE(deep.has_value());
  EXPECT_NE(deep.error().message().find("config.json: JSON nested deeper than 64 levels"),
            std::string::npos)
      << deep.error().message();
  EXPECT_FALSE(DockerConfig::Load(Write(R"({"auths": []})")).has_value());
  auto bad_auth = DockerConfig::Load(Write(R"({"auths": {"r": {"auth": "bm9jb2xvbg=="}}})"));
  ASSERT_TRUE(bad_auth.has_value());
  auto cred = bad_auth->Get("r");
  ASSERT_FALSE(cred.has_value());
  EXPECT_NE(cred.error().message().find("user:password"), std::string::npos);
}

TEST_F(DockerConfigTest, StoreKeepsOtherFieldsAndIsPrivate) {
  auto path =
      Write(R"({"auths": {"https://reg.local/v1/": {"auth": "b2xkOm9sZA=="}}, "psFormat": "x"})");
  auto config = DockerConfig::Load(path);
  ASSERT_TRUE(config.has_value());
  ASSERT_TRUE(config->Store("reg.local", {.username = "new", .password = "pw"}).has_value());
  auto reread = DockerConfig::Load(path);
  EXPECT_EQ(reread->Get("reg.local")->username, "new");
  auto text = ReadFileBounded(path, 1 << 20);
  EXPECT_NE(text->find("psFormat"), std::string::npos);
  EXPECT_EQ(text->find("b2xkOm9sZA=="), std::string::npos);  // the old spelling is replaced
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);

  ASSERT_TRUE(reread->Erase("reg.local").has_value());
  EXPECT_TRUE(DockerConfig::Load(path)->Get("reg.local")->empty());
  EXPECT_EQ(reread->Erase("reg.local").error().code(), ErrorCode::kNotFound);
}

TEST_F(DockerConfigTest, CredentialHelperProtocol) {
  // A fake docker-credential-test helper on PATH speaking the protocol.
  auto bin = dir_->path() / "bin";
  std::filesystem::create_directories(bin);
  auto helper = bin / "docker-credential-test";
  std::ofstream(helper) << "#!/bin/sh\nread host\n"
                           "if [ \"$1\" = get ] && [ \"$host\" = reg.local ]; then\n"
                           "  echo '{\"ServerURL\":\"reg.local\",\"Username\":\"helper-user\","
                           "\"Secret\":\"helper-secret\"}'\n"
                           "else echo 'credentials not found in native keychain'; exit 1; fi\n";
  std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
  std::string old_path = std::getenv("PATH");
  setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
  auto config = DockerConfig::Load(Write(R"({"credHelpers": {"reg.local": "test"}})"));
  auto cred = config->Get("reg.local");
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(cred.has_value()) << cred.error().message();
  EXPECT_EQ(cred->username, "helper-user");
  EXPECT_EQ(cred->password, "helper-secret");
}

TEST_F(DockerConfigTest, MissingHelperIsAClearError) {
  auto config = DockerConfig::Load(Write(R"({"credsStore": "nonexistent-helper"})"));
  auto cred = config->Get("reg.local");
  ASSERT_FALSE(cred.has_value());
  EXPECT_NE(cred.error().message().find("docker-credential-nonexistent-helper"), std::string::npos)
      << cred.error().message();
}

}  // namespace
}  // namespace plugctl::registry
