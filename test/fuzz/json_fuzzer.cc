// Fuzzes oci::ParseJson, the bounded parser every untrusted JSON document goes through.
// Never crashes (however deep the input), agrees with nlohmann on validity within the limit,
// and its depth check is exact: an accepted document nests exactly as deep as the scanner says.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "plugctl/oci/json.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Nesting depth of a parsed document, without recursion.
size_t Depth(const nlohmann::json& root) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&root, 0}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (!value->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const auto& child : *value) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using plugctl::oci::CheckJsonDepth;
  using plugctl::oci::ParseJson;
  // The first byte picks a small limit so the boundary is reached often.
  size_t limit = plugctl::oci::kMaxJsonDepth;
  if (size > 0) {
    limit = data[0] % 16;
    ++data;
    --size;
  }
  std::string text(reinterpret_cast<const char*>(data), size);
  plugctl::Result<nlohmann::json> doc = ParseJson(text, "fuzz", limit);
  if (!doc) {
    Check(!doc.error().message().empty());
    // Within the limit, refusal means nlohmann refuses too.
    // (nlohmann stops at a NUL byte, which ParseJson refuses.)
    if (CheckJsonDepth(text, "fuzz", limit) && text.find('\0') == std::string::npos) {
      Check(!nlohmann::json::accept(text));
    }
    return 0;
  }
  Check(text.find('\0') == std::string::npos);
  Check(nlohmann::json::accept(text));
  size_t depth = Depth(*doc);
  Check(depth <= limit);
  Check(CheckJsonDepth(text, "fuzz", depth).has_value());
  if (depth > 0) Check(!CheckJsonDepth(text, "fuzz", depth - 1).has_value());
  // What we print parses back to the same value.
  std::string printed = doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  plugctl::Result<nlohmann::json> again = ParseJson(printed, "fuzz", limit);
  Check(again.has_value());
  Check(*again == *doc);
  return 0;
}
