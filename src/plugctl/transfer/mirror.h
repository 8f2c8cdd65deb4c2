// plugctl/transfer/mirror.h — many images in one run: what `plugctl mirror` does.
//
// Sources are registry repositories with tag selections (mirror_list.h) and local bundles
// (oci:DIR, oci-archive:FILE, docker-archive:FILE) whose tags are full image references, as a
// bundle written by Mirror holds them. The destination is one of
//
//   registry prefix   "reg.local:5000/plugins" (or just "reg.local:5000"): every image goes to
//                     its own repository under the prefix, named by MapRepository;
//   oci:DIR, oci-archive:FILE
//                     one layout for all images, each tagged with its full original reference
//                     ("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0",
//                     or "…/basic-auth@sha256:…" for digest-only references);
//   docker-archive:FILE
//                     the same names as RepoTags (digest-only references cannot be named there);
//   plugin-server:DIR
//                     no images: each one's plugin.wasm and a metadata.txt as
//                     DIR/<name>/<version>/ (plugin/plugin_server.h), named by
//                     PluginServerPathFor — the plugins.properties key it was listed under,
//                     else the repository's last component; the version is the tag.
//
// The plugins.properties key travels with an image: items carry it (MirrorItem::plugin_name),
// oci: and oci-archive: destinations keep it on the image's index.json entry
// (oci::kAnnotationPluginName), and a bundle source gives it back from there. One image listed
// under several keys keeps all of them: a plugin-server directory each, and one bundle entry
// whose annotation joins them (oci::JoinPluginNames), given back as one item per key.
//
// Each image is one CopyGraph, so digests are preserved and everything copy.h guarantees holds
// per image (children before parents, verification while streaming, blobs already at the
// destination skipped). Before copying, an image whose destination tag already names the same
// digest is reported up to date and not touched: a second run transfers nothing. With a
// variant, images are rebuilt in memory (RebuildImage, reproducible) and the rebuilt digest is
// what is compared, so a second `--variant` run is up to date as well.
//
// Interruption: registry and OCI layout destinations only ever hold complete blobs and complete
// images (blobs are verified, then renamed or committed; manifests come last); archive
// destinations are written once, atomically, by Commit() at the end of the run. Rerunning after
// a kill completes the work.
//
//   MirrorPlan plan;
//   PLUGCTL_ASSIGN_OR_RETURN(plan, PlanMirror(sources, bundles, destination, options, open));
//   PLUGCTL_ASSIGN_OR_RETURN(MirrorReport report, RunMirror(plan, options, open));
//
// Naming (NameMapping, MapRepository, ParseMirrorDestination) is in mirror_naming.h; PlanMirror
// is implemented in mirror_plan.cc, RunMirror in mirror_run.cc.
//
// Thread-safety: one call at a time per destination. Images are copied `jobs` at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/reference.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/plugin/plugin_server.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"
#include "plugctl/transfer/mirror_list.h"
#include "plugctl/transfer/mirror_naming.h"

namespace plugctl::transfer {

// One image to move.
struct MirrorItem {
  // The image's full name: the source reference (tag or digest), or a bundle's tag.
  oci::Reference name;
  // Where it came from: "plugins.properties:14", "oci-archive:bundle.tar".
  std::string origin;
  // The source: a registry reference, or the bundle location (its ref set to the tag).
  Location source;
  // For bundle sources: the key of MirrorPlan::bundles; empty for registry sources.
  std::string bundle;
  // The destination: kRegistry (mapped repository, tag) or the local destination with `ref`
  // set to the tag it gets there. Unused for plugin-server destinations.
  Location destination;
  // The plugins.properties key the image was listed under (a list's MirrorSource::name, or a
  // bundle entry's oci::kAnnotationPluginName); "" when unknown.
  std::string plugin_name;
  // Set for plugin-server destinations: where the files go.
  std::optional<PluginServerPath> plugin_server;

