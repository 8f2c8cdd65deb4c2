#include "plugctl/registry/wire.h"

#include <string>

#include <gtest/gtest.h>

namespace plugctl::registry {
namespace {

using std::chrono::seconds;

TEST(ParseTokenReplyTest, TokenOrAccessTokenAndLifetime) {
  EXPECT_EQ(*ParseTokenReply(R"({"token":"t","expires_in":300})"),
            (TokenReply{.token = "t", .lifetime = seconds(300)}));
  EXPECT_EQ(ParseTokenReply(R"({"access_token":"a"})")->token, "a");
  EXPECT_EQ(ParseTokenReply(R"({"token":"","access_token":"a"})")->token, "a");
  EXPECT_EQ(ParseTokenReply(R"({"token":"t"})")->lifetime, seconds(60));
}

TEST(ParseTokenReplyTest, LifetimeIsClampedSoNoDeadlineOverflows) {
  EXPECT_EQ(ParseTokenReply(R"({"token":"t","expires_in":5})")->lifetime, seconds(60));
  EXPECT_EQ(ParseTokenReply(R"({"token":"t","expires_in":-9223372036854775808})")->lifetime,
            seconds(60));
  EXPECT_EQ(ParseTokenReply(R"({"token":"t","expires_in":9223372036854775807})")->lifetime,
            seconds(86400));
  EXPECT_EQ(ParseTokenReply(R"({"token":"t","expires_in":18446744073709551615})")->lifetime,
            seconds(86400));
  EXPECT_EQ(ParseTokenReply(R"({"token":"t","expires_in":"300"})")->lifetime, seconds(60));
}

TEST(ParseTokenReplyTest, RefusesWhatHoldsNoToken) {
  EXPECT_EQ(ParseTokenReply("{}").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ParseTokenReply(R"({"token":5})").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ParseTokenReply("[]").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseTokenReply("<html>").error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ParseTokenReply(std::string(100000, '[')));
}

TEST(ParseUploadRangeTest, InclusiveRangeIsBytesHeld) {
  EXPECT_EQ(*ParseUploadRange("0-1023"), 1024);
  EXPECT_EQ(*ParseUploadRange("bytes=0-9"), 10);
  EXPECT_EQ(*ParseUploadRange("0-0"), 1);
}

TEST(ParseUploadRangeTest, RefusesMalformedAndOverflowingValues) {
  for (const char* bad : {"", "0", "-5", "0-", "0--1", "0-x", "0-12 ", "a-b",
                          "0-9223372036854775807", "0-99999999999999999999", "0-1-2"}) {
    EXPECT_FALSE(ParseUploadRange(bad)) << bad;
  }
}

}  // namespace
}  // namespace plugctl::registry
