// plugctl serve's request parsing (server/api_parse.h): paths, queries, Content-Range, Range,
// plugin download paths, If-None-Match and HTTP dates.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "plugctl/server/api_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace plugctl::server;
  ApiPath path = ParseApiPath(input);
  // A name never holds more than the path did, and a route outside /v2/ has none.
  if (path.name.size() + path.ref.size() > input.size()) std::abort();
  if (path.route == Route::kUnknown && !path.name.empty()) std::abort();
  Query query = ParseQuery(input);
  if (query.size() > 64) std::abort();
  (void)QueryValue(query, "n");
  (void)EscapeQueryValue(input);
  if (auto range = ParseContentRange(input); range && range->end < range->start) std::abort();
  for (uint64_t blob_size : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, UINT64_MAX}) {
    auto range = ParseRange(input, blob_size);
    if (range && !range->unsatisfiable &&
        (range->length == 0 || range->offset > blob_size ||
         range->length > blob_size - range->offset)) {
      std::abort();
    }
  }
  (void)IfNoneMatchHits(input, "\"abc\"");
  if (auto date = ParseHttpDate(input); date && ParseHttpDate(FormatHttpDate(*date)) != date) {
    std::abort();  // a date read back after formatting is the same date
  }
  if (auto p = ParsePluginPath(input)) {
    if (p->count < 1 || p->count > 3) std::abort();
    for (size_t i = 0; i < p->count; ++i) {
      if (p->part[i].find('/') != std::string_view::npos) std::abort();
    }
  }
  return 0;
}
