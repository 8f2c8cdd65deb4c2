#include "plugctl/spec/schema_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

namespace plugctl::spec {
namespace {

// PCRE2 depth limit (nested backtracking frames) and heap limit (KiB) per match: small enough
// that a hostile pattern costs milliseconds and a few MiB, large enough for any real pattern.
constexpr uint32_t kRegexDepthLimit = 10'000;
constexpr uint32_t kRegexHeapLimitKiB = 16 * 1024;

std::string Pcre2Message(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  if (n < 0) return fmt::format("PCRE2 error {}", code);
  return std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

}  // namespace

struct EcmaRegex::Impl {
  std::string pattern;
  pcre2_code* code = nullptr;
  pcre2_match_context* match_context = nullptr;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    pcre2_match_context_free(match_context);
    pcre2_code_free(code);
  }
};

Result<EcmaRegex> EcmaRegex::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "pattern is {} bytes, more than the limit of {}", pattern.size(),
                     kMaxPatternBytes);
  }
  auto impl = std::make_shared<Impl>();
  impl->pattern = std::string(pattern);

  pcre2_compile_context* compile_context = pcre2_compile_context_create(nullptr);
  if (compile_context == nullptr) return MakeError(ErrorCode::kInternal, "out of memory");
  // \u{...} as in ECMAScript 2015 (in addition to \uHHHH from PCRE2_ALT_BSUX).
  pcre2_set_compile_extra_options(compile_context, PCRE2_EXTRA_ALT_BSUX);
  // ECMAScript's `.` does not match CR or LF.
  pcre2_set_newline(compile_context, PCRE2_NEWLINE_ANYCRLF);
  pcre2_set_max_pattern_length(compile_context, kMaxPatternBytes);

  constexpr uint32_t kOptions = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY |
                                PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF |
                                PCRE2_NEVER_BACKSLASH_C;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), kOptions,
                             &error_code, &error_offset, compile_context);
  pcre2_compile_context_free(compile_context);
  if (impl->code == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid regular expression at offset {}: {}",
                     error_offset, Pcre2Message(error_code));
  }
  impl->match_context = pcre2_match_context_create(nullptr);
  if (impl->match_context == nullptr) return MakeError(ErrorCode::kInternal, "out of memory");
  pcre2_set_match_limit(impl->match_context, kRegexMatchLimit);
  pcre2_set_depth_limit(impl->match_context, kRegexDepthLimit);
  pcre2_set_heap_limit(impl->match_context, kRegexHeapLimitKiB);
  return EcmaRegex(std::move(impl));
}

Result<bool> EcmaRegex::Search(std::string_view subject, uint32_t match_limit) const {
  // Match data (and a lowered-limit context) are per call so that one compiled pattern can be
  // used from many threads.
  pcre2_match_data* match_data = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (match_data == nullptr) return MakeError(ErrorCode::kInternal, "out of memory");
  pcre2_match_context* context = impl_->match_context;
  pcre2_match_context* lowered = nullptr;
  if (match_limit < kRegexMatchLimit) {
    lowered = pcre2_match_context_copy(impl_->match_context);
    if (lowered == nullptr) {
      pcre2_match_data_free(match_data);
      return MakeError(ErrorCode::kInternal, "out of memory");
    }
    pcre2_set_match_limit(lowered, match_limit);
    context = lowered;
  }
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                       0, match_data, context);
  pcre2_match_context_free(lowered);
  pcre2_match_data_free(match_data);
  if (rc >= 0) return true;
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "pattern is too expensive to evaluate on this value ({})", Pcre2Message(rc));
  }
  if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21) {
    return MakeError(ErrorCode::kInvalidArgument, "value is not valid UTF-8");
  }
  return MakeError(ErrorCode::kInternal, "regular expression match failed: {}", Pcre2Message(rc));
}

const std::string& EcmaRegex::pattern() const { return impl_->pattern; }

std::vector<std::string> NonEcmaScriptSyntax(std::string_view p) {
  std::vector<std::string> found;
  auto add = [&found](std::string what) {
    for (const std::string& f : found) {
      if (f == what) return;
    }
    found.push_back(std::move(what));
  };
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[++i];
      if (in_class && e != 'h' && e != 'H') continue;  // PCRE2 rejects the others in a class
      switch (e) {
        case 'A':
          add("`\\A` (use ^)");
          break;
        case 'z':
        case 'Z':
          add(fmt::format("`\\{}` (use $)", e));
          break;
        case 'Q':
        case 'E':
          add("`\\Q…\\E` quoting");
          break;
        case 'G':
        case 'K':
        case 'R':
        case 'X':
        case 'h':
        case 'H':
        case 'N':
          add(fmt::format("`\\{}`", e));
          break;
        default:
          break;
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      // POSIX classes such as [[:alpha:]] are PCRE-only.
      if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') add("POSIX class `[:…:]`");
      continue;
    }
    if (c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal in PCRE but ends an empty class in ECMAScript.
      if (i + 1 < p.size() && p[i + 1] == '^') ++i;
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
      std::string_view rest = p.substr(i + 2);
      bool ecma =
          rest.starts_with(":") || rest.starts_with("=") || rest.starts_with("!") ||
          rest.starts_with("<=") || rest.starts_with("<!") ||
          (rest.starts_with("<") && rest.size() > 1 &&
           (std::isalpha(static_cast<unsigned char>(rest[1])) || rest[1] == '_' || rest[1] == '$'));
      if (!ecma) {
        add(fmt::format("group syntax `(?{}`", rest.substr(0, rest.empty() ? 0 : 1)));
      }
      continue;
    }
    if ((c == '*' || c == '+' || c == '?' || c == '}') && i + 1 < p.size() && p[i + 1] == '+') {
      add(fmt::format("possessive quantifier `{}+`", c));
      ++i;
    }
  }
  return found;
}

}  // namespace plugctl::spec
