#include "plugctl/transfer/semver.h"

#include <limits>
#include <utility>

#include <fmt/format.h>

namespace plugctl::transfer {
namespace {

// Range texts are echoed in errors; keep them printable and on one line.
std::string Shown(std::string_view text) { return PrintableForMessage(text, 128); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentifierChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}
bool IsWildcard(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

// A version as written in a range: `parts` numbers given, the rest (0) implied or wildcards.
struct Partial {
  SemVer version;
  int parts = 0;
};

// Parses "[v]N[.N[.N]][-pre][+build]"; with `wildcards`, x/X/* may replace trailing numbers.
// Returns the problem as an error message.
Result<Partial> ParseVersion(std::string_view text, bool wildcards) {
  auto fail = [&](std::string_view problem) {
    return MakeError(ErrorCode::kInvalidArgument, "version \"{}\" {}", Shown(text), problem);
  };
  std::string_view s = text;
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  if (s.empty()) return fail("is empty");

  Partial result;
  // semver 2.0.0 §10: build metadata after the first '+'; §9: the prerelease after the first
  // '-' (the core has no '-').
  std::string_view build;
  if (size_t plus = s.find('+'); plus != std::string_view::npos) {
    build = s.substr(plus + 1);
    s = s.substr(0, plus);
    if (build.empty()) return fail("has empty build metadata after '+'");
    size_t start = 0;
    while (true) {
      size_t dot = build.find('.', start);
      std::string_view id = build.substr(start, dot - start);
      if (id.empty()) return fail("has an empty build identifier");
      for (char c : id) {
        if (!IsIdentifierChar(c)) return fail("has invalid characters in its build metadata");
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    result.version.build = std::string(build);
  }
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    std::string_view pre = s.substr(dash + 1);
    s = s.substr(0, dash);
    if (pre.empty()) return fail("has an empty prerelease after '-'");
    size_t start = 0;
    while (true) {
      size_t dot = pre.find('.', start);
      std::string_view id = pre.substr(start, dot - start);
      if (id.empty()) return fail("has an empty prerelease identifier");
      for (char c : id) {
        if (!IsIdentifierChar(c)) return fail("has invalid characters in its prerelease");
      }
      // §9: numeric identifiers must not include leading zeros.
      if (AllDigits(id) && id.size() > 1 && id[0] == '0') {
        return fail("has a prerelease number with a leading zero");
      }
      result.version.prerelease.emplace_back(id);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }

  uint64_t* numbers[] = {&result.version.major, &result.version.minor, &result.version.patch};
  bool wildcard_seen = false;
  size_t index = 0;
  size_t start = 0;
  while (true) {
    if (index == 3) return fail("has more than three numbers");
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot - start);
    if (wildcards && IsWildcard(part)) {
      wildcard_seen = true;
    } else if (wildcard_seen) {
      return fail("has a number after a wildcard");
    } else {
      if (!AllDigits(part)) {
        return fail(part.empty() ? "has an empty number" : "has a part that is not a number");
      }
      if (part.size() > 1 && part[0] == '0') return fail("has a number with a leading zero");
      uint64_t value = 0;
      for (char c : part) {
        auto digit = static_cast<uint64_t>(c - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
          return fail("has a number too large for 64 bits");
        }
        value = value * 10 + digit;
      }
      *numbers[index] = value;
      ++result.parts;
    }
    ++index;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (wildcard_seen && (!result.version.prerelease.empty() || !build.empty())) {
    return fail("has a wildcard and a prerelease or build");
  }
  return result;
}

// Identifiers by semver 2.0.0 §11.4: numbers numerically (no leading zeros, so by length then
// text) and below alphanumerics, which compare in ASCII order.
int CompareIdentifiers(const std::string& a, const std::string& b) {
  bool a_num = AllDigits(a);
  bool b_num = AllDigits(b);
  if (a_num != b_num) return a_num ? -1 : 1;
  if (a_num && a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareNumbers(uint64_t a, uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

// The lowest version above every version the partial `p` stands for (1.2 → 1.3.0, 1 → 2.0.0);
// nullopt when there is none (a wildcard, or a number at its maximum).
std::optional<SemVer> UpperOf(const Partial& p) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const SemVer& v = p.version;
  if (p.parts == 2) {
    if (v.minor == kMax) return std::nullopt;
    return SemVer{v.major, v.minor + 1, 0, {}, {}};
  }
  if (p.parts == 1) {
    if (v.major == kMax) return std::nullopt;
    return SemVer{v.major + 1, 0, 0, {}, {}};
  }
  return std::nullopt;
}

}  // namespace

std::optional<SemVer> SemVer::Parse(std::string_view text) {
  Result<Partial> p = ParseVersion(text, /*wildcards=*/false);
  if (!p) return std::nullopt;
  return std::move(p->version);
}

int SemVer::Compare(const SemVer& other) const {
  if (int c = CompareNumbers(major, other.major); c != 0) return c;
  if (int c = CompareNumbers(minor, other.minor); c != 0) return c;
  if (int c = CompareNumbers(patch, other.patch); c != 0) return c;
  // §11.3: a prerelease has lower precedence than the release.
  if (prerelease.empty() || other.prerelease.empty()) {
    if (prerelease.empty() == other.prerelease.empty()) return 0;
    return prerelease.empty() ? 1 : -1;
  }
  for (size_t i = 0; i < prerelease.size() && i < other.prerelease.size(); ++i) {
    if (int c = CompareIdentifiers(prerelease[i], other.prerelease[i]); c != 0) return c;
  }
  return CompareNumbers(prerelease.size(), other.prerelease.size());
}

std::string SemVer::ToString() const {
  std::string out = fmt::format("{}.{}.{}", major, minor, patch);
  for (size_t i = 0; i < prerelease.size(); ++i) {
    out += i == 0 ? '-' : '.';
    out += prerelease[i];
  }
  if (!build.empty()) {
    out += '+';
    out += build;
  }
  return out;
}

bool SemverRange::Comparator::Matches(const SemVer& v) const {
  switch (op) {
    case Op::kEq:
      return v.Compare(version) == 0;
    case Op::kNe:
      return v.Compare(version) != 0;
    case Op::kGt:
      return v.Compare(version) > 0;
    case Op::kGe:
      return v.Compare(version) >= 0;
    case Op::kLt:
      return v.Compare(version) < 0;
    case Op::kLe:
      return v.Compare(version) <= 0;
    case Op::kOutside:
      return v.Compare(version) < 0 || v.Compare(upper) >= 0;
    case Op::kNever:
      return false;
  }
  return false;
}

Result<SemverRange> SemverRange::Parse(std::string_view text) {
  if (text.size() > kMaxSemverRangeBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "semver range is {} bytes, more than the limit of {}", text.size(),
                     kMaxSemverRangeBytes);
  }
  if (text.find_first_not_of(" \t") == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "empty semver range");
  }
  SemverRange range;
  size_t comparators = 0;
  size_t start = 0;
  while (true) {
    size_t bar = text.find("||", start);
    PLUGCTL_ASSIGN_OR_RETURN(Group group,
                             ParseGroup(text.substr(start, bar - start), text, &comparators));
    range.groups_.push_back(std::move(group));
    if (bar == std::string_view::npos) break;
    start = bar + 2;
  }
  return range;
}

Result<SemverRange::Group> SemverRange::ParseGroup(std::string_view text,
                                                   std::string_view range_text,
                                                   size_t* comparators) {
  using Op = Comparator::Op;
  auto fail = [&](const std::string& problem) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid semver range \"{}\": {}",
                     Shown(range_text), problem);
  };
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  if (text.find_first_not_of(" \t") == std::string_view::npos) {
    return fail("empty alternative next to \"||\"");
  }

  Group group;
  auto add = [&group](Op op, SemVer v) { group.push_back(Comparator{op, std::move(v), {}}); };
  auto add_upper_exclusive = [&](const Partial& p) {
    if (std::optional<SemVer> upper = UpperOf(p)) add(Op::kLt, std::move(*upper));
  };

  size_t i = 0;
  // Reads a version token (up to a space or ','), starting at `i`.
  auto read_token = [&] {
    size_t begin = i;
    while (i < text.size() && !is_space(text[i]) && text[i] != ',') ++i;
    return text.substr(begin, i - begin);
  };
  auto parse_token = [&](std::string_view token) -> Result<Partial> {
    Result<Partial> p = ParseVersion(token, /*wildcards=*/true);
    if (!p) return fail(p.error().message());
    if (p->parts < 3 && !p->version.prerelease.empty()) {
      return fail(
          fmt::format("version \"{}\" has a prerelease but not all three numbers", Shown(token)));
    }
    return p;
  };

  while (true) {
    while (i < text.size() && (is_space(text[i]) || text[i] == ',')) ++i;
    if (i == text.size()) break;
    if (++*comparators > kMaxSemverComparators) {
      return MakeError(ErrorCode::kResourceExhausted, "semver range has more than {} comparators",
                       kMaxSemverComparators);
    }
    // Two-character operators first; "=>", "=<" and "~>" are Masterminds spellings.
    static constexpr std::pair<std::string_view, std::string_view> kOperators[] = {
        {">=", ">="}, {"=>", ">="}, {"<=", "<="}, {"=<", "<="}, {"!=", "!="}, {"~>", "~"},
        {">", ">"},   {"<", "<"},   {"=", "="},   {"~", "~"},   {"^", "^"},
    };
    std::string_view op;
    for (const auto& [spelling, meaning] : kOperators) {
      if (text.substr(i, spelling.size()) == spelling) {
        op = meaning;
        i += spelling.size();
        break;
      }
    }
    while (i < text.size() && is_space(text[i])) ++i;
    std::string_view token = read_token();
    if (token.empty()) {
      return fail(fmt::format("operator \"{}\" has no version after it", op));
    }
    PLUGCTL_ASSIGN_OR_RETURN(Partial p, parse_token(token));
    const SemVer& v = p.version;
    const bool full = p.parts == 3;
    const bool any = p.parts == 0;

    // Hyphen range "A - B": the '-' stands alone between spaces.
    if (op.empty()) {
      size_t j = i;
      while (j < text.size() && is_space(text[j])) ++j;
      if (j > i && j < text.size() && text[j] == '-' &&
          (j + 1 == text.size() || is_space(text[j + 1]))) {
        i = j + 1;
        while (i < text.size() && is_space(text[i])) ++i;
        std::string_view upper_token = read_token();
        if (upper_token.empty()) {
          return fail(fmt::format("hyphen range \"{} -\" has no upper end", Shown(token)));
        }
        PLUGCTL_ASSIGN_OR_RETURN(Partial upper, parse_token(upper_token));
        if (!any) add(Op::kGe, v);
        if (upper.parts == 3) {
          add(Op::kLe, upper.version);
        } else {
          add_upper_exclusive(upper);  // "- 1.4" includes all of 1.4.x
        }
        continue;
      }
    }

    if (op.empty() || op == "=") {
      if (full) {
        add(Op::kEq, v);
      } else if (!any) {
        add(Op::kGe, v);
        add_upper_exclusive(p);
      }
    } else if (op == "!=") {
      if (full) {
        add(Op::kNe, v);
      } else if (any) {
        add(Op::kNever, {});
      } else if (std::optional<SemVer> upper = UpperOf(p)) {
        group.push_back(Comparator{Op::kOutside, v, std::move(*upper)});
      } else {
        add(Op::kLt, v);
      }
    } else if (op == ">") {
      // npm: >1.2 is above all of 1.2.x.
      if (full) {
        add(Op::kGt, v);
      } else if (std::optional<SemVer> upper = UpperOf(p)) {
        add(Op::kGe, std::move(*upper));
      } else {
        add(Op::kNever, {});
      }
    } else if (op == ">=") {
      if (!any) add(Op::kGe, v);
    } else if (op == "<") {
      if (any) {
        add(Op::kNever, {});
      } else {
        add(Op::kLt, v);
      }
    } else if (op == "<=") {
      if (full) {
        add(Op::kLe, v);
      } else {
        add_upper_exclusive(p);
      }
    } else if (op == "~") {
      if (!any) {
        add(Op::kGe, v);
        Partial minor_range = p;
        minor_range.parts = p.parts == 1 ? 1 : 2;  // ~1.2.3 and ~1.2 allow patches, ~1 minors
        add_upper_exclusive(minor_range);
      }
    } else if (op == "^") {
      if (!any) {
        add(Op::kGe, v);
        // The first non-zero number given may not change (or the last one given, if all are 0).
        Partial fixed = p;
        if (v.major > 0 || p.parts == 1) {
          fixed.parts = 1;
          add_upper_exclusive(fixed);
        } else if (v.minor > 0 || p.parts == 2) {
          fixed.parts = 2;
          add_upper_exclusive(fixed);
        } else if (v.patch < std::numeric_limits<uint64_t>::max()) {
          add(Op::kLt, SemVer{0, 0, v.patch + 1, {}, {}});
        }
      }
    }
  }
  return group;
}

bool SemverRange::Matches(const SemVer& version) const {
  for (const Group& group : groups_) {
    bool all = true;
    // npm: a prerelease only matches next to a comparator naming a prerelease of its release.
    bool prerelease_allowed = version.prerelease.empty();
    for (const Comparator& c : group) {
      if (!c.Matches(version)) {
        all = false;
        break;
      }
      if (!c.version.prerelease.empty() && c.version.major == version.major &&
          c.version.minor == version.minor && c.version.patch == version.patch) {
        prerelease_allowed = true;
      }
    }
    if (all && prerelease_allowed) return true;
  }
  return false;
}

}  // namespace plugctl::transfer
