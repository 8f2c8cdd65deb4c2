// PlanMirror: sources and bundles expanded into items with their destinations.
#include <set>

#include "plugctl/oci/plugin_name.h"
#include "plugctl/plugin/validate.h"
#include "plugctl/spec/spec.h"
#include "plugctl/store/content.h"
#include "plugctl/transfer/convert.h"
#include "plugctl/transfer/mirror.h"

namespace plugctl::transfer {
namespace {

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

// The name of a bundle image whose tag is not a full reference, as `copy` and `build` write
// them ("1.0.0", "hello-world:1.0.0"): NAME:TAG names itself the way `docker load` reads it
// (docker.io/library/NAME); a plain TAG takes a `--map TAG=NAME` rule, else the plugin name the
// image records (io.higress.plugin.name, which `build` writes from spec.yaml's info.name; its
// first segment, "basic-auth" for "basic-auth/v1"), else its spec.yaml's (plugin::SpecNameOfImage).
Result<oci::Reference> PlainTagName(store::Target& target, const std::string& key,
                                    const std::string& tag, const oci::Descriptor& root,
                                    const oci::Manifest& manifest, const NameMapping& mapping) {
  if (tag.find(':') != std::string::npos || tag.find('/') != std::string::npos) {
    auto name = oci::Reference::Parse(tag);
    if (name && !name->tag.empty()) return *name;
    if (!oci::ValidateTag(tag)) {
      // Neither a name nor a tag ("x/..:1"): nothing can make it one; say what is wrong with it.
      std::string why = name ? "it names no tag" : name.error().message();
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: entry \"{}\" is not an image reference ({}) nor a plain tag", key,
                       PrintableForMessage(tag, 256), PrintableForMessage(why, 512));
    }
  }
  std::string plugin;
  for (const auto& [from, to] : mapping.rules) {
    if (from == tag) {
      plugin = to;
      break;
    }
  }
  if (plugin.empty()) {
    std::vector<std::string> notes;
    // Spec names may carry a version suffix ("basic-auth/v1"); the repository is the plugin,
    // as `build` names docker archive images.
    plugin = spec::PluginBaseName(ImageMetadataOf(target, manifest, notes).name);
  }
  if (plugin.empty()) {
    // No annotation or label (an index, or a variant that keeps none): the spec.yaml the image
    // carries names it, as `wasmplugin` names the same image.
    auto named = plugin::SpecNameOfImage(target, root);
    if (named) plugin = std::move(*named);
  }
  if (plugin.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: tag \"{}\" is not a full image reference and the image records no "
                     "plugin name ({} or a spec.yaml info.name); name it with --map {}=NAME",
                     key, tag, plugin::kAnnotationPluginName, tag);
  }
  auto name = oci::Reference::Parse(fmt::format("{}:{}", plugin, tag));
  if (!name) {
    return tl::unexpected(name.error().WithContext(
        fmt::format("{}: tag \"{}\" named \"{}\"; name it with --map {}=NAME", key, tag,
                    plugin.substr(0, 128), tag)));
  }
  return *name;
}

Status ExpandBundle(const Location& bundle, const OpenOptions& open, const MirrorOptions& options,
                    MirrorPlan& plan, std::vector<MirrorItem>& items) {
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
    // Each manifest is read here: an entry that cannot be read (its manifest deleted or
    // corrupt) fails alone, before anything is copied, and the bundle's other images still go.
    // One that cannot be named is the user's to fix (--map): it stops the plan unless
    // keep_going.
    auto entry = target->Resolve(tag);
    auto manifest = entry ? store::FetchManifest(*target, *entry)
                          : Result<oci::Manifest>(tl::unexpected(entry.error()));
    if (!manifest) {
      // The target's errors name the bundle; the tag says which entry.
      plan.failures.emplace_back(fmt::format("{}: {}", key, tag),
                                 manifest.error().WithContext(tag));
      continue;
    }
    auto name = oci::Reference::Parse(tag);
    if (!name || tag.find('/') == std::string::npos || (name->tag.empty() && !name->digest)) {
      // Not a mirror bundle's name: a tag as `copy` or `build` writes it.
      name = PlainTagName(*target, key, tag, *entry, *manifest, options.mapping);
      if (!name) {
        // This entry fails alone; the bundle's other images still go.
        plan.failures.emplace_back(fmt::format("{}: {}", key, PrintableForMessage(tag, 256)),
                                   name.error());
        continue;
      }
    }
    if (!seen.insert(BundleName(*name)).second) continue;
    // The keys a previous mirror kept on the entry (docker archives have no entry annotations):
    // one item per key, so that each key gets its plugin-server directory again.
    std::string listed;
    if (auto it = entry->annotations.find(std::string(oci::kAnnotationPluginName));
        it != entry->annotations.end()) {
      listed = it->second;
    }
    for (std::string& plugin_name : oci::SplitPluginNames(listed)) {
      MirrorItem item;
      item.plugin_name = std::move(plugin_name);
      item.name = *name;
      item.origin = key;
      item.source = key_loc;
      item.source.ref = tag;
      item.bundle = key;
      items.push_back(std::move(item));
    }
  }
  return OkStatus();
}

}  // namespace

