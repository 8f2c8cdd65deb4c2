#include "plugctl/base/env.h"

#include <cstring>

#include <gtest/gtest.h>

namespace plugctl {
namespace {

TEST(EnvironmentTest, CaptureReadsOnlyKnownVariablesAndSkipsEmpty) {
  std::vector<std::string> asked;
  Environment env = Environment::Capture([&](const char* name) -> const char* {
    asked.emplace_back(name);
    if (std::strcmp(name, "HOME") == 0) return "/home/u";
    if (std::strcmp(name, "TMPDIR") == 0) return "";
    if (std::strcmp(name, "PATH") == 0) return "/bin";
    return nullptr;
  });
  EXPECT_EQ(asked.size(), Environment::kVariables.size());
  EXPECT_EQ(env.Get("HOME"), "/home/u");
  EXPECT_EQ(env.Get("TMPDIR"), "");
  EXPECT_EQ(env.Get("PATH"), "");
  EXPECT_EQ(env, (Environment{{"HOME", "/home/u"}}));
}

TEST(EnvironmentTest, GetFirstSkipsUnsetAndEmpty) {
  Environment env{{"http_proxy", ""}, {"HTTP_PROXY", "http://p:1"}};
  EXPECT_EQ(env.GetFirst({"http_proxy", "HTTP_PROXY"}), "http://p:1");
  EXPECT_EQ(env.GetFirst({"all_proxy"}), "");
}

}  // namespace
}  // namespace plugctl
