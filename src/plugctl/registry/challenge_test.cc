#include "plugctl/registry/challenge.h"

#include <gtest/gtest.h>

namespace plugctl::registry {
namespace {

TEST(ChallengeTest, BearerWithQuotedParams) {
  auto c = ParseChallenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/nginx:pull");
}

TEST(ChallengeTest, BasicAndCaseAndSpaces) {
  auto c = ParseChallenges(R"(BASIC  Realm = "plugctl test" )");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "plugctl test");
}

TEST(ChallengeTest, SeveralChallengesInOneHeader) {
  auto c = ParseChallenges(R"(Basic realm="a", Bearer realm="https://t/x",service="s")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["service"], "s");
}

TEST(ChallengeTest, EscapesAndUnquotedValues) {
  auto c = ParseChallenges(R"(Bearer realm="a\"b",error=insufficient_scope)");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params["realm"], "a\"b");
  EXPECT_EQ(c[0].params["error"], "insufficient_scope");
}

TEST(ChallengeTest, GarbageNeverHangsOrThrows) {
  for (const char* text : {"", ",,,", "=", "Bearer realm=\"unterminated", "Bearer ,", "\"\"\"",
                           "Bearer realm", "Bearer realm=", "a=b=c", "Basic abc=="}) {
    auto c = ParseChallenges(text);
    EXPECT_LE(c.size(), 2u) << text;
  }
}

}  // namespace
}  // namespace plugctl::registry
