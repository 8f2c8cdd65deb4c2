#include "plugctl/server/auth.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "plugctl/base/clock.h"
#include "plugctl/base/file.h"

namespace plugctl::server {
namespace {

using ::testing::HasSubstr;

constexpr unsigned kAll = kActionPull | kActionPush | kActionDelete;

std::string Base64(std::string_view data) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Basic(std::string_view user, std::string_view password) {
  return "Basic " + Base64(std::string(user) + ":" + std::string(password));
}

// One "user:hash" line, as the real tool writes it.
std::string HtpasswdLine(const std::string& user, const std::string& password) {
  std::string command = "htpasswd -nbB '" + user + "' '" + password + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  char buf[256];
  while (pipe != nullptr && std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  if (pipe != nullptr) {
    EXPECT_EQ(::pclose(pipe), 0);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// bcrypt is slow by design; hash each test password once per process.
const std::string& AliceLine() {
  static const std::string line = HtpasswdLine("alice", "secret");
  return line;
}
const std::string& BobLine() {
  static const std::string line = HtpasswdLine("bob", "hunter2");
  return line;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("auth-test");
    ASSERT_TRUE(dir) << dir.error().message();
    dir_ = std::move(*dir);
    clock_ = std::make_shared<FakeClock>();
    options_.token_key_file = Path("token.key");
    options_.clock = clock_;
  }

  fs::path Path(const std::string& name) const { return dir_->path() / name; }

  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(Path(name), text));
  }

  void UseHtpasswd(const std::string& text) {
    Write("htpasswd", text);
    options_.htpasswd_file = Path("htpasswd");
  }

  void UseAccess(const std::string& yaml) {
    Write("access.yaml", yaml);
    options_.access_file = Path("access.yaml");
  }

  std::unique_ptr<Authorizer> Make() {
    auto auth = Authorizer::Create(options_);
    EXPECT_TRUE(auth) << auth.error().message();
    return auth ? std::move(*auth) : nullptr;
  }

  // The granted actions, or -1 for UNAUTHORIZED.
  static int Granted(Authorizer& auth, const std::string& header, const std::string& repository,
                     unsigned wanted = kAll) {
    auto result = auth.Check(header, repository, wanted);
    if (!result) {
      EXPECT_EQ(result.error().code, ApiCode::kUnauthorized);
      return -1;
    }
    return static_cast<int>(result->granted);
  }

  static std::string Token(Authorizer& auth, const std::string& header,
                           const std::vector<std::string>& scopes) {
    auto body = auth.IssueToken(header, scopes);
    EXPECT_TRUE(body) << body.error().message;
    if (!body) return "";
    auto json = nlohmann::json::parse(*body);
    EXPECT_EQ(json["token"], json["access_token"]);
    return json["token"].get<std::string>();
  }

  std::unique_ptr<TempDir> dir_;
  std::shared_ptr<FakeClock> clock_;
  AuthOptions options_;
};

TEST(ScopeTest, Parses) {
  auto scope = ParseScope("repository:a/b:pull,push");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->repository, "a/b");
  EXPECT_EQ(scope->actions, kActionPull | kActionPush);
  EXPECT_EQ(FormatScope(*scope), "repository:a/b:pull,push");

  scope = ParseScope("repository:a:*");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->actions, kAll);
  EXPECT_EQ(FormatScope(*scope), "repository:a:pull,push,delete");

  scope = ParseScope("repository:my-org/my_repo.x/y__z:delete,bogus,pull,");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->repository, "my-org/my_repo.x/y__z");
  EXPECT_EQ(scope->actions, kActionPull | kActionDelete);

  scope = ParseScope("repository:a:");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->actions, kActionNone);
}

