// plugctl/transfer/semver.h — semantic versions of image tags and ranges over them, for
// `plugctl mirror` lists (`semver: '>=1.0.0 <2.0.0'`, skopeo sync's images-by-semver).
//
// Versions follow semver 2.0.0 precedence. Parsing is as lenient as Masterminds/semver's
// NewVersion (what skopeo sync uses on tags): an optional leading 'v', and "1" or "1.2" for
// 1.0.0 and 1.2.0. It is strict where semver is: no leading zeros in numbers, no empty
// identifiers, nothing after the build metadata.
//
// Ranges use the Masterminds/npm constraint syntax:
//   =1.2.3 !=1.2.3 >1.2.3 <1.2.3 >=1.2.3 <=1.2.3   (no operator means =)
//   ~1.2.3  >=1.2.3 <1.3.0      ~1.2  >=1.2.0 <1.3.0      ~1  >=1.0.0 <2.0.0   (~> is ~)
//   ^1.2.3  >=1.2.3 <2.0.0      ^0.2.3 >=0.2.3 <0.3.0     ^0.0.3 >=0.0.3 <0.0.4
//   1.2.x 1.x * (x, X and * are wildcards; a partial version is a wildcard too: 1.2 is 1.2.x)
//   1.2 - 1.4.5  >=1.2.0 <=1.4.5   (inclusive; a partial upper end covers its range: - 1.4 is
//   <1.5.0)
//   >=1.0.0, <2.0.0   or   >=1.0.0 <2.0.0   (AND)        ^1.0 || ^2.0   (OR)
// As in npm, a prerelease version (1.3.0-rc.1) matches only if a comparator of the same AND
// group names a prerelease of the same major.minor.patch (>=1.3.0-beta); `>=1.0.0` alone
// never selects release candidates.
//
//   std::optional<SemVer> v = SemVer::Parse("v1.2.3-rc.1");
//   PLUGCTL_ASSIGN_OR_RETURN(SemverRange r, SemverRange::Parse(">=1.2.0 <2"));
//   bool ok = r.Matches(*v);  // false: a prerelease, and no comparator names 1.2.3-…
//
// Thread-safe: immutable value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"

namespace plugctl::transfer {

// Range texts longer than this, or with more comparators, are refused (kResourceExhausted).
inline constexpr size_t kMaxSemverRangeBytes = 1024;
inline constexpr size_t kMaxSemverComparators = 64;

struct SemVer {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers after '-'
  std::string build;                    // after '+', ignored by Compare

  // nullopt unless `text` is a version as described above.
  static std::optional<SemVer> Parse(std::string_view text);

  // <0, 0, >0 by semver precedence: numbers, then a prerelease is lower than none, then the
  // prerelease identifiers (numeric ones numerically and below alphanumeric ones).
  int Compare(const SemVer& other) const;

  // "1.2.3-rc.1+build" (no 'v', all three numbers).
  std::string ToString() const;
};

// A parsed constraint: an OR of AND groups of comparators.
class SemverRange {
 public:
  // kInvalidArgument naming the bad part ("invalid semver range \">=1.x.2\": ..."),
  // kResourceExhausted over kMaxSemverRangeBytes or kMaxSemverComparators.
  [[nodiscard]] static Result<SemverRange> Parse(std::string_view text);

  bool Matches(const SemVer& version) const;

 private:
  // What the written comparators are lowered to (~1.2 becomes >=1.2.0 and <1.3.0).
  struct Comparator {
    enum class Op { kEq, kNe, kGt, kGe, kLt, kLe, kOutside, kNever };
    Op op = Op::kEq;
    SemVer version;
    SemVer upper;  // kOutside: matches versions outside [version, upper)

    bool Matches(const SemVer& v) const;
  };
  // All of a group's comparators must match; an empty group matches any release.
  using Group = std::vector<Comparator>;

  SemverRange() = default;
  // One AND group (the text between "||"s); `comparators` counts across the whole range.
  static Result<Group> ParseGroup(std::string_view text, std::string_view range_text,
                                  size_t* comparators);

  std::vector<Group> groups_;
};

}  // namespace plugctl::transfer
