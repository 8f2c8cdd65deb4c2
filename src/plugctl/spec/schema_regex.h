// plugctl/spec/schema_regex.h — the regular expressions of OpenAPI `pattern` keywords.
//
// OpenAPI 3.0 says a `pattern` is an ECMA-262 regular expression, used unanchored (like
// RegExp.prototype.test). std::regex has neither ECMAScript's Unicode handling nor any bound on
// backtracking, so patterns are compiled with PCRE2 in a mode close to ECMAScript:
//   - UTF-8 subjects, code-point semantics; \d \w \s \b are ASCII as in ECMAScript without /u;
//   - \uHHHH and \u{H...} escapes (PCRE2_ALT_BSUX + PCRE2_EXTRA_ALT_BSUX);
//   - `$` matches only at the very end (PCRE2_DOLLAR_ENDONLY); `.` stops at line terminators;
//   - `[]` matches nothing and `[^]` anything (PCRE2_ALLOW_EMPTY_CLASS);
//   - a back-reference to a group that did not match matches the empty string.
// Known gaps: lookbehind must have a bounded length (PCRE2 refuses others), and Perl-only syntax
// that ECMAScript rejects is accepted by PCRE2 — NonEcmaScriptSyntax() spots the common cases so
// that a spec check can warn.
//
// Matching is bounded: every match runs under PCRE2 match, depth and heap limits, so a hostile
// pattern such as ^(a+)+$ gives up with kResourceExhausted instead of hanging.
//
//   PLUGCTL_ASSIGN_OR_RETURN(EcmaRegex re, EcmaRegex::Compile("^(\\d+d)?(\\d+h)?$"));
//   Result<bool> m = re.Search("1d2h");   // true
//
// Thread-safe: a compiled EcmaRegex is immutable and may be shared; copies share the code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"

namespace plugctl::spec {

// Patterns longer than this are refused (real ones are under 100 bytes).
inline constexpr size_t kMaxPatternBytes = 8 * 1024;
// PCRE2 match limit per Search (roughly: backtracking steps). Real patterns use a few dozen.
inline constexpr uint32_t kRegexMatchLimit = 200'000;

class EcmaRegex {
 public:
  // kInvalidArgument with PCRE2's message and the offset of the problem if the pattern does not
  // compile; kResourceExhausted if it is longer than kMaxPatternBytes.
  [[nodiscard]] static Result<EcmaRegex> Compile(std::string_view pattern);

  // True if the pattern matches anywhere in `subject` (ECMAScript RegExp.test, no flags).
  // kResourceExhausted when a PCRE2 limit stopped the match; kInvalidArgument if `subject` is
  // not valid UTF-8.
  // `match_limit` lowers (never raises) the PCRE2 match limit, for a cheap first attempt.
  [[nodiscard]] Result<bool> Search(std::string_view subject,
                                    uint32_t match_limit = kRegexMatchLimit) const;

  const std::string& pattern() const;

 private:
  struct Impl;
  explicit EcmaRegex(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Constructs in `pattern` that PCRE2 accepts but ECMAScript rejects or reads differently, each
// described in a few words ("`\\A` (use ^)", "inline flags `(?i`"). Empty when none were found.
std::vector<std::string> NonEcmaScriptSyntax(std::string_view pattern);

}  // namespace plugctl::spec
