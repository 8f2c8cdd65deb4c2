// plugctl/plugin/plugin_server.h — the Higress plugin-server layout: what its nginx serves for
// `http://` WasmPlugin URLs (../shared/docs/field-notes.md §5), written by
// `plugctl mirror --to plugin-server:DIR` and served by `plugctl serve` under /plugins/.
//
//   <tree>/<name>/<version>/plugin.wasm
//   <tree>/<name>/<version>/metadata.txt
//
// metadata.txt is the plugin-server's five lines plus a sixth plugctl adds:
//   Plugin Name: basic-auth
//   Size: 41235 bytes
//   Last Modified: 2025-03-01T10:00:00Z
//   Created: 2025-03-01T10:00:00Z
//   MD5: 9e107d9d372bb6826bd81d3542a419d6
//   SHA256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
// Times are UTC ISO 8601 (FormatCreatedTime, builder.h). Created is the image's created time
// (ImageCreatedTime) — the time the file was first written when the image has none; Last Modified
// is when plugin.wasm was written.
//
// Names come from oci/plugin_name.h; versions are tags. Both must be IsPluginPathSegment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/store/target.h"

namespace plugctl::plugin {

struct PluginFileInfo {
  uint64_t size = 0;
  oci::Digest sha256 = oci::Digest::Of("");
  std::string md5;  // lowercase hex
  int64_t created = 0;
  int64_t modified = 0;
};

// The six lines above, each ending in "\n". Times outside FormatCreatedTime's range are
// written as 1970-01-01T00:00:00Z.
std::string FormatMetadataTxt(std::string_view name, const PluginFileInfo& info);

// The SHA256 line's digest of a metadata.txt (nullopt when absent or malformed): how a rerun
// knows a version is unchanged.
std::optional<oci::Digest> MetadataSha256(std::string_view metadata_txt);

// Lowercase hex MD5 of a file's bytes (the plugin-server's integrity field; not security).
[[nodiscard]] Result<std::string> FileMd5Hex(const std::filesystem::path& file);

// The image's created time (unix seconds): the manifest's org.opencontainers.image.created
// annotation, else its config's "created" (docker and OCI configs); nullopt when neither is an
// RFC 3339 time (ParseRfc3339). `manifest` is an image manifest (not an index). Reads at most the
// config's first 4 MiB, verified.
[[nodiscard]] Result<std::optional<int64_t>> ImageCreatedTime(store::Target& target,
                                                              const oci::Descriptor& manifest);

// "2025-03-01T10:00:00Z", "2025-03-01T10:00:00.123456789+08:00" → unix seconds (fractions
// dropped); nullopt for anything else.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// Whether `file` is a plugin.wasm a gateway would instantiate when it downloads it over http(s)
// (the image's shape does not matter there): a wasm module that parses, without proxy-wasm
// errors (wasm::CheckProxyWasm). kFailedPrecondition naming the problem otherwise; files
// over `max_bytes` are kResourceExhausted. The one rule for plugin-server trees and serve's
// downloads.
[[nodiscard]] Status CheckServableWasm(const std::filesystem::path& file, uint64_t max_bytes);

struct PluginServerWriteOptions {
  ExtractOptions extract;
  // Decide only; write nothing.
  bool dry_run = false;
};

struct PluginServerWriteResult {
  std::filesystem::path dir;  // <tree>/<name>/<version>
  // The files were already there with this plugin.wasm (by the metadata's SHA256 and the
  // file's size): nothing was rewritten.
  bool unchanged = false;
  PluginFileInfo info;
  ExtractResult extracted;
};

// Writes the plugin of `root` (manifest or index; the index's child for
// options.extract.platform) as <tree>/<name>/<version>/plugin.wasm and metadata.txt. Each file
// is written to a temporary file in that directory and renamed into place (plugin.wasm first),
// so a reader sees the old file or the new one, never a partial one; an unchanged version is
// not touched. kInvalidArgument when name or version is not a safe path segment; the
// extraction's errors (kNotFound: no plugin.wasm; kFailedPrecondition: unusable wasm;
// kDataLoss: bytes not matching their digests) otherwise, naming the image.
[[nodiscard]] Result<PluginServerWriteResult> WritePluginServerVersion(
    store::Target& target, const oci::Descriptor& root, const std::filesystem::path& tree,
    std::string_view name, std::string_view version, const PluginServerWriteOptions& options);

}  // namespace plugctl::plugin
