#include "plugctl/transfer/semver.h"

#include <iterator>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plugctl::transfer {
namespace {

using ::testing::HasSubstr;

TEST(SemverParseTest, AcceptsVersions) {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"1.2.3", "1.2.3"},
      {"v1.2.3", "1.2.3"},
      {"V1.2.3", "1.2.3"},
      {"0.0.0", "0.0.0"},
      {"1", "1.0.0"},  // Masterminds' non-strict mode, as skopeo sync reads tags
      {"v1.2", "1.2.0"},
      {"1.2-beta", "1.2.0-beta"},
      {"1.2.3-rc.1", "1.2.3-rc.1"},
      {"1.0.0-alpha.beta+exp.sha.5114f85", "1.0.0-alpha.beta+exp.sha.5114f85"},
      {"1.0.0+20130313144700", "1.0.0+20130313144700"},
      {"1.0.0-0A.is-legal", "1.0.0-0A.is-legal"},
      {"1.0.0+001", "1.0.0+001"},  // build identifiers may have leading zeros
      {"18446744073709551615.0.0", "18446744073709551615.0.0"},
  };
  for (const Case& c : cases) {
    std::optional<SemVer> v = SemVer::Parse(c.text);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(v->ToString(), c.canonical) << c.text;
  }
  std::optional<SemVer> v = SemVer::Parse("v10.20.30-rc.1.x+b.7");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->major, 10u);
  EXPECT_EQ(v->minor, 20u);
  EXPECT_EQ(v->patch, 30u);
  EXPECT_EQ(v->prerelease, (std::vector<std::string>{"rc", "1", "x"}));
  EXPECT_EQ(v->build, "b.7");
}

TEST(SemverParseTest, RejectsMalformed) {
  for (const char* text : {
           "",
           "v",
           "vv1.2.3",
           "01.2.3",
           "1.02.3",
           "1.2.03",
           "1.2.3.4",
           "1..3",
           "1.2.",
           ".1.2",
           "-1.2.3",
           " 1.2.3",
           "1.2.3 ",
           "1.2.3-",
           "1.2.3+",
           "1.2.3-01",
           "1.2.3-a..b",
           "1.2.3-a.",
           "1.2.3+a..b",
           "1.2.3-a_b",
           "1.2.3+a+b",
           "18446744073709551616.0.0",
           "1.99999999999999999999.0",
           "x",
           "1.x",
           "*",
           "latest",
           "1.2.3_4",
       }) {
    EXPECT_FALSE(SemVer::Parse(text).has_value()) << text;
  }
}

TEST(SemverCompareTest, PrecedenceOfTheSpec) {
  // semver 2.0.0 §11, in ascending order.
  const char* ordered[] = {
      "0.9.9",      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
      "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
      "1.0.0",      "1.0.1",        "1.1.0",         "1.10.0",
      "2.0.0",      "10.0.0",
  };
  for (size_t i = 0; i < std::size(ordered); ++i) {
    for (size_t j = 0; j < std::size(ordered); ++j) {
      std::optional<SemVer> a = SemVer::Parse(ordered[i]);
      std::optional<SemVer> b = SemVer::Parse(ordered[j]);
      ASSERT_TRUE(a && b);
      int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(a->Compare(*b), expected) << ordered[i] << " vs " << ordered[j];
    }
  }
}

TEST(SemverCompareTest, BuildIgnoredAndHugePrereleaseNumbers) {
  EXPECT_EQ(SemVer::Parse("1.0.0+a")->Compare(*SemVer::Parse("1.0.0+b")), 0);
  EXPECT_EQ(SemVer::Parse("v1.0")->Compare(*SemVer::Parse("1.0.0")), 0);
  // Numeric identifiers beyond 64 bits still compare numerically.
  EXPECT_LT(SemVer::Parse("1.0.0-99999999999999999999")
                ->Compare(*SemVer::Parse("1.0.0-100000000000000000000")),
            0);
  EXPECT_LT(SemVer::Parse("1.0.0-999")->Compare(*SemVer::Parse("1.0.0-a")), 0);
  EXPECT_GT(SemVer::Parse("1.0.0-a.b")->Compare(*SemVer::Parse("1.0.0-a")), 0);
}

struct MatchCase {
  const char* range;
  const char* version;
  bool matches;
};

