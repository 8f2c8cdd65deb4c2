#include "plugctl/transfer/mirror.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

#include "plugctl/base/parallel.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/content.h"
#include "plugctl/transfer/convert.h"

namespace plugctl::transfer {
namespace {

constexpr std::string_view kSchemes[] = {"oci://", "docker://"};

bool LooksLikeHost(std::string_view text) {
  return text.find_first_of(".:") != std::string_view::npos || text == "localhost" ||
         text.starts_with("localhost:");
}

// "reg.io:5000" → "reg.io-5000": a port's ':' is not allowed in a repository path.
std::string HostAsPathComponent(std::string_view host) {
  std::string out;
  for (char c : host) {
    out += c == ':' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Whether `from` names `name` or a path prefix of it; the remainder after it ("" or "/…").
std::optional<std::string_view> MatchPrefix(std::string_view name, std::string_view from) {
  if (from.ends_with('/')) from.remove_suffix(1);
  if (from.empty() || !name.starts_with(from)) return std::nullopt;
  std::string_view rest = name.substr(from.size());
  if (!rest.empty() && rest[0] != '/') return std::nullopt;
  return rest;
}

// The name an image gets inside a local bundle: its full reference, pinned by tag when it has
// one (a bundle's tags are what the user looks images up by).
std::string BundleName(const oci::Reference& name) {
  if (!name.tag.empty()) return fmt::format("{}/{}:{}", name.registry, name.repository, name.tag);
  return fmt::format("{}/{}@{}", name.registry, name.repository, name.digest->ToString());
}

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

}  // namespace

Result<std::pair<std::string, std::string>> ParseMappingRule(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid --map \"{}\": expected FROM=TO (e.g. "
                     "higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins=higress)",
                     text);
  }
  std::string from(text.substr(0, eq));
  std::string to(text.substr(eq + 1));
  for (std::string_view scheme : kSchemes) {
    if (from.starts_with(scheme)) from.erase(0, scheme.size());
  }
  while (to.ends_with('/')) to.pop_back();
  return std::pair{from, to};
}

Result<std::string> MapRepository(const oci::Reference& source, std::string_view prefix,
                                  const NameMapping& mapping) {
  const std::string full = source.Name();
  std::string mapped;
  size_t best = 0;
  bool matched = false;
  for (const auto& [from, to] : mapping.rules) {
    for (std::string_view name : {std::string_view(full), std::string_view(source.repository)}) {
      auto rest = MatchPrefix(name, from);
      if (!rest || (matched && from.size() <= best)) continue;
      matched = true;
      best = from.size();
      mapped = to + std::string(*rest);
      while (mapped.starts_with('/')) mapped.erase(0, 1);
    }
  }
  if (!matched) {
    if (mapping.scoped) {
      mapped = HostAsPathComponent(source.registry) + "/" + source.repository;
    } else {
      size_t slash = source.repository.rfind('/');
      mapped = slash == std::string::npos ? source.repository : source.repository.substr(slash + 1);
    }
  }
  std::string repository = prefix.empty()   ? mapped
                           : mapped.empty() ? std::string(prefix)
                                            : fmt::format("{}/{}", prefix, mapped);
  if (repository.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "{} maps to an empty repository name",
                     source.ToString());
  }
  return repository;
}

std::string MirrorDestination::ToString() const {
  if (!is_registry()) return location.ToString();
  return prefix.empty() ? location.reference.registry
                        : fmt::format("{}/{}", location.reference.registry, prefix);
}