Result<oci::Reference> BundleEntryName(store::Target& target, const std::string& key,
                                       const std::string& tag, const oci::Descriptor& root,
                                       const NameMapping& mapping) {
  auto name = oci::Reference::Parse(tag);
  if (name && tag.find('/') != std::string::npos && (!name->tag.empty() || name->digest)) {
    return *name;
  }
  auto manifest = store::FetchManifest(target, root);
  if (!manifest) {
    return tl::unexpected(manifest.error().WithContext(fmt::format("{}: {}", key, tag)));
  }
  return PlainTagName(target, key, tag, root, *manifest, mapping);
}

Result<MirrorPlan> PlanMirror(const std::vector<MirrorSource>& sources,
                              const std::vector<Location>& bundles,
                              const MirrorDestination& destination, const MirrorOptions& options,
                              const OpenOptions& open) {
  MirrorPlan plan;
  plan.destination = destination;
  if (destination.is_plugin_server() && options.variant) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--variant does not apply to {}: it holds plugin.wasm itself, not an image",
                     destination.ToString());
  }
  if ((destination.is_registry() || destination.is_plugin_server()) &&
      !options.mapping.bundle_registry.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--prefix names the images of a bundle (oci:, oci-archive:, docker-archive:); "
                     "{} is named by --to itself",
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
      item.plugin_name = source.name;
      items.push_back(std::move(item));
    }
  }
  for (const Location& bundle : bundles) {
    Status expanded = ExpandBundle(bundle, open, options, plan, items);
    if (!expanded) {
      if (!options.keep_going) return tl::unexpected(expanded.error());
      plan.failures.emplace_back(bundle.ToString(), expanded.error());
    }
  }

  // The same image named twice (a list and an argument) is copied once, keeping every
  // plugins.properties key it was listed under (a bundle entry records them all); two different
  // images landing on one name would silently overwrite each other.
  std::map<std::string, std::pair<std::string, size_t>> by_destination;  // → source, item
  for (MirrorItem& item : items) {
    Status placed = OkStatus();
    if (destination.is_plugin_server()) {
      auto path = PluginServerPathFor(item.name, item.plugin_name, *destination.plugin_server,
                                      options.mapping);
      if (path) {
        item.plugin_server = std::move(*path);
      } else {
        placed = tl::unexpected(path.error());
      }
    } else {
      auto dest = DestinationFor(item.name, destination, options.mapping);
      if (dest) {
        item.destination = std::move(*dest);
      } else {
        placed = tl::unexpected(dest.error());
      }
    }
    if (!placed) {
      Error e = placed.error().WithContext(item.origin);
      // A bundle entry that cannot be placed fails alone, as one that cannot be named does.
      if (!options.keep_going && item.bundle.empty()) return tl::unexpected(e);
      plan.failures.emplace_back(item.name.ToString(), e);
      continue;
    }
    const std::string dest_text = item.DestinationString();
    const std::string source_text = item.name.ToString();
    auto [it, inserted] = by_destination.try_emplace(dest_text, source_text, plan.items.size());
    if (!inserted) {
      if (it->second.first == source_text) {
        MirrorItem& kept = plan.items[it->second.second];
        kept.plugin_name = oci::JoinPluginNames({kept.plugin_name, item.plugin_name});
        continue;
      }
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} and {} would both be mirrored to {}; use {} to keep them apart",
                       it->second.first, source_text, dest_text,
                       destination.is_plugin_server() ? "--map" : "--scoped or --map");
    }
    plan.items.push_back(std::move(item));
  }
  if (plan.items.empty() && plan.failures.empty()) {
    return MakeError(ErrorCode::kNotFound, "nothing to mirror: the lists select no images");
  }
  return plan;
}
}  // namespace plugctl::transfer