TEST(SemverRangeTest, Matches) {
  const MatchCase cases[] = {
      // Plain comparators.
      {"1.2.3", "1.2.3", true},
      {"=1.2.3", "1.2.3", true},
      {"=1.2.3", "1.2.4", false},
      {"v1.2.3", "1.2.3+build", true},
      {"!=1.2.3", "1.2.3", false},
      {"!=1.2.3", "1.2.4", true},
      {">1.2.3", "1.2.4", true},
      {">1.2.3", "1.2.3", false},
      {"<1.2.3", "1.2.2", true},
      {"<1.2.3", "1.2.3", false},
      {">=1.2.3", "1.2.3", true},
      {">= 1.2.3", "2.0.0", true},
      {"<=1.2.3", "1.2.3", true},
      {"<=1.2.3", "1.2.4", false},
      {"=>1.2.3", "1.2.3", true},
      {"=<1.2.3", "1.2.3", true},
      // Partial versions and wildcards.
      {"1.2", "1.2.9", true},
      {"1.2", "1.3.0", false},
      {"1.2.x", "1.2.0", true},
      {"1.2.X", "1.2.7", true},
      {"1.2.*", "1.3.0", false},
      {"1.x", "1.99.0", true},
      {"1.x.x", "2.0.0", false},
      {"1", "1.5.0", true},
      {"1", "0.9.0", false},
      {"*", "0.0.0", true},
      {"x", "99.0.0", true},
      {"*", "1.0.0-rc.1", false},  // no prerelease comparator: prereleases are out
      {">1.2", "1.2.9", false},    // above all of 1.2.x
      {">1.2", "1.3.0", true},
      {">1", "1.9.0", false},
      {">1", "2.0.0", true},
      {">=1.2", "1.2.0", true},
      {"<1.2", "1.1.9", true},
      {"<1.2", "1.2.0", false},
      {"<=1.2", "1.2.9", true},
      {"<=1.2", "1.3.0", false},
      {"<=1", "1.9.9", true},
      {"!=1.2", "1.2.5", false},
      {"!=1.2", "1.3.0", true},
      {"!=1.2", "1.1.0", true},
      {"!=*", "1.0.0", false},
      {">*", "1.0.0", false},
      {"<*", "1.0.0", false},
      {">=*", "1.0.0", true},
      // Tilde.
      {"~1.2.3", "1.2.3", true},
      {"~1.2.3", "1.2.9", true},
      {"~1.2.3", "1.3.0", false},
      {"~1.2.3", "1.2.2", false},
      {"~1.2", "1.2.0", true},
      {"~1.2", "1.3.0", false},
      {"~1", "1.9.0", true},
      {"~1", "2.0.0", false},
      {"~1.x", "1.9.0", true},
      {"~>1.2.3", "1.2.5", true},
      {"~ 1.2.3", "1.2.5", true},
      // Caret.
      {"^1.2.3", "1.2.3", true},
      {"^1.2.3", "1.9.0", true},
      {"^1.2.3", "2.0.0", false},
      {"^1.2.3", "1.2.2", false},
      {"^0.2.3", "0.2.9", true},
      {"^0.2.3", "0.3.0", false},
      {"^0.0.3", "0.0.3", true},
      {"^0.0.3", "0.0.4", false},
      {"^1.2", "1.9.0", true},
      {"^0.0", "0.0.9", true},
      {"^0.0", "0.1.0", false},
      {"^0", "0.9.0", true},
      {"^0", "1.0.0", false},
      {"^0.x", "0.5.0", true},
      // Hyphen ranges are inclusive; a partial upper end covers its whole range.
      {"1.2 - 1.4.5", "1.2.0", true},
      {"1.2 - 1.4.5", "1.4.5", true},
      {"1.2 - 1.4.5", "1.4.6", false},
      {"1.2 - 1.4.5", "1.1.9", false},
      {"1.2.3 - 1.4", "1.4.9", true},
      {"1.2.3 - 1.4", "1.5.0", false},
      {"1.2.3 - 2", "2.9.9", true},
      {"1.2.3 - 2", "3.0.0", false},
      {"* - 2.0.0", "0.1.0", true},
      // AND by comma or space, OR by ||.
      {">=1.0.0 <2.0.0", "1.5.0", true},
      {">=1.0.0 <2.0.0", "2.0.0", false},
      {">=1.0.0, <2.0.0", "1.0.0", true},
      {">= 1.0.0 , < 2.0.0", "0.9.0", false},
      {">=1.0.0,<2.0.0", "1.9.9", true},
      {"^1.0 || ^3.0", "3.1.0", true},
      {"^1.0 || ^3.0", "2.1.0", false},
      {"^1.0||^3.0", "1.1.0", true},
      {"1.2.3 - 1.2.5 || >=2", "2.0.0", true},
      // Prereleases: only next to a comparator naming a prerelease of the same release.
      {">=1.0.0", "1.3.0-rc.1", false},
      {">=1.3.0-beta", "1.3.0-rc.1", true},
      {">=1.3.0-beta", "1.3.0-alpha", false},
      {">=1.3.0-beta", "1.4.0-rc.1", false},
      {">=1.3.0-beta", "1.4.0", true},
      {">=1.3.0-beta <2", "1.3.0-rc.1", true},
      {"~1.2.3-beta.2", "1.2.3-beta.4", true},
      {"~1.2.3-beta.2", "1.2.4-beta.4", false},
      {"~1.2.3-beta.2", "1.2.4", true},
      {"^1.2.3-beta.2", "1.2.3-beta.1", false},
      {">=1.0.0-0 <1.0.0", "1.0.0-alpha", true},
      {"1.0.0 - 1.0.0-rc.2", "1.0.0-rc.1", false},  // 1.0.0 - ... : lower bound is 1.0.0
      {"0.9.0 - 1.0.0-rc.2", "1.0.0-rc.1", true},
      {"1.0.0-rc.1 || >=2", "1.0.0-rc.1", true},
      {"1.0.0-rc.1 || >=2", "2.0.0-rc.1", false},  // the prerelease is in another group
  };
  for (const MatchCase& c : cases) {
    Result<SemverRange> range = SemverRange::Parse(c.range);
    ASSERT_TRUE(range.has_value()) << c.range << ": " << range.error().message();
    std::optional<SemVer> version = SemVer::Parse(c.version);
    ASSERT_TRUE(version.has_value()) << c.version;
    EXPECT_EQ(range->Matches(*version), c.matches) << c.range << " on " << c.version;
  }
}

