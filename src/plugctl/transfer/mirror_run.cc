// RunMirror: every planned item copied (or found up to date), `jobs` at a time.
#include <map>
#include <memory>
#include <mutex>

#include "plugctl/base/parallel.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/store/content.h"
#include "plugctl/transfer/convert.h"
#include "plugctl/transfer/mirror.h"

namespace plugctl::transfer {
namespace {

// One mutex per key, created on first use.
template <typename Key>
class LockTable {
 public:
  std::mutex& For(const Key& key) {
    std::lock_guard lock(mu_);
    auto& slot = locks_[key];
    if (!slot) slot = std::make_unique<std::mutex>();
    return *slot;
  }

 private:
  std::mutex mu_;
  std::map<Key, std::unique_ptr<std::mutex>> locks_;
};

// Serializes the calls store::Target allows on one thread at a time (Resolve, Tag, Tags) on
// targets several images share (a bundle, a local destination).
using TargetLocks = LockTable<const store::Target*>;

Result<oci::Descriptor> LockedResolve(store::Target& target, std::string_view ref,
                                      TargetLocks& locks) {
  std::lock_guard lock(locks.For(&target));
  return target.Resolve(ref);
}

// What docker_archive.h refuses, decided from the source manifest before anything is copied.
// Indexes are left to the archive, which picks their linux/amd64 image.
Status CheckDockerLoadable(store::Target& src, const oci::Descriptor& root) {
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(src, root));
  if (manifest.is_index() || !manifest.config) return OkStatus();
  const std::string& type = manifest.config->media_type;
  if (oci::MediaTypeEquals(type, oci::kDockerConfig) ||
      oci::MediaTypeEquals(type, oci::kOciConfig)) {
    return OkStatus();
  }
  return MakeError(ErrorCode::kFailedPrecondition,
                   "docker cannot load an image whose config media type is {}; convert with "
                   "--variant docker",
                   type.substr(0, 256));
}

}  // namespace

std::string_view MirrorStateName(MirrorItemResult::State state) {
  switch (state) {
    case MirrorItemResult::State::kCopied:
      return "copied";
    case MirrorItemResult::State::kUpToDate:
      return "up-to-date";
    case MirrorItemResult::State::kWouldCopy:
      return "would-copy";
    case MirrorItemResult::State::kFailed:
      return "failed";
  }
  return "?";
}

namespace {

class MirrorRun {
 public:
  MirrorRun(const MirrorPlan& plan, const MirrorOptions& options, const OpenOptions& source_open,
            const OpenOptions& destination_open)
      : plan_(plan), options_(options), open_(source_open), dest_open_(destination_open) {}

  Result<MirrorReport> Run() {
    const MirrorDestination& dest = plan_.destination;
    if (options_.require_loadable && !options_.variant && !dest.is_plugin_server()) {
      PLUGCTL_RETURN_IF_ERROR(CheckAllLoadable());
    }
    if (!dest.is_registry() && !dest.is_plugin_server()) {
      auto opened = OpenLocation(
          dest.location, options_.dry_run ? AccessMode::kRead : AccessMode::kWrite, dest_open_);
      if (opened) {
        shared_dest_ = std::move(*opened);
      } else if (!(options_.dry_run && opened.error().code() == ErrorCode::kNotFound)) {
        return tl::unexpected(opened.error());
      }
      // A dry run into a bundle that does not exist yet: everything would be copied.
    }
    report_.items.resize(plan_.items.size());
    // Without keep_going the first failed item stops the run: no item starts after it.
    Status run = RunParallel(plan_.items.size(), options_.jobs,
                             [this](size_t i, const Cancellation&) { return RunItem(i); });
    report_.source_failures = plan_.failures;
    report_.failed += plan_.failures.size();
    for (const MirrorItemResult& r : report_.items) {
      switch (r.state) {
        case MirrorItemResult::State::kCopied:
          ++report_.copied;
          break;
        case MirrorItemResult::State::kUpToDate:
          ++report_.up_to_date;
          break;
        case MirrorItemResult::State::kFailed:
          if (r.error) ++report_.failed;  // unset: never started after another failure
          break;
        case MirrorItemResult::State::kWouldCopy:
          break;
      }
      if (r.gateway && !r.gateway->loadable) ++report_.not_loadable;
      report_.bytes_copied += r.copy.bytes_copied;
      report_.referrers_copied += r.referrers_copied;
    }
    if (!run) {
      // What was copied is complete and stays (registries, layouts); an archive is written only
      // by a run that succeeded or was asked to keep going, so it never holds half a list.
      return tl::unexpected(run.error());
    }
    if (shared_dest_ && !options_.dry_run) {
      Status committed = shared_dest_->Commit();
      if (!committed) return tl::unexpected(committed.error());
    }
    return std::move(report_);
  }

