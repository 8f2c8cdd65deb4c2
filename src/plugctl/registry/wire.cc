#include "plugctl/registry/wire.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "plugctl/oci/json.h"

namespace plugctl::registry {

namespace {

constexpr int64_t kMinLifetime = 60;
constexpr int64_t kMaxLifetime = 24 * 60 * 60;

// A non-negative decimal that fits an int64, all of `text`.
bool ParseCount(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

}  // namespace

Result<TokenReply> ParseTokenReply(std::string_view body) {
  auto json = oci::ParseJson(body, "token response");
  if (!json) return tl::unexpected(json.error());
  if (!json->is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "token response: not a JSON object");
  }
  TokenReply reply;
  for (const char* key : {"token", "access_token"}) {
    auto it = json->find(key);
    if (it != json->end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      reply.token = it->get<std::string>();
      break;
    }
  }
  if (reply.token.empty()) return MakeError(ErrorCode::kNotFound, "token response: no token");
  if (auto it = json->find("expires_in"); it != json->end() && it->is_number_integer()) {
    // A value past int64 (nlohmann keeps it unsigned) must not wrap to a negative one.
    int64_t seconds = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t{INT64_MAX}
                          ? kMaxLifetime
                          : it->get<int64_t>();
    reply.lifetime = std::chrono::seconds(std::clamp(seconds, kMinLifetime, kMaxLifetime));
  }
  return reply;
}

Result<int64_t> ParseUploadRange(std::string_view header) {
  std::string_view text = header;
  if (text.starts_with("bytes=")) text.remove_prefix(6);
  size_t dash = text.find('-');
  int64_t first = 0;  // 0 by the spec; not relied on
  int64_t last = 0;
  if (dash == std::string_view::npos || !ParseCount(text.substr(0, dash), first) ||
      !ParseCount(text.substr(dash + 1), last) || last == INT64_MAX) {
    return MakeError(ErrorCode::kInvalidArgument, "upload status: Range \"{}\" is not 0-<last>",
                     PrintableForMessage(header, 80));
  }
  return last + 1;
}

}  // namespace plugctl::registry
