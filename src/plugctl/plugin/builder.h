// Directory plugctl/plugin/: image-level plugin work: build, extract, loadability, validate.
// plugctl/plugin/builder.h — builds a plugin image from a plugin directory, reproducibly.
//
// A plugin directory holds the files of the Higress Wasm image spec
// (../shared/seeds/wasm-image-spec.md §2): plugin.wasm (required), spec.yaml and README.md
// (required unless BuildOptions::allow_missing), README_{lang}.md and icon.png (optional). Other
// files are ignored. Before anything is built, spec.yaml is validated (spec::ParseSpecYaml) and
// plugin.wasm is parsed and checked as a proxy-wasm host would (wasm::ParseWasmModule,
// wasm::CheckProxyWasm); any error finding refuses the build.
//
// Variants (every one passes CheckGatewayLoadability):
//
//   compat  (default) exactly the Higress image spec, as ORAS-pushed official images are:
//           OCI manifest, config application/vnd.unknown.config.v1+json "{}" (ORAS's default,
//           what official images carry), one file per layer, each annotated
//           org.opencontainers.image.title=<file name>, in this fixed order:
//             README_{lang}.md…  application/vnd.module.wasm.doc.v1.{lang}+markdown
//                                (sorted by file name; {lang} lowercased in the media type,
//                                as in the spec's own `oras push` example)
//             README.md          application/vnd.module.wasm.doc.v1+markdown
//             spec.yaml          application/vnd.module.wasm.spec.v1+yaml
//             icon.png           application/vnd.module.wasm.icon.v1+png
//             plugin.tar.gz      application/vnd.oci.image.layer.v1.tar+gzip, LAST: a gzip
//                                tar with the single entry "plugin.wasm"
//   oci     the 2-layer "oci variant": OCI manifest, config and first layer the same
//           application/vnd.module.wasm.config.v1+json blob ({"type":"envoy_proxy",
//           "abiVersions":[the module's proxy_abi_version_* suffixes]}), second layer the raw
//           module as application/vnd.module.wasm.content.layer.v1+wasm (title "plugin.wasm").
//   docker  what `FROM scratch` + `COPY plugin.wasm /` gives and `docker load` accepts: Docker
//           schema2 manifest, config application/vnd.docker.container.image.v1+json (linux/
//           amd64, rootfs.diff_ids = sha256 of the uncompressed tar, the plugin's metadata as
//           Labels), one application/vnd.docker.image.rootfs.diff.tar.gzip layer holding
//           plugin.wasm.
//
// Reproducibility: the same directory contents and options give the same manifest digest on
// any machine and any day. Tar entries have mtime 0, uid/gid 0, mode 0644 and no owner names;
// gzip has no timestamp or file name (archive::TarWriter; byte-identical gzip output assumes
// the same zlib, Debian 12's); JSON is serialized with a fixed key order; layers come in the
// fixed order above; file-system order, mtimes and owners are never read. Time appears only as
// the image's created time, BuildOptions::created (default 0, 1970-01-01T00:00:00Z): the
// org.opencontainers.image.created manifest annotation (compat, oci) or the config's
// "created" (docker). Layer blobs never depend on it, so rebuilds with another created time
// share every blob.
//
// Metadata from spec.yaml is recorded with the org.opencontainers.image.* keys: title
// (info.title), version (info.version), description (info.description, when set) and created;
// the plugin name (info.name), which has no OCI key, as io.higress.plugin.name. Compat and oci
// carry them as manifest annotations, docker as config Labels (Docker manifests have no
// annotations).
//
//   store::MemoryTarget mem;
//   PLUGCTL_ASSIGN_OR_RETURN(BuiltImage image, BuildPluginImage(dir, {.created = epoch}, mem));
//   PLUGCTL_RETURN_IF_ERROR(transfer::CopyGraph(mem, image.manifest, *dst, {.tags = {"1.0.0"}}));
//   for (const Finding& f : image.findings) std::cerr << f.ToString() << "\n";  // warnings
//
// Thread-safety: reentrant; the MemoryTarget is thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/wasm/wasm_module.h"