TEST(ScopeTest, RefusesMalformed) {
  for (std::string_view text :
       std::vector<std::string_view>{"",
                                     "repository",
                                     "repository:",
                                     "repository:a",
                                     "repository::pull",
                                     "registry:catalog:*",
                                     "Repository:a:pull",
                                     "repository:A:pull",
                                     "repository:a//b:pull",
                                     "repository:/a:pull",
                                     "repository:a/:pull",
                                     "repository:a/../b:pull",
                                     "repository:localhost:5000/a:pull",
                                     "repository:a b:pull",
                                     "repository:-a:pull",
                                     "repository:a___b:pull",
                                     "repository:a\n:pull",
                                     "repository:a:pull push",
                                     "repository:a:pull\t",
                                     std::string_view("repository:a\0b:pull", 19)}) {
    EXPECT_FALSE(ParseScope(text)) << text;
  }
  EXPECT_FALSE(ParseScope("repository:" + std::string(2000, 'a') + ":pull"));
  EXPECT_FALSE(ParseScope("repository:a:" + std::string(9000, ',')));
  EXPECT_TRUE(ParseScope("repository:a:" + std::string(8000, ',')));
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(RepositoryGlobMatch("plugins/*", "plugins/x"));
  EXPECT_FALSE(RepositoryGlobMatch("plugins/*", "plugins/x/y"));
  EXPECT_FALSE(RepositoryGlobMatch("plugins/*", "plugins"));
  EXPECT_TRUE(RepositoryGlobMatch("team/**", "team/a/b/c"));
  EXPECT_TRUE(RepositoryGlobMatch("team/**", "team/a"));
  EXPECT_FALSE(RepositoryGlobMatch("team/**", "teams/a"));
  EXPECT_TRUE(RepositoryGlobMatch("**", "anything/at/all"));
  EXPECT_TRUE(RepositoryGlobMatch("*", "a"));
  EXPECT_FALSE(RepositoryGlobMatch("*", "a/b"));
  EXPECT_TRUE(RepositoryGlobMatch("*/*", "a/b"));
  EXPECT_TRUE(RepositoryGlobMatch("a*b", "ab"));
  EXPECT_TRUE(RepositoryGlobMatch("a*b", "axxb"));
  EXPECT_FALSE(RepositoryGlobMatch("a*b", "ax/xb"));
  EXPECT_TRUE(RepositoryGlobMatch("a**b", "ax/xb"));
  EXPECT_TRUE(RepositoryGlobMatch("**/leaf", "x/y/leaf"));
  EXPECT_FALSE(RepositoryGlobMatch("**/leaf", "leaf"));
  EXPECT_TRUE(RepositoryGlobMatch("exact/name", "exact/name"));
  EXPECT_FALSE(RepositoryGlobMatch("exact/name", "exact/names"));
  EXPECT_FALSE(RepositoryGlobMatch("a.b", "axb"));  // '.' is literal
  EXPECT_FALSE(RepositoryGlobMatch("", "a"));
  EXPECT_TRUE(RepositoryGlobMatch("", ""));
}

TEST(GlobTest, HostilePatternsStayFast) {
  std::string name(8000, 'a');
  std::string pattern;
  for (int i = 0; i < 200; ++i) pattern += "*a";
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(RepositoryGlobMatch(pattern + "b", name));
  EXPECT_FALSE(RepositoryGlobMatch("**a**a**a**a**a**a**a**a**a**a**a**b", name));
  EXPECT_TRUE(RepositoryGlobMatch(pattern, name));
  EXPECT_FALSE(RepositoryGlobMatch("**", std::string(9000, 'a')));  // over the bound
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(AuthTest, WithoutHtpasswdEveryoneMayDoEverything) {
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_FALSE(auth->enabled());
  EXPECT_EQ(Granted(*auth, "", "plugins/x"), static_cast<int>(kAll));
  // Credentials mean nothing without users: a client sending stale ones still gets in.
  EXPECT_EQ(Granted(*auth, Basic("x", "y"), "plugins/x"), static_cast<int>(kAll));
  EXPECT_EQ(Granted(*auth, "garbage", "plugins/x", kActionPull), static_cast<int>(kActionPull));
  auto result = auth->Check("", "a", kAll);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->user, "");
  EXPECT_EQ(auth->FilterPullable(*result, {"a", "b/c"}), (std::vector<std::string>{"a", "b/c"}));
}

TEST_F(AuthTest, AccessFileWithoutHtpasswdLimitsAnonymous) {
  UseAccess(R"(
- user: anonymous
  repositories: ["public/**"]
  actions: [pull]
)");
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(Granted(*auth, "", "public/a/b"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, "", "private/a"), 0);
}