Result<MirrorDestination> ParseMirrorDestination(std::string_view text) {
  MirrorDestination dest;
  std::string_view rest = text;
  for (std::string_view s : kSchemes) {
    if (rest.starts_with(s)) rest.remove_prefix(s.size());
  }
  if (IsLocalTransport(text)) {
    PLUGCTL_ASSIGN_OR_RETURN(dest.location, ParseLocation(text));
    if (!dest.location.ref.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid destination \"{}\": a mirror names every image by its full "
                       "reference; drop \":{}\"",
                       text, dest.location.ref);
    }
    return dest;
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  size_t slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (host.empty() || !LooksLikeHost(host)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid destination \"{}\": expected a registry prefix starting with a host "
                     "(registry.local:5000/plugins), or oci:DIR, oci-archive:FILE, "
                     "docker-archive:FILE",
                     text);
  }
  // Validate host and path with the reference grammar; a tag or digest has no place here.
  std::string probe = path.empty() ? fmt::format("{}/x", host) : fmt::format("{}/{}", host, path);
  auto parsed = oci::Reference::Parse(probe);
  if (!parsed) {
    return tl::unexpected(
        parsed.error().WithContext(fmt::format("invalid destination \"{}\"", text)));
  }
  if (!parsed->tag.empty() || parsed->digest) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid destination \"{}\": a registry prefix has no tag or digest (images "
                     "keep their own tags)",
                     text);
  }
  dest.location.kind = LocationKind::kRegistry;
  dest.location.reference.registry = parsed->registry;
  dest.location.reference.repository = std::string(path);
  dest.prefix = std::string(path);
  return dest;
}

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

// Where `name` goes at `dest`.
Result<Location> DestinationFor(const oci::Reference& name, const MirrorDestination& dest,
                                const NameMapping& mapping) {
  if (!dest.is_registry()) {
    Location loc = dest.location;
    if (loc.kind == LocationKind::kDockerArchive && name.tag.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: a docker archive names images by tag (RepoTags); this reference has "
                       "only a digest",
                       name.ToString());
    }
    loc.ref = BundleName(name);
    return loc;
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string repository, MapRepository(name, dest.prefix, mapping));
  std::string text = fmt::format("{}/{}", dest.location.reference.registry, repository);
  if (!name.tag.empty()) {
    text += ":" + name.tag;
  } else {
    text += "@" + name.digest->ToString();
  }
  auto loc = ParseLocation(text);
  if (!loc) {
    return tl::unexpected(loc.error().WithContext(fmt::format("map {}", name.ToString())));
  }
  return loc;
}

// The source as its own name: by digest when pinned, else by tag.
Location RegistrySource(const oci::Reference& name) {
  Location loc;
  loc.kind = LocationKind::kRegistry;
  loc.reference = name;
  if (name.digest) loc.reference.tag.clear();
  loc.ref = loc.ResolveRef();
  return loc;
}

Status ExpandSource(const MirrorSource& source, const OpenOptions& open,
                    std::vector<std::pair<oci::Reference, std::string>>& out) {
  for (const std::string& ref : source.refs) {
    oci::Reference name = source.repository;
    if (ref.starts_with("sha256:") || ref.starts_with("sha512:")) {
      PLUGCTL_ASSIGN_OR_RETURN(oci::Digest digest, oci::Digest::Parse(ref));
      name.digest = digest;
    } else {
      name.tag = ref;
    }
    out.emplace_back(std::move(name), source.origin);
  }
  if (!source.NeedsTagList()) return OkStatus();
  Location repo_loc;
  repo_loc.kind = LocationKind::kRegistry;
  repo_loc.reference = source.repository;
  PLUGCTL_ASSIGN_OR_RETURN(auto target, OpenLocation(repo_loc, AccessMode::kRead, open));
  auto tags = target->Tags();
  if (!tags) {
    return tl::unexpected(
        tags.error().WithContext(fmt::format("list tags of {}", source.repository.Name())));
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> selected, SelectTags(source, *tags));
  for (std::string& tag : selected) {
    oci::Reference name = source.repository;
    name.tag = std::move(tag);
    out.emplace_back(std::move(name), source.origin);
  }
  return OkStatus();
}

