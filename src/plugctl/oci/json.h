// plugctl/oci/json.h — the one way plugctl parses untrusted JSON: nesting depth is bounded
// before nlohmann sees the text, so no document can exhaust the stack (while parsing, copying,
// comparing or printing it — nlohmann recurses in all of those).
//
//   PLUGCTL_ASSIGN_OR_RETURN(nlohmann::json doc, oci::ParseJson(raw, "index.json"));
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plugctl/base/status.h"

namespace plugctl::oci {

// Deep enough for every real manifest, index, config, token response or credentials file
// (they nest a handful of levels); shallow enough for any stack.
inline constexpr size_t kMaxJsonDepth = 64;

// Checks, without recursion, that no array or object in `text` is nested more than
// `max_depth` levels deep (a top-level `[]` is depth 1). Brackets inside strings (with their
// escapes) do not count. Does not otherwise validate the JSON. kInvalidArgument naming `what`.
[[nodiscard]] Status CheckJsonDepth(std::string_view text, std::string_view what,
                                    size_t max_depth = kMaxJsonDepth);

// CheckJsonDepth, then a non-throwing parse of the whole text (a NUL byte, where nlohmann
// would stop reading, makes it invalid). kInvalidArgument "WHAT: not valid JSON" or
// "WHAT: JSON nested deeper than N levels". Any JSON value is accepted at the top level;
// callers check the type.
[[nodiscard]] Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                               size_t max_depth = kMaxJsonDepth);
// The same, keeping object member order.
[[nodiscard]] Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text,
                                                              std::string_view what,
                                                              size_t max_depth = kMaxJsonDepth);

}  // namespace plugctl::oci
