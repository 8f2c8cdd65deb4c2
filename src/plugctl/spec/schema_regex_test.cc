#include "plugctl/spec/schema_regex.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace plugctl::spec {
namespace {

struct MatchCase {
  std::string pattern;
  std::string subject;
  bool matches;
};

TEST(SchemaRegexTest, EcmaScriptSemantics) {
  const MatchCase cases[] = {
      // Unanchored, like RegExp.prototype.test.
      {"b", "abc", true},
      {"^b", "abc", false},
      {"^(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$", "1d2h", true},
      {"^(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$", "1x", false},
      // `$` is the very end only (PCRE would also match before a final newline).
      {"^a$", "a\n", false},
      {"^a$", "a", true},
      // `.` stops at line terminators.
      {"^a.b$", "a\nb", false},
      {"^a.b$", "a\rb", false},
      {"^a.b$", "a-b", true},
      // Code points, not bytes.
      {"^.$", "\xe4\xb8\xad", true},
      {"^.{2}$", "\xc3\xa9\xc3\xa9", true},
      // \d and \w are ASCII.
      {"^\\d$", "\xd9\xa3", false},  // ARABIC-INDIC DIGIT THREE
      {"^\\w+$", "abc_1", true},
      // \uHHHH and \u{...} escapes.
      {"^\\u4e2d$", "\xe4\xb8\xad", true},
      {"^\\u{1F600}$", "\xf0\x9f\x98\x80", true},
      {"^\\x41$", "A", true},
      // [^] matches anything, [] nothing.
      {"^[^]$", "\n", true},
      {"a[]", "a", false},
      // Back-reference to a group that did not take part matches empty.
      {"^(?:(a)|b)\\1$", "b", true},
      // Named groups and lookahead/lookbehind.
      {"^(?<year>\\d{4})-(?=\\d)", "2024-1", true},
      {"(?<!\\$)\\d+", "$5 7", true},
      {"^[a-z0-9-]+$", "basic-auth", true},
      {"^[a-z0-9-]+$", "Basic", false},
  };
  for (const MatchCase& c : cases) {
    Result<EcmaRegex> re = EcmaRegex::Compile(c.pattern);
    ASSERT_TRUE(re) << c.pattern << ": " << re.error().message();
    Result<bool> m = re->Search(c.subject);
    ASSERT_TRUE(m) << c.pattern << ": " << m.error().message();
    EXPECT_EQ(*m, c.matches) << c.pattern << " on " << c.subject;
  }
}

TEST(SchemaRegexTest, InvalidPatternsDoNotCompile) {
  for (std::string pattern : {"(", "[a-", "a{2,1}", "\\", "(?<n>a)(?<n>b)", "a**"}) {
    Result<EcmaRegex> re = EcmaRegex::Compile(pattern);
    ASSERT_FALSE(re) << pattern;
    EXPECT_EQ(re.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(re.error().message().find("offset"), std::string::npos);
  }
}

TEST(SchemaRegexTest, HugePatternIsRefused) {
  Result<EcmaRegex> re = EcmaRegex::Compile(std::string(kMaxPatternBytes + 1, 'a'));
  ASSERT_FALSE(re);
  EXPECT_EQ(re.error().code(), ErrorCode::kResourceExhausted);
}

TEST(SchemaRegexTest, CatastrophicBacktrackingIsBounded) {
  for (std::string pattern : {"^(a+)+$", "^(a|a)*$", "^(a|aa)+$", "(x+x+)+y"}) {
    Result<EcmaRegex> re = EcmaRegex::Compile(pattern);
    ASSERT_TRUE(re);
    std::string subject =
        pattern == "(x+x+)+y" ? std::string(5000, 'x') : std::string(5000, 'a') + "!";
    auto start = std::chrono::steady_clock::now();
    Result<bool> m = re->Search(subject);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(2)) << pattern;
    if (!m) {
      EXPECT_EQ(m.error().code(), ErrorCode::kResourceExhausted) << pattern;
    }
  }
  Result<EcmaRegex> re = EcmaRegex::Compile("^(a+)+$");
  Result<bool> m = re->Search(std::string(40, 'a') + "!");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kResourceExhausted);
}

TEST(SchemaRegexTest, InvalidUtf8SubjectIsAnError) {
  Result<EcmaRegex> re = EcmaRegex::Compile("a");
  ASSERT_TRUE(re);
  Result<bool> m = re->Search(
      "\xff"
      "a");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SchemaRegexTest, CopiesShareTheCompiledPattern) {
  Result<EcmaRegex> re = EcmaRegex::Compile("^x");
  ASSERT_TRUE(re);
  EcmaRegex copy = *re;
  EXPECT_EQ(copy.pattern(), "^x");
  EXPECT_TRUE(*copy.Search("xy"));
}

TEST(SchemaRegexTest, NonEcmaScriptSyntax) {
  struct Case {
    std::string pattern;
    std::string expected;  // substring of the first finding, empty for none
  };
  const Case cases[] = {
      {"^[a-z]+$", ""},
      {"(?:a)(?=b)(?!c)(?<=d)(?<!e)(?<name>f)", ""},
      {"\\Aabc\\z", "\\A"},
      {"abc\\Z", "\\Z"},
      {"(?i)abc", "(?i"},
      {"(?P<n>a)", "(?P"},
      {"a++", "possessive"},
      {"a{2}+", "possessive"},
      {"[[:alpha:]]", "POSIX"},
      {"\\Qa.b\\E", "\\Q"},
      {"[\\A]", ""},  // inside a class, \A is just 'A' to both
      {"\\\\A", ""},  // escaped backslash then A
  };
  for (const Case& c : cases) {
    std::vector<std::string> found = NonEcmaScriptSyntax(c.pattern);
    if (c.expected.empty()) {
      EXPECT_TRUE(found.empty()) << c.pattern << ": " << (found.empty() ? "" : found[0]);
    } else {
      ASSERT_FALSE(found.empty()) << c.pattern;
      EXPECT_NE(found[0].find(c.expected), std::string::npos) << c.pattern << ": " << found[0];
    }
  }
}

}  // namespace
}  // namespace plugctl::spec