  // The destination for messages: plugin_server's, else destination's.
  std::string DestinationString() const {
    return plugin_server ? plugin_server->ToString() : destination.ToString();
  }
};

struct MirrorOptions {
  NameMapping mapping;
  // Images copied at once; each also runs copy.concurrency blob transfers.
  int jobs = 4;
  CopyOptions copy;
  // Resolve and compare only; nothing is written.
  bool dry_run = false;
  // Go on after a failed image and report every failure at the end.
  bool keep_going = false;
  // Check every image as the gateway would (reads its wasm layer; from a local side if any).
  bool check_gateway = true;
  // Check every image before anything is written and fail the run (kFailedPrecondition, naming
  // each image, its reasons and the --variant that fixes it) when the gateway would not load
  // one. With a variant, each rebuilt image is checked in memory before it is copied instead.
  // Implies check_gateway; does not apply to plugin-server destinations (they hold files).
  bool require_loadable = false;
  // Rebuild every image in this shape (ConvertImage) instead of copying it unchanged.
  std::optional<plugin::BuildVariant> variant;
  // The created time of rebuilt images (BuildOptions::created).
  int64_t created = 0;
  // Also copy each image's referrers (manifests whose subject is the image: signatures, SBOMs,
  // attached artifacts) and theirs, `referrer_depth` levels deep, after the image. Needs a source
  // that lists referrers (a registry: referrers API or "sha256-<hex>" tag schema) and a registry
  // destination (which indexes them the same way when they are pushed); otherwise the run skips
  // them and says why in MirrorReport::referrers_note. A referrer the destination already holds
  // is not copied again. Not done for images a variant rebuilt into another digest (the
  // referrers' subjects would name an image that is not there; images already in that shape
  // keep their digest and their referrers), nor into docker archives: the report says so.
  bool with_referrers = false;
  int referrer_depth = 2;
  // Referrers copied per image at most (a hostile source could list endless ones).
  size_t max_referrers = 256;
  // Called on the calling thread's behalf (possibly from workers, serialized) as items finish.
  std::function<void(const struct MirrorItemResult&)> on_item;
};

struct MirrorItemResult {
  enum class State {
    kCopied,     // transferred now (plugin-server: the files were written)
    kUpToDate,   // the destination already held it (with a variant: the rebuilt image) under
                 // that name (plugin-server: the same
                 // plugin.wasm by metadata.txt's SHA256 and the file's size; nothing touched)
    kWouldCopy,  // dry run: it would be transferred
    kFailed,
  };
  MirrorItem item;
  State state = State::kFailed;
  // The source root; for conversions also the rebuilt image.
  std::optional<oci::Descriptor> source_root;
  std::optional<oci::Descriptor> converted;
  CopyResult copy;
  // with_referrers: referrers (at any depth) copied now, and those the destination already had.
  uint64_t referrers_copied = 0;
  uint64_t referrers_present = 0;
  std::optional<plugin::LoadabilityReport> gateway;
  // Plugin-server destinations: the file written (or found unchanged).
  std::optional<plugin::PluginFileInfo> plugin_file;
  std::optional<Error> error;
};

// "copied", "up-to-date", "would-copy", "failed".
std::string_view MirrorStateName(MirrorItemResult::State state);

struct MirrorReport {
  std::vector<MirrorItemResult> items;  // in plan order
  // Sources that could not be expanded (MirrorPlan::failures).
  std::vector<std::pair<std::string, Error>> source_failures;
  uint64_t copied = 0;
  uint64_t up_to_date = 0;
  uint64_t failed = 0;
  // Images the gateway would not load (their items carry the reasons).
  uint64_t not_loadable = 0;
  uint64_t bytes_copied = 0;
  uint64_t referrers_copied = 0;
  // with_referrers, but the source or destination cannot hold or list referrers: why they were
  // skipped ("" when they were copied).
  std::string referrers_note;
};

struct MirrorPlan {
  MirrorDestination destination;
  std::vector<MirrorItem> items;
  // The bundles, opened once (archives are unpacked when opened), by bundle key.
  std::map<std::string, std::shared_ptr<store::Target>> bundles;
  // Sources that failed to expand (tag listing, bad tags) when keep_going, else they fail the
  // plan; and, always, bundle entries that cannot be read ("oci:DIR: TAG" and why: a manifest
  // deleted from the layout, say), so the bundle's other images still go.
  std::vector<std::pair<std::string, Error>> failures;
};

// The full name a bundle entry tagged `tag` (with root `root`) is mirrored under: the tag itself
// when it is a full reference (as a mirror bundle names images); else, for tags as `copy` and
// `build` write them, NAME:TAG as docker reads it, or a plain TAG named by a `--map TAG=NAME`
// rule of `mapping`, the io.higress.plugin.name the image records, or its spec.yaml's info.name
// (spec::PluginBaseName) — the same name `wasmplugin` gives the entry. `key` names the bundle in
// messages. kInvalidArgument (one line, naming the entry and what fixes it) when nothing names it.
[[nodiscard]] Result<oci::Reference> BundleEntryName(store::Target& target, const std::string& key,
                                                     const std::string& tag,
                                                     const oci::Descriptor& root,
                                                     const NameMapping& mapping);

// Expands sources (listing tags where patterns ask for it) and bundles (their tags that parse as
// references, else named by a `--map TAG=NAME` rule, the plugin name they record or their
// spec.yaml (PlainTagName); an entry that cannot be read, named or placed is a failure of its
// own in MirrorPlan::failures, so the bundle's other images still go) into items with their
// destinations. Duplicate destinations are an error naming both sources; one image listed under
// several plugins.properties keys is one item per plugin-server directory, else one item whose
// plugin_name joins the keys (oci::JoinPluginNames).
[[nodiscard]] Result<MirrorPlan> PlanMirror(const std::vector<MirrorSource>& sources,
                                            const std::vector<Location>& bundles,
                                            const MirrorDestination& destination,
                                            const MirrorOptions& options, const OpenOptions& open);

// Copies every item; commits the destination at the end (also after failures with keep_going,
// so that what succeeded is kept). Returns the report, or the first error without keep_going.
// With keep_going the report is returned even when items failed (report.failed > 0).
[[nodiscard]] Result<MirrorReport> RunMirror(const MirrorPlan& plan, const MirrorOptions& options,
                                             const OpenOptions& open);
// The same, opening sources with `source_open` and the destination with `destination_open`
// (per-side registry options: sessions pooled by host must not cross sides).
[[nodiscard]] Result<MirrorReport> RunMirror(const MirrorPlan& plan, const MirrorOptions& options,
                                             const OpenOptions& source_open,
                                             const OpenOptions& destination_open);

}  // namespace plugctl::transfer