 private:
  // require_loadable without a variant: every source image is checked before the destination
  // is even opened, so a list with one unloadable image writes nothing at all.
  Status CheckAllLoadable() {
    checked_.resize(plan_.items.size());
    std::vector<std::optional<Error>> errors(plan_.items.size());
    Status run = RunParallel(plan_.items.size(), options_.jobs,
                             [this, &errors](size_t i, const Cancellation&) -> Status {
                               Status one = CheckOne(i);
                               if (!one) errors[i] = one.error();
                               return OkStatus();
                             });
    if (!run) return run;
    std::vector<std::string> refused;
    for (size_t i = 0; i < plan_.items.size(); ++i) {
      const MirrorItem& item = plan_.items[i];
      if (errors[i]) return tl::unexpected(*errors[i]);
      if (!checked_[i] || checked_[i]->loadable) continue;
      refused.push_back(
          NotLoadableError(item.name.ToString(), *checked_[i], plan_.destination.location.kind)
              .message());
    }
    if (refused.empty()) return OkStatus();
    return MakeError(ErrorCode::kFailedPrecondition,
                     "--require-loadable: {} of {} images would not load in the gateway; nothing "
                     "was written: {}",
                     refused.size(), plan_.items.size(), fmt::join(refused, " | "));
  }

  Status CheckOne(size_t i) {
    const MirrorItem& item = plan_.items[i];
    auto context = [&](const Error& e) {
      return tl::unexpected(e.WithContext(fmt::format("check {}", item.name.ToString())));
    };
    std::unique_ptr<store::Target> src_owned;
    auto src = SourceTarget(item, src_owned);
    if (!src) return context(src.error());
    auto root = LockedResolve(**src, item.source.ResolveRef(), locks_);
    if (!root) return context(root.error());
    auto report = plugin::CheckGatewayLoadability(**src, *root);
    if (!report) return context(report.error().WithContext("gateway check"));
    checked_[i] = std::move(*report);
    return OkStatus();
  }

  // Mirrors item i into its result; fails (stopping the run) only without keep_going.
  Status RunItem(size_t i) {
    MirrorItemResult& result = report_.items[i];
    result.item = plan_.items[i];
    Status status = MirrorOne(result);
    if (!status) {
      result.state = MirrorItemResult::State::kFailed;
      result.error = status.error();
    }
    if (options_.on_item) {
      std::lock_guard lock(on_item_mu_);
      options_.on_item(result);
    }
    if (!status && !options_.keep_going) return status;
    return OkStatus();
  }

  Result<store::Target*> SourceTarget(const MirrorItem& item,
                                      std::unique_ptr<store::Target>& owned) {
    if (!item.bundle.empty()) return plan_.bundles.at(item.bundle).get();
    PLUGCTL_ASSIGN_OR_RETURN(owned, OpenLocation(item.source, AccessMode::kRead, open_));
    return owned.get();
  }

  Result<store::Target*> DestinationTarget(const MirrorItem& item,
                                           std::unique_ptr<store::Target>& owned) {
    if (!plan_.destination.is_registry()) return shared_dest_.get();  // null: dry run, no file
    PLUGCTL_ASSIGN_OR_RETURN(
        owned, OpenLocation(item.destination,
                            options_.dry_run ? AccessMode::kRead : AccessMode::kWrite, dest_open_));
    return owned.get();
  }

  // The image at the destination under the item's name, if any.
  Result<std::optional<oci::Descriptor>> Existing(store::Target* dst, const MirrorItem& item) {
    if (dst == nullptr) return std::optional<oci::Descriptor>();
    auto found = LockedResolve(*dst, item.destination.ResolveRef(), locks_);
    if (!found) {
      if (found.error().code() == ErrorCode::kNotFound) return std::optional<oci::Descriptor>();
      return tl::unexpected(found.error());
    }
    return std::optional<oci::Descriptor>(*found);
  }

