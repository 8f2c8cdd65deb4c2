#include "plugctl/cli/output.h"

#include <sstream>

#include <gtest/gtest.h>

namespace plugctl::cli {
namespace {

TEST(EscapeForTextTest, PrintableUtf8IsUnchanged) {
  EXPECT_EQ(EscapeForText("basic-auth:1.0.0"), "basic-auth:1.0.0");
  EXPECT_EQ(EscapeForText("C:\\path with spaces"), "C:\\path with spaces");
  EXPECT_EQ(EscapeForText("grüße 日本 🙂"), "grüße 日本 🙂");
  EXPECT_EQ(EscapeForText(""), "");
}

TEST(EscapeForTextTest, ControlCharactersBecomeCEscapes) {
  EXPECT_EQ(EscapeForText("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(EscapeForText("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(EscapeForText(std::string("\0\x07\x7f", 3)), "\\x00\\x07\\x7f");
  EXPECT_EQ(EscapeForText("x\nGateway:     loads it"), "x\\nGateway:     loads it");
}

TEST(EscapeForTextTest, InvalidUtf8BecomesHexBytes) {
  EXPECT_EQ(EscapeForText("a\xff"
                          "b"),
            "a\\xffb");
  EXPECT_EQ(EscapeForText("\xc3"), "\\xc3");                    // truncated
  EXPECT_EQ(EscapeForText("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(EscapeForText("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
}

TEST(EscapeForTextTest, DangerousCodePointsBecomeUnicodeEscapes) {
  EXPECT_EQ(EscapeForText("\xc2\x9b"
                          "31m"),
            "\\u009b31m");  // C1 CSI
  EXPECT_EQ(EscapeForText("a\xe2\x80\xa8"
                          "b"),
            "a\\u2028b");  // line separator
  EXPECT_EQ(EscapeForText("\xe2\x80\xae"
                          "gnp.exe"),
            "\\u202egnp.exe");                            // RLO
  EXPECT_EQ(EscapeForText("\xe2\x81\xa6x"), "\\u2066x");  // LRI
}

TEST(PrintTest, EscapesStringArgumentsButNotTheFormat) {
  std::ostringstream out;
  std::string tag = "evil\ntag";
  Print(out, "Tag: {} ({} bytes) {:<6}|\n", tag, 42, "a\x1b");
  EXPECT_EQ(out.str(), "Tag: evil\\ntag (42 bytes) a\\x1b |\n");
}

TEST(PrintTest, EscapeJoin) {
  EXPECT_EQ(EscapeJoin({"a", "b\nc"}), "a, b\\nc");
  EXPECT_EQ(EscapeJoin({}), "");
}

}  // namespace
TEST(CountTest, NounAgreesWithNumber) {
  EXPECT_EQ(Count(0, "blob"), "0 blobs");
  EXPECT_EQ(Count(1, "blob"), "1 blob");
  EXPECT_EQ(Count(2, "blob"), "2 blobs");
  EXPECT_EQ(Count(1, "repository", "repositories"), "1 repository");
  EXPECT_EQ(Count(5, "repository", "repositories"), "5 repositories");
}

}  // namespace plugctl::cli
