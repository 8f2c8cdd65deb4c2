// Fuzzes the registry response headers plugctl parses: WWW-Authenticate challenges
// (registry::ParseChallenges) and pagination Links (registry::NextLink). Never crashes; a
// challenge's scheme and parameter names come back lowercase and non-empty, and a next link is
// a substring of the header it came from (nothing is invented).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "plugctl/registry/challenge.h"
#include "plugctl/registry/repository.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Lowercase(const std::string& s) {
  for (char c : s) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string header(reinterpret_cast<const char*>(data), size);
  for (const plugctl::registry::Challenge& c : plugctl::registry::ParseChallenges(header)) {
    Check(!c.scheme.empty() && Lowercase(c.scheme));
    for (const auto& [name, value] : c.params) Check(!name.empty() && Lowercase(name));
  }
  plugctl::http::Response response;
  response.headers.Add("Link", header);
  std::string next = plugctl::registry::NextLink(response);
  Check(next.empty() || header.find(next) != std::string::npos);
  return 0;
}