namespace plugctl::plugin {

enum class BuildVariant { kCompat, kOci, kDocker };

// "compat", "oci", "docker".
std::string_view BuildVariantName(BuildVariant variant);
// The inverse of BuildVariantName; kInvalidArgument naming the choices otherwise.
[[nodiscard]] Result<BuildVariant> ParseBuildVariant(std::string_view text);

// Annotation / label key for info.name (the OCI annotation keys have none for it).
inline constexpr std::string_view kAnnotationPluginName = "io.higress.plugin.name";

// Largest README*.md / icon.png accepted (spec.yaml has spec::kSpecYamlLimits, plugin.wasm
// wasm::kMaxWasmModuleBytes).
inline constexpr size_t kMaxPluginDocBytes = 16 * 1024 * 1024;

// The metadata an image records (see the banner): what conversions carry from a source image
// whose files do not include spec.yaml (docker and oci variants hold only plugin.wasm).
struct ImageMetadata {
  std::string name;         // io.higress.plugin.name
  std::string title;        // org.opencontainers.image.title
  std::string version;      // org.opencontainers.image.version
  std::string description;  // org.opencontainers.image.description
  // org.opencontainers.image.created (docker: the config's "created"), RFC 3339 as recorded.
  std::string created;

  bool empty() const {
    return name.empty() && title.empty() && version.empty() && description.empty() &&
           created.empty();
  }
  bool operator==(const ImageMetadata&) const = default;
};

// True for RFC 3339 date-times as images record them ("2024-05-01T10:00:00Z",
// "2024-05-01T10:00:00.123456789+08:00"): what docker parses in a config's "created".
bool IsRfc3339Time(std::string_view text);

struct BuildOptions {
  BuildVariant variant = BuildVariant::kCompat;
  // Build without spec.yaml and/or README.md (the image then carries no name/version/title).
  bool allow_missing = false;
  // Seconds since the epoch recorded as the image's created time; callers pass
  // SOURCE_DATE_EPOCH here (the builder never reads the environment; the CLI does).
  int64_t created = 0;
  // spec.yaml warnings become errors.
  bool strict = false;
  // Recorded instead of spec.yaml's values and `created` where its fields are non-empty
  // (conversions pass the source image's metadata here). `created` must be IsRfc3339Time
  // (kInvalidArgument otherwise); other fields are recorded as given.
  ImageMetadata metadata;
};

// One file of the plugin directory that went into the image.
struct BuiltFile {
  std::string name;  // "README_EN.md", "spec.yaml", "plugin.wasm", …
  oci::Descriptor layer;
};

struct BuiltImage {
  BuildVariant variant = BuildVariant::kCompat;
  // The image manifest (stored in the target, untagged): what to copy and tag.
  oci::Descriptor manifest;
  std::string manifest_raw;
  oci::Descriptor config;
  // The manifest's layers in order, and which plugin file each came from.
  std::vector<BuiltFile> files;
  // sha256 and size of plugin.wasm itself (a WasmPlugin http(s):// url's sha256).
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  uint64_t wasm_size = 0;
  wasm::WasmModuleInfo module;
  // From spec.yaml ("" when it is absent and allow_missing).
  std::string name;
  std::string version;
  std::string title;
  // Warnings and notes about spec.yaml and plugin.wasm (errors refuse the build).
  std::vector<Finding> findings;
};

// Builds the image for `dir` into `out` (every blob and the manifest; no tag).
//
// Errors: kNotFound for a missing plugin.wasm, or a missing spec.yaml / README.md without
// allow_missing (naming the file and the option); kInvalidArgument when spec.yaml or
// plugin.wasm has error findings (the message lists them, "file:line: path: message" each), for
// an icon.png that is not a PNG, a README_{lang}.md whose {lang} is not letters, digits, '-' or
// '_', and for a plugin file that is not a regular file; kResourceExhausted for files over their
// limits; I/O errors naming the file. README.md is required for compat only (the other variants
// do not carry documents).
[[nodiscard]] Result<BuiltImage> BuildPluginImage(const std::filesystem::path& dir,
                                                  const BuildOptions& options,
                                                  store::MemoryTarget& out);

// "1970-01-01T00:00:00Z" for 0 (RFC 3339, UTC, seconds). kInvalidArgument for times before 0
// or after 9999-12-31.
[[nodiscard]] Result<std::string> FormatCreatedTime(int64_t seconds);

}  // namespace plugctl::plugin