TEST_F(AuthTest, BasicCredentials) {
  UseHtpasswd(AliceLine() + "\n# a comment\n\n" + BobLine() + "\r\n");
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->enabled());
  auto ok = auth->Check(Basic("alice", "secret"), "plugins/x", kActionPull | kActionPush);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->user, "alice");
  EXPECT_EQ(ok->granted, kActionPull | kActionPush);
  // Cached the second time; same answer.
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "x"), static_cast<int>(kAll));
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), static_cast<int>(kAll));
  EXPECT_EQ(Granted(*auth, "bAsIc " + Base64("bob:hunter2"), "x"), static_cast<int>(kAll));

  EXPECT_EQ(Granted(*auth, Basic("alice", "wrong"), "x"), -1);
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret "), "x"), -1);
  EXPECT_EQ(Granted(*auth, Basic("alice", std::string("secret\0x", 8)), "x"), -1);
  EXPECT_EQ(Granted(*auth, Basic("carol", "secret"), "x"), -1);
  EXPECT_EQ(Granted(*auth, Basic("", "secret"), "x"), -1);
  EXPECT_EQ(Granted(*auth, "Basic " + Base64("alicesecret"), "x"), -1);
  EXPECT_EQ(Granted(*auth, "Basic !!!!", "x"), -1);
  EXPECT_EQ(Granted(*auth, "Basic", "x"), -1);
  EXPECT_EQ(Granted(*auth, "Basic ", "x"), -1);
  EXPECT_EQ(Granted(*auth, "Digest abc", "x"), -1);
  EXPECT_EQ(Granted(*auth, "Basic " + std::string(9000, 'A'), "x"), -1);

  // Anonymous is not refused outright: it is granted nothing, and the caller challenges.
  auto anonymous = auth->Check("", "x", kAll);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->user, "");
  EXPECT_EQ(anonymous->granted, kActionNone);
  // Registry-wide requests: only authentication matters.
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "", kActionPull),
            static_cast<int>(kActionPull));
}

TEST_F(AuthTest, AnonymousRead) {
  UseHtpasswd(AliceLine() + "\n");
  options_.anonymous_read = true;
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(Granted(*auth, "", "any/repo"), static_cast<int>(kActionPull));
  auto anonymous = auth->Check("", "", kActionPull);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(auth->FilterPullable(*anonymous, {"a", "b"}), (std::vector<std::string>{"a", "b"}));
}

TEST_F(AuthTest, RefusesBadHtpasswd) {
  UseHtpasswd(AliceLine() + "\n\nbob:$apr1$Kq59GpjK$quSDQrsLfn2ki.MmAO0vW/\n");
  auto auth = Authorizer::Create(options_);
  ASSERT_FALSE(auth);
  EXPECT_THAT(auth.error().message(), HasSubstr("htpasswd:3:"));
  EXPECT_THAT(auth.error().message(), HasSubstr("bob"));

  for (const std::string& text :
       {std::string("carol:{SHA}x\n"), std::string("no colon here\n"),
        AliceLine() + "\n" + AliceLine() + "\n",
        "anonymous:" + AliceLine().substr(AliceLine().find(':') + 1) + "\n"}) {
    UseHtpasswd(text);
    EXPECT_FALSE(Authorizer::Create(options_)) << text;
  }
  options_.htpasswd_file = Path("missing");
  EXPECT_FALSE(Authorizer::Create(options_));
}

TEST_F(AuthTest, ReloadsChangedHtpasswd) {
  UseHtpasswd(AliceLine() + "\n");
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), -1);

  UseHtpasswd(AliceLine() + "\n" + BobLine() + "\n");
  // Within the second the file is not looked at again.
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), -1);
  clock_->Advance(std::chrono::seconds(1));
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), static_cast<int>(kAll));
  EXPECT_FALSE(auth->LastReloadError());

  // A broken edit keeps the users that were there.
  UseHtpasswd(BobLine() + "\nmallory:plaintext\n");
  clock_->Advance(std::chrono::seconds(2));
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "x"), static_cast<int>(kAll));
  ASSERT_TRUE(auth->LastReloadError());
  EXPECT_THAT(auth->LastReloadError()->message(), HasSubstr("htpasswd:2:"));

  // Fixed: alice is gone, bob stays, the error clears.
  UseHtpasswd(BobLine() + "\n");
  clock_->Advance(std::chrono::seconds(2));
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "x"), -1);
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), static_cast<int>(kAll));
  EXPECT_FALSE(auth->LastReloadError());

  // Removed: the users stay, the error says why.
  ASSERT_TRUE(RemoveAll(Path("htpasswd")));
  clock_->Advance(std::chrono::seconds(2));
  EXPECT_EQ(Granted(*auth, Basic("bob", "hunter2"), "x"), static_cast<int>(kAll));
  EXPECT_TRUE(auth->LastReloadError());
}

