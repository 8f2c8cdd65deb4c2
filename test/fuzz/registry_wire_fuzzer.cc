// Fuzzes the registry response fields plugctl parses besides headers of auth and pagination:
// token endpoint bodies (registry::ParseTokenReply) and upload-status Range headers
// (registry::ParseUploadRange). Never crashes or overflows; a token is never empty, a lifetime
// stays within [60 s, 1 day], and bytes held are positive.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plugctl/registry/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto reply = plugctl::registry::ParseTokenReply(text)) {
    if (reply->token.empty() || reply->lifetime.count() < 60 || reply->lifetime.count() > 86400) {
      __builtin_trap();
    }
  }
  if (auto held = plugctl::registry::ParseUploadRange(text); held && *held <= 0) __builtin_trap();
  return 0;
}
