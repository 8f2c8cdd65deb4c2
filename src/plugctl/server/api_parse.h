// plugctl/server/api_parse.h — reading the parts of a distribution-API request that come from
// the client: the path (which route, which repository), the query, Content-Range and Range;
// and for the plugin downloads, their paths and conditional-request headers.
//
// Names in paths are never percent-decoded: the spec's repository grammar has no '%', so an
// encoded separator or dot stays in the name and makes it invalid (NAME_INVALID), never a path.
// Everything here is total: any input yields a value (kUnknown, nullopt, an empty query), never
// an exception, and work is linear in the input. Fuzzed by test/fuzz/api_parse_fuzzer.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace plugctl::server {

enum class Route {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTags,         // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<reference>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<id>
  kReferrers,    // /v2/<name>/referrers/<digest>
  kUnknown,
};

struct ApiPath {
  Route route = Route::kUnknown;
  std::string name;  // the repository, unvalidated
  std::string ref;   // tag or digest, digest, or upload id, unvalidated
};

// `path` without its query. Paths outside /v2 are kUnknown.
ApiPath ParseApiPath(std::string_view path);

// Query parameters as Go's url.ParseQuery reads them ('+' is a space, %XX decoded); at most 64
// pairs are read.
using Query = std::multimap<std::string, std::string, std::less<>>;
Query ParseQuery(std::string_view query);
// The first value of `key`, "" when absent.
std::string QueryValue(const Query& query, std::string_view key);
// Percent-encodes a query value for a Link header.
std::string EscapeQueryValue(std::string_view text);

// A chunk's Content-Range, "<start>-<end>" or "bytes <start>-<end>[/<total>]", inclusive.
struct ContentRange {
  uint64_t start = 0;
  uint64_t end = 0;
};
std::optional<ContentRange> ParseContentRange(std::string_view text);

// A blob GET's Range: one "bytes=a-b", "bytes=a-" or "bytes=-n" over `size` bytes. nullopt for
// anything else (several ranges, other units, malformed): the whole blob is sent, as RFC 9110
// allows. `unsatisfiable` for a range starting past the end (416).
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool unsatisfiable = false;
};
std::optional<ByteRange> ParseRange(std::string_view text, uint64_t size);

// Whether an Accept header value admits `media_type`: true when the header is empty or lists
// it, "*/*" or "<type>/*" (parameters and q-values are ignored; case-insensitive).
bool AcceptsMediaType(std::string_view accept, std::string_view media_type);

// A decimal uint64 with nothing else around it.
std::optional<uint64_t> ParseUint(std::string_view text);

// Whether an If-None-Match value names `etag` (a quoted entity tag; "W/" prefixes compare
// weakly, as RFC 9110 says for If-None-Match) or is "*". A malformed list matches nothing.
bool IfNoneMatchHits(std::string_view header, std::string_view etag);

// RFC 9110's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), what every client sends, from 1970
// on; nullopt for anything else.
std::optional<int64_t> ParseHttpDate(std::string_view text);
std::string FormatHttpDate(int64_t unix_seconds);

// The segments of a path below /plugins/: "/plugins/a/b/c" → {a, b, c}; a trailing slash adds
// an empty last segment ("/plugins/a/" → {a, ""}); "/plugins" and "/plugins/" → {""}. nullopt
// for paths outside /plugins, more than 3 segments, or an empty segment before the last.
// Segments are not decoded: they are compared, never used as paths.
struct PluginPath {
  std::string_view part[3];
  size_t count = 0;
};
std::optional<PluginPath> ParsePluginPath(std::string_view path);

}  // namespace plugctl::server