  // Writes the item's plugin.wasm and metadata.txt into the plugin-server tree.
  Status WritePluginServer(MirrorItemResult& result) {
    const MirrorItem& item = result.item;
    auto context = [&](const Error& e) {
      return tl::unexpected(e.WithContext(
          fmt::format("mirror {} to {}", item.name.ToString(), item.DestinationString())));
    };
    std::unique_ptr<store::Target> src_owned;
    auto src = SourceTarget(item, src_owned);
    if (!src) return context(src.error());
    auto root = LockedResolve(**src, item.source.ResolveRef(), locks_);
    if (!root) return context(root.error());
    result.source_root = *root;

    plugin::PluginServerWriteOptions write;
    write.dry_run = options_.dry_run;
    // WritePluginServerVersion checks the module itself; the image's shape does not matter to
    // a gateway that downloads plugin.wasm over HTTP.
    write.extract.check_gateway = false;
    const PluginServerPath& path = *item.plugin_server;
    auto written =
        plugin::WritePluginServerVersion(**src, *root, path.tree, path.name, path.version, write);
    if (!written) return context(written.error());
    result.plugin_file = written->info;
    if (written->unchanged) {
      result.state = MirrorItemResult::State::kUpToDate;
    } else if (options_.dry_run) {
      result.state = MirrorItemResult::State::kWouldCopy;
    } else {
      result.state = MirrorItemResult::State::kCopied;
      result.copy.bytes_copied = written->info.size;
    }
    return OkStatus();
  }

