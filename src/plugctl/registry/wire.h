// plugctl/registry/wire.h — small fields of registry responses that plugctl parses: the body of
// a token endpoint's answer and the `Range` header of an upload's status. Both come from the
// network and are untrusted: the parsers never throw, never overflow, and say what was wrong.
//
//   PLUGCTL_ASSIGN_OR_RETURN(TokenReply reply, ParseTokenReply(response.body));
//   PLUGCTL_ASSIGN_OR_RETURN(int64_t held, ParseUploadRange(*response.headers.Get("Range")));
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugctl/base/status.h"

namespace plugctl::registry {

// What a token endpoint answered (distribution token-auth spec).
struct TokenReply {
  std::string token;
  // How long the token may be used: `expires_in`, at least 60 s (the spec's default, and its
  // floor), at most one day (so a hostile value cannot overflow a deadline).
  std::chrono::seconds lifetime{60};
  bool operator==(const TokenReply&) const = default;
};

// Parses a token response body: a JSON object with a non-empty string `token` or
// `access_token` (the first wins) and an optional integer `expires_in`. kInvalidArgument for
// a body that is not such an object (nesting bounded as every untrusted JSON), kNotFound when
// it holds no token.
[[nodiscard]] Result<TokenReply> ParseTokenReply(std::string_view body);

// Parses the `Range: 0-<last>` header an upload status (204) carries and returns how many
// bytes the registry holds (`last + 1`). distribution-spec: the range is inclusive and has no
// `bytes=` prefix; some registries send one anyway, which is accepted. (distribution answers
// `0-0` for an empty upload too; callers bound the result by what they sent.) kInvalidArgument for
// anything else, including values that do not fit an int64.
[[nodiscard]] Result<int64_t> ParseUploadRange(std::string_view header);

}  // namespace plugctl::registry
