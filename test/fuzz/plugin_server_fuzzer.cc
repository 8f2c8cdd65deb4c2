// What plugin downloads read from images and trees: RFC 3339 created times (image configs),
// metadata.txt SHA256 lines (plugin-server trees), listed plugin names (bundle annotations).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "plugctl/oci/plugin_name.h"
#include "plugctl/plugin/plugin_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)plugctl::plugin::ParseRfc3339(input);
  (void)plugctl::plugin::MetadataSha256(input);
  std::string name = plugctl::oci::PluginPathName(input, input);
  // Whatever comes in, what comes out is a safe path segment or nothing.
  if (!name.empty() && !plugctl::oci::IsPluginPathSegment(name)) std::abort();
  if (name.find('/') != std::string::npos || name == "." || name == "..") std::abort();
  return 0;
}