  Status MirrorOne(MirrorItemResult& result) {
    const MirrorItem& item = result.item;
    if (item.plugin_server) return WritePluginServer(result);
    auto context = [&](const Error& e) {
      return tl::unexpected(e.WithContext(
          fmt::format("mirror {} to {}", item.name.ToString(), item.destination.ToString())));
    };
    std::unique_ptr<store::Target> src_owned;
    std::unique_ptr<store::Target> dst_owned;
    auto src = SourceTarget(item, src_owned);
    if (!src) return context(src.error());
    auto dst = DestinationTarget(item, dst_owned);
    if (!dst) return context(dst.error());

    auto root = LockedResolve(**src, item.source.ResolveRef(), locks_);
    if (!root) return context(root.error());
    result.source_root = *root;

    const bool digest_only = item.name.tag.empty();
    const std::string tag = item.destination.ResolveRef();
    // With a variant the image is rebuilt in memory first (reproducibly: the same source gives
    // the same digest), so a rerun finds the rebuilt image in place and copies nothing.
    std::optional<RebuiltImage> rebuilt;
    if (options_.variant) {
      if (digest_only) {
        // The rebuilt image has another digest: it could only be stored untagged, where nobody
        // would find it again.
        return context(Error(ErrorCode::kInvalidArgument,
                             "a rebuilt image needs a tag; this reference has only a digest"));
      }
      ConvertOptions convert;
      convert.variant = *options_.variant;
      convert.created = options_.created;
      convert.check_gateway = options_.check_gateway;
      convert.require_loadable = options_.require_loadable;
      auto made = RebuildImage(**src, *root, convert);
      if (!made) return context(made.error());
      rebuilt = std::move(*made);
      result.converted = rebuilt->manifest;
      result.gateway = rebuilt->gateway;
    }
    // What the item's name must point at when done: the source image, or its rebuild.
    const oci::Descriptor wanted = rebuilt ? rebuilt->manifest : *root;
    // Referrers name the source digest as their subject: they apply to the copy unless the
    // rebuild changed the digest.
    const bool new_digest = wanted.digest != root->digest;

    // One image at a time per destination repository: tags of one repository often name the
    // same manifest, and distribution 2.8 can fail concurrent pushes of one manifest
    // (DIGEST_INVALID); the second then simply finds it in place.
    std::unique_lock<std::mutex> repository_lock;
    if (plan_.destination.is_registry()) {
      repository_lock = std::unique_lock(repository_locks_.For(item.destination.reference.Name()));
    }

    auto existing = Existing(*dst, item);
    if (!existing) return context(existing.error());
    if (*existing && (*existing)->digest == wanted.digest && KeyKept(**existing, item, *dst)) {
      result.state = MirrorItemResult::State::kUpToDate;
      // Signatures are often added after the image: an image in place may still lack some.
      Status referrers = MirrorReferrers(**src, *dst, *root, new_digest, result);
      if (!referrers) return context(referrers.error());
      return OkStatus();
    }
    if (options_.dry_run) {
      result.state = MirrorItemResult::State::kWouldCopy;
      return OkStatus();
    }
    if (!rebuilt && plan_.destination.location.kind == LocationKind::kDockerArchive) {
      // The archive refuses such images at Tag; refusing before the copy keeps their blobs
      // out of the file.
      Status loadable = CheckDockerLoadable(**src, *root);
      if (!loadable) return context(loadable.error());
    }

    const oci::Descriptor& stored = wanted;
    CopyOptions copy = options_.copy;
    copy.tags.clear();
    if (rebuilt) {
      auto copied = CopyGraph(*rebuilt->content, rebuilt->manifest, **dst, copy);
      if (!copied) {
        return context(copied.error().WithContext(
            fmt::format("copy the rebuilt {}", rebuilt->manifest.digest.ToString())));
      }
      result.copy = *copied;
    } else {
      // A registry repository is this item's own target: the copy tags it in the same request
      // that stores the manifest.
      if (plan_.destination.is_registry() && !digest_only) copy.tags.push_back(tag);
      auto copied = CopyGraph(**src, *root, **dst, copy);
      if (!copied) return context(copied.error());
      result.copy = *copied;
    }
    // A registry copy was tagged by CopyGraph (digest-only items need no tag); everything else
    // is tagged here (a rebuilt image into a registry always has a tag: checked above).
    const bool tagged_by_copy = plan_.destination.is_registry() && !options_.variant;
    if (!tagged_by_copy) {
      std::lock_guard lock(locks_.For(*dst));
      store::TagAnnotator* annotator = (*dst)->tag_annotator();
      // The key rides along on the bundle entry, so loading the bundle elsewhere (or serving
      // it) still knows the console's name for the plugin.
      Status tagged =
          annotator != nullptr && !item.plugin_name.empty()
              ? annotator->TagWithAnnotations(
                    stored, tag, {{std::string(oci::kAnnotationPluginName), item.plugin_name}})
              : (*dst)->Tag(stored, tag);
      if (!tagged) return context(tagged.error().WithContext(fmt::format("tag {}", tag)));
    }
    result.state = MirrorItemResult::State::kCopied;
    Status referrers = MirrorReferrers(**src, *dst, *root, new_digest, result);
    if (!referrers) return context(referrers.error());

    const size_t index = static_cast<size_t>(&result - report_.items.data());
    if (index < checked_.size() && checked_[index]) {
      // Decided before the run from the source: a copy keeps the digest, and so the verdict.
      result.gateway = checked_[index];
    } else if (options_.check_gateway && !options_.variant) {
      // Read the wasm layer from a local side when there is one: it costs no network.
      store::Target* check = *dst;
      if (plan_.destination.is_registry() && !item.bundle.empty() && !options_.variant) {
        check = *src;
      }
      auto report = plugin::CheckGatewayLoadability(*check, stored);
      if (!report) return context(report.error().WithContext("gateway check"));
      result.gateway = std::move(*report);
    }
    return OkStatus();
  }

  // Why referrers cannot travel from src to dst for an image; "" when they can. `new_digest`:
  // the image was rebuilt (--variant) into another digest. The destination's reason comes
  // first: it holds for every image of the run.
  std::string ReferrersBlocked(store::Target& src, store::Target* dst, bool new_digest) const {
    if (dst == nullptr ||
        (!plan_.destination.is_registry() && dst->referrer_recorder() == nullptr)) {
      return fmt::format(
          "referrers were not copied: {} cannot hold them (registries, oci: and oci-archive: "
          "can)",
          plan_.destination.ToString());
    }
    if (new_digest) {
      return "referrers of rebuilt images were not copied: --variant gives a rebuilt image a new "
             "digest, and their subjects name the original, which is not at the destination";
    }
    if (src.referrer_lister() == nullptr) {
      return fmt::format("referrers were not copied from {}: it cannot list them", src.Describe());
    }
    return "";
  }