TEST(SemverRangeTest, HugeNumbersDoNotOverflow) {
  const MatchCase cases[] = {
      {"~18446744073709551615", "18446744073709551615.5.0", true},
      {"^18446744073709551615.1.1", "18446744073709551615.9.0", true},
      {"^0.0.18446744073709551615", "0.0.18446744073709551615", true},
      {">18446744073709551615", "18446744073709551615.0.0", false},
      {"<=0.18446744073709551615", "0.18446744073709551615.3", true},
      {"!=0.18446744073709551615", "0.18446744073709551615.3", false},
      {"!=0.18446744073709551615", "0.1.3", true},
  };
  for (const MatchCase& c : cases) {
    Result<SemverRange> range = SemverRange::Parse(c.range);
    ASSERT_TRUE(range.has_value()) << c.range << ": " << range.error().message();
    EXPECT_EQ(range->Matches(*SemVer::Parse(c.version)), c.matches) << c.range;
  }
}

TEST(SemverRangeTest, ErrorsNameTheBadPart) {
  struct Case {
    const char* range;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "empty semver range"},
      {"  ", "empty semver range"},
      {">=", "operator \">=\" has no version"},
      {">= ,1.0", "operator \">=\" has no version"},
      {"1.x.2", "version \"1.x.2\" has a number after a wildcard"},
      {">=01.2", "version \"01.2\" has a number with a leading zero"},
      {"1.2.3 ||", "empty alternative"},
      {"|| 1.2.3", "empty alternative"},
      {"1.2.3 |||| 2", "empty alternative"},
      {">=1.0.0 | <2", "version \"|\""},
      {"~1.2-beta", "has a prerelease but not all three numbers"},
      {"1.2.3 -", "hyphen range \"1.2.3 -\" has no upper end"},
      {"1.2.3 - 2.y", "version \"2.y\""},
      {">=a.b.c", "version \"a.b.c\""},
      {"1.2.3.4", "more than three numbers"},
      {"1.2.x-beta", "wildcard and a prerelease"},
      {"latest", "version \"latest\""},
      {">=1.0.0 <2.0.0 && >3", "version \"&&\""},
      {"99999999999999999999", "too large"},
  };
  for (const Case& c : cases) {
    Result<SemverRange> range = SemverRange::Parse(c.range);
    ASSERT_FALSE(range.has_value()) << c.range;
    EXPECT_EQ(range.error().code(), ErrorCode::kInvalidArgument) << c.range;
    EXPECT_THAT(range.error().message(), HasSubstr(c.message_part)) << c.range;
    EXPECT_EQ(range.error().message().find('\n'), std::string::npos);
  }
  Result<SemverRange> control = SemverRange::Parse(">=1.0\n<2 \x01");
  ASSERT_FALSE(control.has_value());
  EXPECT_EQ(control.error().message().find('\n'), std::string::npos);
}

TEST(SemverRangeTest, Limits) {
  std::string long_range(kMaxSemverRangeBytes + 1, ' ');
  long_range.replace(0, 5, "1.2.3");
  Result<SemverRange> too_long = SemverRange::Parse(long_range);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code(), ErrorCode::kResourceExhausted);

  std::string many;
  for (size_t i = 0; i < kMaxSemverComparators; ++i) many += ">=1 ";
  EXPECT_TRUE(SemverRange::Parse(many).has_value());
  many += "|| 2";
  Result<SemverRange> too_many = SemverRange::Parse(many);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(too_many.error().message(), HasSubstr("more than 64 comparators"));
}

}  // namespace
}  // namespace plugctl::transfer