TEST_F(AuthTest, AccessFileRules) {
  UseHtpasswd(AliceLine() + "\n" + BobLine() + "\n");
  UseAccess(R"(
- user: alice
  repositories: ["plugins/*", "team/**"]
  actions: [pull, push, delete]
- user: alice
  repositories: "**"
  actions: pull
- user: "*"
  repositories: ["shared/*"]
  actions: ["*"]
- user: anonymous
  repositories: ["public/**"]
  actions: [pull]
)");
  auto auth = Make();
  ASSERT_TRUE(auth);
  const std::string alice = Basic("alice", "secret");
  const std::string bob = Basic("bob", "hunter2");
  EXPECT_EQ(Granted(*auth, alice, "plugins/x"), static_cast<int>(kAll));
  EXPECT_EQ(Granted(*auth, alice, "plugins/x/y"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, alice, "team/a/b"), static_cast<int>(kAll));
  // First match wins: alice's "**" rule comes before "*".
  EXPECT_EQ(Granted(*auth, alice, "shared/x"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, bob, "shared/x"), static_cast<int>(kAll));
  EXPECT_EQ(Granted(*auth, bob, "plugins/x"), 0);
  EXPECT_EQ(Granted(*auth, bob, "public/x"), 0);  // "anonymous" is not every user
  EXPECT_EQ(Granted(*auth, "", "public/x/y"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, "", "shared/x"), 0);  // "*" is not anonymous
  EXPECT_EQ(Granted(*auth, alice, "plugins/x", kActionPush), static_cast<int>(kActionPush));

  auto who = auth->Check(bob, "", kActionPull);
  ASSERT_TRUE(who);
  EXPECT_EQ(auth->FilterPullable(*who, {"plugins/x", "shared/a", "shared/a/b", "public/p"}),
            (std::vector<std::string>{"shared/a"}));
}

TEST_F(AuthTest, AnonymousReadAddsToAccessFile) {
  UseHtpasswd(AliceLine() + "\n");
  UseAccess("- user: anonymous\n  repositories: [\"up/*\"]\n  actions: [push]\n");
  options_.anonymous_read = true;
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(Granted(*auth, "", "up/a"), static_cast<int>(kActionPull | kActionPush));
  EXPECT_EQ(Granted(*auth, "", "other"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "other"), 0);
}

TEST_F(AuthTest, AccessFileErrorsNameFileLineAndRule) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"- user: a\n  repositories: [x]\n  actions: [pull]\n"
            "- user: b\n  repositories: [x]\n  actions: [pull, pul]\n",
            "access.yaml:6: rule 2: unknown action \"pul\""},
           {"- user: a\n  repositories: [x]\n  actions: [pull]\n  extra: 1\n",
            "rule 1: unknown key \"extra\""},
           {"- user: a\n  actions: [pull]\n", "rule 1: needs user, repositories and actions"},
           {"- user: [a]\n  repositories: [x]\n  actions: [pull]\n", "rule 1: \"user\""},
           {"- user: a\n  repositories: [[x]]\n  actions: [pull]\n", "rule 1: \"repositories\""},
           {"- user: a\n  repositories: [\"\"]\n  actions: [pull]\n", "rule 1: empty entry"},
           {"user: a\n", "expected a list of rules"},
           {"- just a string\n", "rule 1: expected a map"},
           {"- user: a\n  repositories: [x\n", "access.yaml:"},
           {"- user: a\n  repositories: [x]\n  actions: [*]\n", "access.yaml:"},
       }) {
    UseAccess(c.yaml);
    auto auth = Authorizer::Create(options_);
    ASSERT_FALSE(auth) << c.yaml;
    EXPECT_THAT(auth.error().message(), HasSubstr(c.expected)) << c.yaml;
  }
  UseAccess("");  // an empty file: no rules, nobody gets anything
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(Granted(*auth, "", "x"), 0);
}

