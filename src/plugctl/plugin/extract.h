// plugctl/plugin/extract.h — gets a plugin's files out of an image, whatever its shape: what
// `plugctl pull IMAGE -o DIR` does.
//
// Images in the wild (../shared/docs/field-notes.md §1-2) carry plugin.wasm in many ways; ORAS
// pulls only the title-annotated ones. ExtractPlugin finds plugin.wasm by media type and file name,
// never by layer count:
//
//   - a raw wasm layer: application/vnd.module.wasm.content.layer.v1+wasm (oci variant, single
//     raw layer), application/vnd.wasm.content.layer.v1+wasm (wasm-to-oci), or any layer titled
//     "plugin.wasm" whose bytes start with "\0asm" (e.g. `oras push x plugin.wasm`);
//   - a tar layer (plain, gzip or zstd: Higress plugin.tar.gz, docker `FROM scratch` +
//     `COPY plugin.wasm`) holding a regular-file entry whose basename is plugin.wasm.
//
// Layers are examined from the last to the first (the gateway reads the last one) and the first
// occurrence of each output file wins; inside one tar the first matching entry wins, as in the
// gateway. Metadata files come from layers with the Wasm spec/doc/icon media types (compared
// case-insensitively; "…doc.v1.{lang}+markdown" becomes README_{lang}.md, or the layer's title
// when that is itself an allowed README name), from layers titled with an allowed name, and from
// top-level entries of tar layers (docker images may COPY several files).
//
// Output names come from a fixed allow-list, never from a path in the image: plugin.wasm,
// spec.yaml, README.md, README_XX.md / README_xx-YY.md (IsPluginFileName), icon.png. A tar entry
// "../plugin.wasm" or "/plugin.wasm" is used like the gateway uses it (by basename) and written as
// DIR/plugin.wasm, with a note; metadata entries with such paths, or below the top level, are
// ignored; titles such as "../../etc/passwd" are ignored.
//
// Every byte is verified against its descriptor while streaming (a layer is read to its end, so
// its digest is checked even when plugin.wasm came early). Files are staged as temporary files in
// DIR and renamed into place only after everything was read and verified: on any error nothing
// new is left in DIR (a DIR created by the call is removed again). Existing files are refused
// (kAlreadyExists) unless `force`; with `force` they are replaced, and other files in DIR are
// left alone.
//
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target.Resolve("1.0.0"));
//   PLUGCTL_ASSIGN_OR_RETURN(ExtractResult r, ExtractPlugin(target, root, "out", {}));
//   fmt::print("{} {}\n", r.manifest.digest.ToString(), r.wasm_sha256.hex());
//
// Thread-safety: reentrant; two calls must not share an output directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/target.h"

namespace plugctl::plugin {

// spec.yaml, README*.md and icon.png larger than this are skipped (with a note).
inline constexpr uint64_t kMaxPluginFileBytes = 16 * 1024 * 1024;

// True for the names ExtractPlugin may write: "plugin.wasm", "spec.yaml", "icon.png",
// "README.md", "README_<ll>.md" and "README_<ll>-<RR>.md" where <ll> is 2-3 ASCII letters and
// <RR> 2-8 ASCII letters or digits (either case).
bool IsPluginFileName(std::string_view name);

// The README name for the language part of "application/vnd.module.wasm.doc.v1.{lang}+markdown":
// "EN"/"en" -> "README_EN.md" (Higress' spelling), "zh-cn" -> "README_zh-CN.md"; nullopt when
// `lang` is not a language tag IsPluginFileName accepts.
std::optional<std::string> ReadmeNameForLanguage(std::string_view lang);

struct ExtractOptions {
  // The child an index resolves to; children without a platform count as linux/amd64.
  oci::Platform platform = LinuxAmd64();
  // Replace existing files in the output directory.
  bool force = false;
  // Largest plugin.wasm accepted (the gateway's limit).
  uint64_t max_wasm_bytes = wasm::kMaxWasmModuleBytes;
  // Largest spec.yaml / README / icon.png written.
  uint64_t max_file_bytes = kMaxPluginFileBytes;
  // Also decide whether the gateway would load the image (CheckGatewayLoadability, reusing the
  // bytes already read). Its content problems never fail the extraction.
  bool check_gateway = true;
  // Called on the calling thread: once with done == 0 when the layers to read are known, then as
  // layer bytes arrive.
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

struct ExtractedFile {
  // The allow-listed output name ("plugin.wasm", "README_EN.md", …).
  std::string name;
  uint64_t size = 0;
  oci::Digest sha256 = oci::Digest::Of("");
  // Where it came from: the layer's index in the manifest and its descriptor.
  size_t layer_index = 0;
  oci::Descriptor layer;
  // The tar entry path as stored in the layer; empty when the whole layer is the file.
  std::string entry;
  // An existing file was replaced (force).
  bool replaced = false;
};

struct ExtractResult {
  // The descriptor extraction started from (a tag's target: manifest or index).
  oci::Descriptor root;
  // The image manifest the files came from: `root`, or the index child for the platform.
  oci::Descriptor manifest;
  // Set when `root` is an index: the chosen child's platform.
  std::optional<oci::Platform> platform;
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  uint64_t wasm_size = 0;
  // plugin.wasm first, then the other files by name.
  std::vector<ExtractedFile> files;
  // The manifest's shape as the gateway sees it (ClassifyManifest).
  ManifestShape shape;
  // Would the gateway load `root`? Its own view: an index resolves to linux/amd64 whatever
  // `platform` was asked for. Unset when !check_gateway or the check could not run (see notes).
  std::optional<LoadabilityReport> gateway;
  // Things worth telling: skipped candidates, unsafe entry paths, duplicates, odd layers.
  std::vector<std::string> notes;
};

// Extracts the plugin of `root` (a manifest or an index) from `target` into `out_dir` (created
// when missing, with its parents).
//
// Errors (nothing new is left in out_dir on any of them):
//  - kNotFound: no plugin.wasm anywhere (the message lists the layers: media types, titles,
//    tar entries); an index without a child for options.platform (the message lists those it
//    has); missing content in the target;
//  - kFailedPrecondition: plugin.wasm candidates exist but none is usable (not "\0asm", over
//    max_wasm_bytes, not a regular file), each named; out_dir is not a directory;
//  - kAlreadyExists: out_dir already has a file the image provides and !force (named);
//  - kDataLoss: a manifest or layer does not match its descriptor;
//  - kInvalidArgument: manifests that do not parse; indexes nested too deep;
//  - the target's own errors (kUnavailable, kUnauthenticated, …) and file system errors.
[[nodiscard]] Result<ExtractResult> ExtractPlugin(store::Target& target,
                                                  const oci::Descriptor& root,
                                                  const std::filesystem::path& out_dir,
                                                  const ExtractOptions& options = {});

}  // namespace plugctl::plugin