  // Copies the referrers of `root` and theirs (options_.referrer_depth levels) that dst lacks,
  // each one after its subject, with the one copy engine. A registry destination indexes each
  // pushed referrer under its subject (referrers API or tag schema) as it stores it.
  Status MirrorReferrers(store::Target& src, store::Target* dst, const oci::Descriptor& root,
                         bool new_digest, MirrorItemResult& result) {
    if (!options_.with_referrers || options_.dry_run) return OkStatus();
    std::string blocked = ReferrersBlocked(src, dst, new_digest);
    if (!blocked.empty()) {
      std::lock_guard lock(note_mu_);
      if (report_.referrers_note.empty()) report_.referrers_note = std::move(blocked);
      return OkStatus();
    }
    std::vector<oci::Digest> level = {root.digest};
    size_t seen = 0;
    for (int depth = 0; depth < options_.referrer_depth && !level.empty(); ++depth) {
      std::vector<oci::Digest> next;
      for (const oci::Digest& subject : level) {
        Result<std::vector<oci::Descriptor>> listed;
        {
          std::lock_guard lock(locks_.For(&src));
          listed = src.referrer_lister()->Referrers(subject, "");
        }
        if (!listed) {
          return tl::unexpected(
              listed.error().WithContext(fmt::format("list referrers of {}", subject.ToString())));
        }
        for (const oci::Descriptor& referrer : *listed) {
          if (++seen > options_.max_referrers) {
            return MakeError(ErrorCode::kResourceExhausted,
                             "more than {} referrers below {}; refusing to copy them all",
                             options_.max_referrers, root.digest.ToString());
          }
          PLUGCTL_ASSIGN_OR_RETURN(bool present, dst->Exists(referrer));
          if (present) {
            ++result.referrers_present;
          } else {
            CopyOptions copy = options_.copy;
            copy.tags.clear();
            auto copied = CopyGraph(src, referrer, *dst, copy);
            if (!copied) {
              return tl::unexpected(copied.error().WithContext(
                  fmt::format("copy referrer {}", referrer.digest.ToString())));
            }
            ++result.referrers_copied;
            result.copy.bytes_copied += copied->bytes_copied;
          }
          // A layout or archive has no referrers API: an untagged index.json entry keeps the
          // referrer reachable (a registry indexed it when it stored it).
          if (store::ReferrerRecorder* recorder = dst->referrer_recorder()) {
            std::lock_guard lock(locks_.For(dst));
            Status recorded = recorder->RecordReferrer(referrer);
            if (!recorded) return recorded;
          }
          next.push_back(referrer.digest);
        }
      }
      level = std::move(next);
    }
    return OkStatus();
  }

  // Whether an existing destination entry already carries the item's plugins.properties key
  // (where the destination can keep one): a bundle from before the key was known is retagged.
  static bool KeyKept(const oci::Descriptor& existing, const MirrorItem& item, store::Target* dst) {
    if (item.plugin_name.empty() || dst == nullptr || dst->tag_annotator() == nullptr) {
      return true;
    }
    auto it = existing.annotations.find(std::string(oci::kAnnotationPluginName));
    return it != existing.annotations.end() && it->second == item.plugin_name;
  }

  const MirrorPlan& plan_;
  const MirrorOptions& options_;
  const OpenOptions& open_;       // sources
  const OpenOptions& dest_open_;  // the destination
  std::unique_ptr<store::Target> shared_dest_;
  TargetLocks locks_;
  LockTable<std::string> repository_locks_;
  MirrorReport report_;
  // CheckAllLoadable's verdicts, by item (empty without require_loadable).
  std::vector<std::optional<plugin::LoadabilityReport>> checked_;
  std::mutex on_item_mu_;  // on_item calls are serialized
  std::mutex note_mu_;     // guards report_.referrers_note while items run
};

}  // namespace

Result<MirrorReport> RunMirror(const MirrorPlan& plan, const MirrorOptions& options,
                               const OpenOptions& open) {
  return RunMirror(plan, options, open, open);
}

Result<MirrorReport> RunMirror(const MirrorPlan& plan, const MirrorOptions& options,
                               const OpenOptions& source_open,
                               const OpenOptions& destination_open) {
  MirrorRun run(plan, options, source_open, destination_open);
  PLUGCTL_ASSIGN_OR_RETURN(MirrorReport report, run.Run());
  return report;
}

}  // namespace plugctl::transfer
