// plugctl/oci/plugin_name.h — the one naming rule for a plugin published over plain HTTP: the
// <name> of the Higress plugin-server path /plugins/<name>/<version>/plugin.wasm. `plugctl serve`
// downloads, `plugctl mirror --to plugin-server:DIR` trees and `plugctl wasmplugin --url-prefix
// http://…` all use it, so the URL a WasmPlugin names is where the file is.
//
// The Higress console asks for a plugin by its plugins.properties key, which is not always the
// repository's last component (json-converter lives in plugins/jsonrpc-converter, mcp-server in
// mcp-server/all-in-one). So:
//   1. the key the image was listed under, when it is known — `plugctl mirror` keeps it on the
//      bundle's index.json entry as the annotation kAnnotationPluginName, and `serve --names
//      plugins.properties` supplies it for images pushed over the registry API;
//   2. else the repository's last path component ("plugins/basic-auth" → "basic-auth").
// The version is the tag. A name or version that is not a safe path segment (see
// IsPluginPathSegment) is never used.
//
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plugctl::oci {

// On an index.json entry: the plugins.properties key the image was mirrored from. Several keys
// naming one image ("json-converter=…", "jsonrpc=…" for the same image) are kept as one value
// joined by ',' (which no safe segment contains): see SplitPluginNames / JoinPluginNames.
inline constexpr std::string_view kAnnotationPluginName = "dev.plugctl.plugin.name";

// Longest name or version segment accepted.
inline constexpr size_t kMaxPluginPathSegment = 128;

// 1-128 of [A-Za-z0-9._+-], not "." or "..", not starting with '.' (no hidden files, no
// traversal, nothing a URL or file system would reinterpret).
bool IsPluginPathSegment(std::string_view text);

// The plugin-server name of an image in `repository` ("plugins/basic-auth"), given the key it was
// listed under ("" when unknown). "" when neither gives a safe segment.
std::string PluginPathName(std::string_view repository, std::string_view listed_name);

// The keys of a kAnnotationPluginName value, in order, without empty parts or repeats;
// {""} for an empty value (one image, no key).
std::vector<std::string> SplitPluginNames(std::string_view value);
// `names` as one kAnnotationPluginName value, without empty parts or repeats.
std::string JoinPluginNames(const std::vector<std::string>& names);

}  // namespace plugctl::oci