TEST_F(AuthTest, TokenRoundTrip) {
  UseHtpasswd(AliceLine() + "\n");
  options_.token_ttl = std::chrono::seconds(60);
  auto auth = Make();
  ASSERT_TRUE(auth);
  auto body = auth->IssueToken(Basic("alice", "secret"), {"repository:plugins/x:pull,push"});
  ASSERT_TRUE(body) << body.error().message;
  auto json = nlohmann::json::parse(*body);
  EXPECT_EQ(json["expires_in"], 60);
  EXPECT_THAT(json["issued_at"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  const std::string token = json["token"].get<std::string>();
  const std::string bearer = "Bearer " + token;

  auto result = auth->Check(bearer, "plugins/x", kAll);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->user, "alice");
  EXPECT_EQ(result->granted, kActionPull | kActionPush);
  EXPECT_EQ(Granted(*auth, "bearer  " + token + " ", "plugins/x", kActionPull),
            static_cast<int>(kActionPull));
  // Another repository: the token grants nothing there, whatever alice could do.
  EXPECT_EQ(Granted(*auth, bearer, "plugins/y"), 0);
  EXPECT_EQ(Granted(*auth, bearer, "plugins"), 0);
  EXPECT_EQ(Granted(*auth, bearer, "", kActionPull), static_cast<int>(kActionPull));

  // The key is kept: a restarted server accepts the token.
  struct stat st;
  ASSERT_EQ(::stat(Path("token.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto restarted = Make();
  ASSERT_TRUE(restarted);
  EXPECT_EQ(Granted(*restarted, bearer, "plugins/x"), static_cast<int>(kActionPull | kActionPush));

  // Expired.
  clock_->Advance(std::chrono::seconds(59));
  EXPECT_EQ(Granted(*auth, bearer, "plugins/x"), static_cast<int>(kActionPull | kActionPush));
  clock_->Advance(std::chrono::seconds(1));
  EXPECT_EQ(Granted(*auth, bearer, "plugins/x"), -1);
}

TEST_F(AuthTest, RefusesForgedTokens) {
  UseHtpasswd(AliceLine() + "\n");
  auto auth = Make();
  ASSERT_TRUE(auth);
  const std::string token =
      Token(*auth, Basic("alice", "secret"), {"repository:plugins/x:pull,push"});
  ASSERT_FALSE(token.empty());
  size_t dot = token.find('.');
  ASSERT_NE(dot, std::string::npos);

  std::string tampered_payload = token;
  tampered_payload[dot / 2] = tampered_payload[dot / 2] == 'A' ? 'B' : 'A';
  std::string tampered_mac = token;
  tampered_mac[dot + 3] = tampered_mac[dot + 3] == 'A' ? 'B' : 'A';
  // Claims of our own making, signed with some other key.
  std::string other_payload = token.substr(0, dot) + ".";

  for (const std::string& bad :
       {tampered_payload, tampered_mac, other_payload, token.substr(0, dot), token + "x",
        token + "." + token.substr(dot + 1), std::string("."), std::string("a.b"),
        std::string(9000, 'a') + token}) {
    EXPECT_EQ(Granted(*auth, "Bearer " + bad, "plugins/x"), -1) << bad;
  }
  EXPECT_EQ(Granted(*auth, "Bearer", "plugins/x"), -1);
  EXPECT_EQ(Granted(*auth, "Token " + token, "plugins/x"), -1);

  // A server with another key, or another service name, refuses it.
  options_.token_key_file = Path("other.key");
  auto other = Make();
  ASSERT_TRUE(other);
  EXPECT_EQ(Granted(*other, "Bearer " + token, "plugins/x"), -1);
  options_.token_key_file = Path("token.key");
  options_.service = "elsewhere";
  auto elsewhere = Make();
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(Granted(*elsewhere, "Bearer " + token, "plugins/x"), -1);
}

TEST_F(AuthTest, IssueTokenIntersectsWithPolicy) {
  UseHtpasswd(AliceLine() + "\n" + BobLine() + "\n");
  UseAccess(R"(
- user: alice
  repositories: ["plugins/*"]
  actions: [pull]
- user: bob
  repositories: ["**"]
  actions: ["*"]
- user: anonymous
  repositories: ["public/*"]
  actions: [pull]
)");
  auto auth = Make();
  ASSERT_TRUE(auth);
  // Space-joined scopes, repeated parameters, and a catalog scope that is not for a repository.
  const std::string token =
      Token(*auth, Basic("alice", "secret"),
            {"repository:plugins/x:pull,push repository:other/y:pull", "registry:catalog:*",
             "repository:plugins/z:push", "repository:plugins/z:pull"});
  const std::string bearer = "Bearer " + token;
  EXPECT_EQ(Granted(*auth, bearer, "plugins/x"), static_cast<int>(kActionPull));
  EXPECT_EQ(Granted(*auth, bearer, "other/y"), 0);
  EXPECT_EQ(Granted(*auth, bearer, "plugins/z"), static_cast<int>(kActionPull));

  const std::string bob = Token(*auth, Basic("bob", "hunter2"), {"repository:a:*"});
  EXPECT_EQ(Granted(*auth, "Bearer " + bob, "a"), static_cast<int>(kAll));

  // Anonymous gets a token too (docker expects one), with what anonymous may do.
  const std::string anonymous = Token(*auth, "", {"repository:public/p:pull,push"});
  auto result = auth->Check("Bearer " + anonymous, "public/p", kAll);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->user, "");
  EXPECT_EQ(result->granted, kActionPull);
  // Nothing asked, nothing granted, still a token.
  EXPECT_EQ(Granted(*auth, "Bearer " + Token(*auth, Basic("bob", "hunter2"), {}), "a"), 0);

  auto bad = auth->IssueToken(Basic("alice", "nope"), {"repository:plugins/x:pull"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ApiCode::kUnauthorized);
  bad = auth->IssueToken("Bearer " + token, {"repository:plugins/x:pull"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ApiCode::kUnauthorized);

  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) many.push_back("repository:r" + std::to_string(i) + ":pull");
  bad = auth->IssueToken(Basic("bob", "hunter2"), many);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ApiCode::kTooLarge);
  many.pop_back();
  EXPECT_TRUE(auth->IssueToken(Basic("bob", "hunter2"), many));
}

// Basic checks, token checks and a reload at once (meant for the tsan preset).
TEST_F(AuthTest, ConcurrentChecks) {
  UseHtpasswd(AliceLine() + "\n" + BobLine() + "\n");
  auto auth = Make();
  ASSERT_TRUE(auth);
  const std::string bearer =
      "Bearer " + Token(*auth, Basic("bob", "hunter2"), {"repository:a:pull"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(Granted(*auth, Basic("alice", "secret"), "a"), static_cast<int>(kAll));
        EXPECT_EQ(Granted(*auth, Basic("alice", "nope"), "a"), -1);
        EXPECT_EQ(Granted(*auth, bearer, "a"), static_cast<int>(kActionPull));
        if (t == 0 && i % 10 == 0) clock_->Advance(std::chrono::seconds(1));
      }
    });
  }
  UseHtpasswd(AliceLine() + "\n");
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(auth->LastReloadError());
}

TEST_F(AuthTest, ChallengeEscapes) {
  auto auth = Make();
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->Challenge("https://h/token", std::nullopt),
            "Bearer realm=\"https://h/token\",service=\"plugctl\"");
  EXPECT_EQ(auth->Challenge("http://h/token", Scope{"a/b", kActionPull | kActionPush}),
            "Bearer realm=\"http://h/token\",service=\"plugctl\","
            "scope=\"repository:a/b:pull,push\"");
  EXPECT_EQ(auth->Challenge("x\"y\\z\r\nSet-Cookie: a", std::nullopt),
            "Bearer realm=\"x\\\"y\\\\zSet-Cookie: a\",service=\"plugctl\"");
}

TEST_F(AuthTest, KeyFileProblems) {
  Write("token.key", "short");
  auto auth = Authorizer::Create(options_);
  ASSERT_FALSE(auth);
  EXPECT_THAT(auth.error().message(), HasSubstr("token.key"));

  // No key file: an in-memory key still signs and verifies, for this process only.
  UseHtpasswd(AliceLine() + "\n");
  options_.token_key_file.clear();
  auto ephemeral = Make();
  ASSERT_TRUE(ephemeral);
  const std::string token = Token(*ephemeral, Basic("alice", "secret"), {"repository:a:pull"});
  EXPECT_EQ(Granted(*ephemeral, "Bearer " + token, "a"), static_cast<int>(kActionPull));
  auto another = Make();
  ASSERT_TRUE(another);
  EXPECT_EQ(Granted(*another, "Bearer " + token, "a"), -1);
}

}  // namespace
}  // namespace plugctl::server
