#include "plugctl/oci/json.h"

#include <gtest/gtest.h>

namespace plugctl::oci {
namespace {

std::string Nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonDepthTest, LimitIsExact) {
  EXPECT_TRUE(CheckJsonDepth(Nested(64), "doc"));
  EXPECT_TRUE(ParseJson(Nested(64), "doc"));
  auto too_deep = ParseJson(Nested(65), "index.json");
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(too_deep.error().message(), "index.json: JSON nested deeper than 64 levels");
  EXPECT_TRUE(CheckJsonDepth(Nested(3), "doc", 3));
  EXPECT_FALSE(CheckJsonDepth(Nested(4), "doc", 3));
}

TEST(JsonDepthTest, ObjectsAndArraysBothCount) {
  std::string mixed;
  for (int i = 0; i < 40; ++i) mixed += "{\"a\":[";
  mixed += "1";
  for (int i = 0; i < 40; ++i) mixed += "]}";
  auto parsed = ParseJson(mixed, "manifest");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("deeper than 64"), std::string::npos);
  EXPECT_TRUE(ParseJson(mixed, "manifest", 80));
}

TEST(JsonDepthTest, BracketsInStringsDoNotCount) {
  std::string text = "{\"a\":\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') +
                     "\\\\\",\"b\":[\"]]]]\"]}";
  auto parsed = ParseJson(text, "doc", 2);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ((*parsed)["b"][0], "]]]]");
}

TEST(JsonDepthTest, SequentialContainersDoNotAccumulate) {
  std::string text = "[";
  for (int i = 0; i < 10000; ++i) text += (i ? ",[[]]" : "[[]]");
  text += "]";
  EXPECT_TRUE(ParseJson(text, "doc", 3));
}

TEST(JsonDepthTest, HugeDepthFailsWithoutCrashing) {
  EXPECT_FALSE(ParseJson(Nested(1'000'000), "doc"));
  EXPECT_FALSE(ParseJson(Nested(1'000'000, '{', '}'), "doc"));
  // Unbalanced closers first cannot hide depth.
  EXPECT_FALSE(CheckJsonDepth(std::string(100, ']') + Nested(65), "doc"));
}

TEST(JsonDepthTest, InvalidJsonNamesTheDocument) {
  auto parsed = ParseOrderedJson("{ not json", "credentials file");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message(), "credentials file: not valid JSON");
  auto ordered = ParseOrderedJson(R"({"b":1,"a":2})", "doc");
  ASSERT_TRUE(ordered);
  EXPECT_EQ(ordered->begin().key(), "b");
}

TEST(JsonDepthTest, NulByteIsInvalidNotTheEnd) {
  // nlohmann alone would stop at the NUL and accept "\"a\"".
  auto parsed = ParseJson(std::string("\"a\"\0{\"junk\"", 10), "doc");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message(), "doc: not valid JSON");
}

}  // namespace
}  // namespace plugctl::oci