Status ExpandBundle(const Location& bundle, const OpenOptions& open, MirrorPlan& plan,
                    std::vector<MirrorItem>& items) {
  Location key_loc = bundle;
  key_loc.ref.clear();
  const std::string key = key_loc.ToString();
  std::shared_ptr<store::Target> target;
  if (auto it = plan.bundles.find(key); it != plan.bundles.end()) {
    target = it->second;
  } else {
    PLUGCTL_ASSIGN_OR_RETURN(auto opened, OpenLocation(key_loc, AccessMode::kRead, open));
    target = std::move(opened);
    plan.bundles[key] = target;
  }
  std::vector<std::string> tags;
  if (!bundle.ref.empty()) {
    tags.push_back(bundle.ref);
  } else {
    PLUGCTL_ASSIGN_OR_RETURN(tags, target->Tags());
  }
  if (tags.empty()) {
    return MakeError(ErrorCode::kNotFound, "{} holds no tagged images", key);
  }
  std::set<std::string> seen;
  for (const std::string& tag : tags) {
    // docker 25+ archives also list the containerd form of each name
    // ("docker.io/library/x:1"); a bundle names images by full reference.
    auto name = oci::Reference::Parse(tag);
    if (!name || tag.find('/') == std::string::npos || (name->tag.empty() && !name->digest)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: tag \"{}\" is not a full image reference (host/repository:tag); "
                       "mirror loads bundles whose images are named by reference, as `plugctl "
                       "mirror --to oci-archive:…` writes them",
                       key, tag);
    }
    if (!seen.insert(BundleName(*name)).second) continue;
    MirrorItem item;
    item.name = *name;
    item.origin = key;
    item.source = key_loc;
    item.source.ref = tag;
    item.bundle = key;
    items.push_back(std::move(item));
  }
  return OkStatus();
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

Result<MirrorPlan> PlanMirror(const std::vector<MirrorSource>& sources,
                              const std::vector<Location>& bundles,
                              const MirrorDestination& destination, const MirrorOptions& options,
                              const OpenOptions& open) {
  MirrorPlan plan;
  plan.destination = destination;
  if (!destination.is_registry() && !options.mapping.rules.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--map applies to registry destinations; {} names images by their full "
                     "references",
                     destination.ToString());
  }
  std::vector<MirrorItem> items;
  for (const MirrorSource& source : sources) {
    std::vector<std::pair<oci::Reference, std::string>> names;
    Status expanded = ExpandSource(source, open, names);
    if (!expanded) {
      Error e = expanded.error().WithContext(source.origin);
      if (!options.keep_going) return tl::unexpected(e);
      plan.failures.emplace_back(source.origin, e);
    }
    for (auto& [name, origin] : names) {
      MirrorItem item;
      item.source = RegistrySource(name);
      item.name = std::move(name);
      item.origin = std::move(origin);
      items.push_back(std::move(item));
    }
  }
  for (const Location& bundle : bundles) {
    Status expanded = ExpandBundle(bundle, open, plan, items);
    if (!expanded) {
      if (!options.keep_going) return tl::unexpected(expanded.error());
      plan.failures.emplace_back(bundle.ToString(), expanded.error());
    }
  }

  // The same image named twice (a list and an argument) is copied once; two different
  // images landing on one name would silently overwrite each other.
  std::map<std::string, std::string> by_destination;  // destination → source name
  for (MirrorItem& item : items) {
    auto dest = DestinationFor(item.name, destination, options.mapping);
    if (!dest) {
      Error e = dest.error().WithContext(item.origin);
      if (!options.keep_going) return tl::unexpected(e);
      plan.failures.emplace_back(item.name.ToString(), e);
      continue;
    }
    item.destination = *dest;
    const std::string dest_text = item.destination.ToString();
    const std::string source_text = item.name.ToString();
    auto [it, inserted] = by_destination.emplace(dest_text, source_text);
    if (!inserted) {
      if (it->second == source_text) continue;
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} and {} would both be mirrored to {}; use --scoped or --map to keep "
                       "them apart",
                       it->second, source_text, dest_text);
    }
    plan.items.push_back(std::move(item));
  }
  if (plan.items.empty() && plan.failures.empty()) {
    return MakeError(ErrorCode::kNotFound, "nothing to mirror: the lists select no images");
  }
  return plan;
}

