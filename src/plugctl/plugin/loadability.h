// plugctl/plugin/loadability.h — "will the Istio/Higress gateway load this image?"
//
// Mirrors the gateway's image fetcher (Istio pkg/wasm, which Higress uses unchanged; see
// ../shared/docs/field-notes.md §1): an index resolves to its linux/amd64 manifest, and exactly
// three shapes are accepted:
//
//   docker       Docker schema2 manifest; the last layer is
//                application/vnd.docker.image.rootfs.diff.tar.gzip and holds a tar entry whose
//                basename is plugin.wasm (the first such entry counts).
//   oci-compat   any other manifest whose last layer is application/vnd.oci.image.layer.v1.tar+gzip
//                holding plugin.wasm likewise; earlier layers are ignored (Higress image spec).
//   oci-variant  exactly 2 layers, one application/vnd.module.wasm.content.layer.v1+wasm holding
//                the raw module. Tried when oci-compat does not apply or finds no plugin.wasm.
//
// The gateway compares media types exactly (Go string equality), so this does too when
// deciding; types that differ from the expected one only in case are recognized
// (oci::MediaTypeEquals) and named in the reason instead of being reported as unknown.
//
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target.Resolve("1.0.0"));
//   PLUGCTL_ASSIGN_OR_RETURN(LoadabilityReport r, CheckGatewayLoadability(target, root));
//   if (!r.loadable) for (const std::string& why : r.reasons) ...;
//   if (r.manifest) spec.sha256 = r.manifest->digest.hex();  // for an oci:// WasmPlugin url
//
// Thread-safety: the functions are reentrant; the Target's own rules apply to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/store/target.h"
#include "plugctl/wasm/wasm_module.h"

namespace plugctl::plugin {

enum class LoadPath {
  kNone,        // no accepted shape
  kDocker,      // Docker schema2, tar.gz last layer
  kOciCompat,   // OCI tar+gzip last layer
  kOciVariant,  // 2 layers, one raw wasm content layer
};

// "none", "docker", "oci-compat", "oci-variant".
std::string_view LoadPathName(LoadPath path);

// The platform the gateway resolves indexes to (go-containerregistry's default).
oci::Platform LinuxAmd64();

// The platform the gateway assumes for an index entry: its own, or
// linux/amd64 when it names none.
oci::Platform EffectivePlatform(const oci::Descriptor& child);

// The shape of an image manifest as the gateway sees it, decided from the manifest alone.
struct ManifestShape {
  LoadPath path = LoadPath::kNone;
  // Index in Manifest::layers of the layer the gateway reads for `path`.
  std::optional<size_t> layer_index = {};
  // For kOciCompat: the oci-variant layer the gateway falls back to when the tar holds no
  // usable plugin.wasm (only for 2-layer manifests that also carry a wasm content layer).
  std::optional<size_t> fallback_layer_index = {};
  // Why the gateway cannot load it (path == kNone), e.g. "a single
  // application/vnd.module.wasm.content.layer.v1+wasm layer (raw wasm): the oci variant needs
  // exactly 2 layers (…)".
  std::string reason = {};

  bool operator==(const ManifestShape&) const = default;
};

// Decides the shape without reading blobs, for listings. An index yields kNone with a reason
// saying so (use CheckGatewayLoadability to follow it). A kOciCompat/kDocker result still
// depends on the tar holding plugin.wasm, which only CheckGatewayLoadability can see.
ManifestShape ClassifyManifest(const oci::Manifest& manifest);

struct LoadOptions {
  // The platform an index resolves to: the gateway's (go-containerregistry's default).
  oci::Platform platform = LinuxAmd64();
  // Parse plugin.wasm (wasm::ParseWasmModule) and apply wasm::CheckProxyWasm; a malformed module or
  // a kError finding makes the image unloadable. When false only the "\0asm" prefix is checked,
  // which is all the gateway's fetcher itself checks.
  bool check_module = true;
  // Largest plugin.wasm accepted.
  uint64_t max_wasm_bytes = wasm::kMaxWasmModuleBytes;
};

struct LoadabilityReport {
  bool loadable = false;
  // The shape the gateway takes (kNone when none applies). Set even when the content then
  // fails (no plugin.wasm, bad magic); kOciVariant after a failed oci-compat fallback.
  LoadPath path = LoadPath::kNone;
  // The descriptor that was checked (a tag's target).
  oci::Descriptor root;
  // The image manifest the gateway reads: `root` itself, or the child an index resolved to.
  //
  // Its digest is what WasmPlugin.spec.sha256 must hold for an oci:// url (hex part): the
  // gateway compares the sha256 against the digest of the *resolved image manifest*
  // (go-containerregistry img.Digest() after desc.Image() picked linux/amd64), never against
  // an index's digest. Unset when an index has no matching child.
  std::optional<oci::Descriptor> manifest;
  // When `root` is an index: the platform of the child chosen ("linux/amd64"); children without
  // a platform count as linux/amd64, as in the gateway.
  std::optional<oci::Platform> platform;
  // The layer plugin.wasm came from.
  std::optional<oci::Descriptor> layer;
  // The tar entry path ("./plugin.wasm") for docker/oci-compat; empty for oci-variant.
  std::string wasm_entry;
  // sha256 of plugin.wasm itself: what spec.sha256 must hold for an http(s):// url serving it.
  std::optional<oci::Digest> wasm_sha256;
  uint64_t wasm_size = 0;
  // Set when the module parsed.
  std::optional<wasm::WasmModuleInfo> module;
  // Why it will not load (empty when loadable), most decisive first.
  std::vector<std::string> reasons;
  // plugin.wasm was found where the gateway looks but its bytes are refused (no "\0asm", not a
  // valid module, a proxy-wasm error). False when only the image's shape is at fault: then
  // rebuilding the image in another shape (transfer::RebuildHint) makes it loadable.
  bool wasm_rejected = false;
  // No layer could hold plugin.wasm (no wasm layer, no layer titled plugin.wasm, no tar layer
  // or none holding that entry): the image is not a plugin (a signature, an empty image), so
  // no rebuild can make it loadable. Its one reason then starts with "not a plugin (no
  // plugin.wasm): ".
  bool not_a_plugin = false;
  // wasm::CheckProxyWasm findings about plugin.wasm (errors also appear in `reasons`) and notes
  // about the image (index resolution, oci-variant fallback, ORAS compatibility).
  std::vector<Finding> findings;
};

// Fetches `root` (a manifest or an index) from `target` and decides as the gateway would.
// Returns a report whenever the content could be examined; an unloadable image is a report with
// loadable == false and reasons, not an error. Errors: those of the target (kNotFound for
// missing manifests or blobs, kUnavailable, …), and Manifest::Parse errors for manifests that
// are not valid JSON manifests. Tar layers are streamed (oci::VerifyingReader over the target;
// they must be gzip, as the gateway opens them with a gzip reader) and reading stops at the
// first plugin.wasm entry, so a tar layer's digest is verified only when the whole layer had
// to be read.
[[nodiscard]] Result<LoadabilityReport> CheckGatewayLoadability(store::Target& target,
                                                                const oci::Descriptor& root,
                                                                const LoadOptions& options = {});

}  // namespace plugctl::plugin
