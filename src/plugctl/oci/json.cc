#include "plugctl/oci/json.h"

namespace plugctl::oci {
namespace {

template <typename Json>
Result<Json> Parse(std::string_view text, std::string_view what, size_t max_depth) {
  PLUGCTL_RETURN_IF_ERROR(CheckJsonDepth(text, what, max_depth));
  // nlohmann stops at a NUL byte and ignores the rest; no valid JSON text contains one.
  if (text.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: not valid JSON", what);
  }
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return MakeError(ErrorCode::kInvalidArgument, "{}: not valid JSON", what);
  return doc;
}

}  // namespace

Status CheckJsonDepth(std::string_view text, std::string_view what, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return MakeError(ErrorCode::kInvalidArgument, "{}: JSON nested deeper than {} levels",
                           what, max_depth);
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report; never wrap below zero.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return OkStatus();
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, size_t max_depth) {
  return Parse<nlohmann::json>(text, what, max_depth);
}

Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text, std::string_view what,
                                                size_t max_depth) {
  return Parse<nlohmann::ordered_json>(text, what, max_depth);
}

}  // namespace plugctl::oci
