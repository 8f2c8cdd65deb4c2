#include "plugctl/cli/registry_env.h"

#include <gtest/gtest.h>

namespace plugctl::cli {
namespace {

// A PasswordInput that answers from fixed strings and counts what was asked.
struct FakeInput {
  std::string stdin_text;
  bool terminal = false;
  int stdin_reads = 0;
  std::vector<std::string> prompts;

  PasswordInput Get() {
    PasswordInput input;
    input.read_stdin = [this]() -> Result<std::string> {
      ++stdin_reads;
      return stdin_text;
    };
    if (terminal) {
      input.prompt = [this](const std::string& prompt) {
        prompts.push_back(prompt);
        return std::string("typed-pass");
      };
    }
    return input;
  }
};

Result<SideConfig> Apply(const SideOptions& side, FakeInput& input) {
  return ApplySideOptions(GlobalOptions{}, side, "dest", input.Get());
}

TEST(ApplySideOptionsTest, UserAndPasswordOnTheCommandLine) {
  FakeInput input;
  auto config = Apply({.creds = "ci:p:with:colons"}, input);
  ASSERT_TRUE(config) << config.error().message();
  ASSERT_TRUE(config->creds);
  EXPECT_EQ(config->creds->username, "ci");
  EXPECT_EQ(config->creds->password, "p:with:colons");
  EXPECT_EQ(input.stdin_reads, 0);
  EXPECT_TRUE(input.prompts.empty());
}

TEST(ApplySideOptionsTest, UserAlonePromptsOnATerminal) {
  FakeInput input{.terminal = true};
  auto config = Apply({.creds = "ci"}, input);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->creds->password, "typed-pass");
  ASSERT_EQ(input.prompts.size(), 1u);
  EXPECT_EQ(input.prompts[0], "Password for ci (destination registry): ");
  EXPECT_EQ(input.stdin_reads, 0);
}

TEST(ApplySideOptionsTest, UserAloneReadsStdinWhenAsked) {
  FakeInput input{.stdin_text = "piped", .terminal = true};
  auto config = Apply({.creds = "ci", .password_stdin = true}, input);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->creds->password, "piped");
  EXPECT_EQ(input.stdin_reads, 1);
  EXPECT_TRUE(input.prompts.empty());
}

TEST(ApplySideOptionsTest, RefusalsNameTheOptionNeverTheSecret) {
  struct Case {
    SideOptions side;
    FakeInput input;
    std::string message;
  };
  std::vector<Case> cases = {
      {{.creds = "ci"}, {}, "--dest-password-stdin"},  // no terminal, no stdin flag
      {{.creds = "ci:secret-1", .password_stdin = true}, {}, "already has one"},
      {{.password_stdin = true}, {.stdin_text = "x"}, "give --dest-creds too"},
      {{.creds = ":secret-1"}, {}, "--dest-creds wants USER:PASS"},
      {{.creds = "ci:"}, {}, "--dest-creds wants USER:PASS"},
      {{.creds = "ci", .password_stdin = true}, {.stdin_text = ""}, "holds no password"},
  };
  for (Case& c : cases) {
    auto config = Apply(c.side, c.input);
    ASSERT_FALSE(config) << c.message;
    EXPECT_EQ(config.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(config.error().message().find(c.message), std::string::npos)
        << config.error().message();
    EXPECT_EQ(config.error().message().find("secret-1"), std::string::npos);
  }
}

TEST(SideEnvsTest, OnlyOneSideMayReadStdin) {
  SideOptions src{.creds = "a", .password_stdin = true};
  SideOptions dest{.creds = "b", .password_stdin = true};
  auto envs = SideEnvs::Make(GlobalOptions{}, src, dest);
  ASSERT_FALSE(envs);
  EXPECT_EQ(envs.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(envs.error().message().find("one stream"), std::string::npos);
}

}  // namespace
}  // namespace plugctl::cli