namespace {

class MirrorRun {
 public:
  MirrorRun(const MirrorPlan& plan, const MirrorOptions& options, const OpenOptions& open)
      : plan_(plan), options_(options), open_(open) {}

  Result<MirrorReport> Run() {
    const MirrorDestination& dest = plan_.destination;
    if (!dest.is_registry()) {
      auto opened = OpenLocation(dest.location,
                                 options_.dry_run ? AccessMode::kRead : AccessMode::kWrite, open_);
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
                            options_.dry_run ? AccessMode::kRead : AccessMode::kWrite, open_));
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

  Status MirrorOne(MirrorItemResult& result) {
    const MirrorItem& item = result.item;
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

    // One image at a time per destination repository: tags of one repository often name the
    // same manifest, and distribution 2.8 can fail concurrent pushes of one manifest
    // (DIGEST_INVALID); the second then simply finds it in place.
    std::unique_lock<std::mutex> repository_lock;
    if (plan_.destination.is_registry()) {
      repository_lock = std::unique_lock(repository_locks_.For(item.destination.reference.Name()));
    }

    if (!options_.variant) {
      auto existing = Existing(*dst, item);
      if (!existing) return context(existing.error());
      if (*existing && (*existing)->digest == root->digest) {
        result.state = MirrorItemResult::State::kUpToDate;
        return OkStatus();
      }
    }
    if (options_.dry_run) {
      result.state = MirrorItemResult::State::kWouldCopy;
      return OkStatus();
    }
    if (!options_.variant && plan_.destination.location.kind == LocationKind::kDockerArchive) {
      // The archive refuses such images at Tag; refusing before the copy keeps their blobs
      // out of the file.
      Status loadable = CheckDockerLoadable(**src, *root);
      if (!loadable) return context(loadable.error());
    }

    const bool digest_only = item.name.tag.empty();
    const std::string tag = item.destination.ResolveRef();
    oci::Descriptor stored = *root;
    if (options_.variant && digest_only) {
      // The rebuilt image has another digest: it could only be stored untagged, where nobody
      // would find it again.
      return context(Error(ErrorCode::kInvalidArgument,
                           "a rebuilt image needs a tag; this reference has only a digest"));
    }
    if (options_.variant) {
      ConvertOptions convert;
      convert.variant = *options_.variant;
      convert.created = options_.created;
      convert.copy = options_.copy;
      convert.copy.tags.clear();
      auto converted = ConvertImage(**src, *root, **dst, convert);
      if (!converted) return context(converted.error());
      result.copy = converted->copy;
      result.converted = converted->image.manifest;
      stored = converted->image.manifest;
    } else {
      CopyOptions copy = options_.copy;
      copy.tags.clear();
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
      Status tagged = (*dst)->Tag(stored, tag);
      if (!tagged) return context(tagged.error().WithContext(fmt::format("tag {}", tag)));
    }
    result.state = MirrorItemResult::State::kCopied;

    if (options_.check_gateway) {
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

  const MirrorPlan& plan_;
  const MirrorOptions& options_;
  const OpenOptions& open_;
  std::unique_ptr<store::Target> shared_dest_;
  TargetLocks locks_;
  LockTable<std::string> repository_locks_;
  MirrorReport report_;
  std::mutex on_item_mu_;  // on_item calls are serialized
};

}  // namespace

Result<MirrorReport> RunMirror(const MirrorPlan& plan, const MirrorOptions& options,
                               const OpenOptions& open) {
  MirrorRun run(plan, options, open);
  PLUGCTL_ASSIGN_OR_RETURN(MirrorReport report, run.Run());
  return report;
}

}  // namespace plugctl::transfer
