// plugctl/transfer/mirror_naming.h — where `plugctl mirror` puts each image.
//
// A mirror destination (`--to`) is a registry prefix, one local layout/archive, or a Higress
// plugin-server tree (plugin-server:DIR, plugin/plugin_server.h). Under a
// registry prefix every source repository gets a repository of its own, named by
// MapRepository; in a local destination every image is tagged with its full reference
// (BundleName), which is how a bundle names what it holds. DestinationFor combines both.
//
//   PLUGCTL_ASSIGN_OR_RETURN(MirrorDestination dest, ParseMirrorDestination("reg.local/plugins"));
//   PLUGCTL_ASSIGN_OR_RETURN(Location at, DestinationFor(name, dest, NameMapping{}));
//
// Pure functions: thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/reference.h"
#include "plugctl/transfer/location.h"

namespace plugctl::transfer {

// How source repositories are named under a registry destination prefix.
struct NameMapping {
  // Keep the source registry and the whole path ("reg.io/plugins/x" → PREFIX/reg.io/plugins/x;
  // a port's ':' becomes '-'), as `skopeo sync --scoped`. Default: the last path component only.
  bool scoped = false;
  // FROM=TO rewrites, tried before the rules above. FROM matches "host/path" (or "path") of the
  // source exactly or as a prefix ending at a '/'; the longest match wins; the matched part is
  // replaced by TO.
  std::vector<std::pair<std::string, std::string>> rules;
  // Local destinations (bundles) only: name every image as if mirrored into this registry
  // prefix (`--prefix registry.local:5000/plugins`: host and path, by the rules above), so that
  // `docker load` of the bundle yields the private registry's names. Empty: full source names,
  // rewritten by `rules` matched against the whole "host/path" (TO is then a full name too).
  std::string bundle_registry;
  std::string bundle_path;
};

// Parses "FROM=TO" for NameMapping::rules (kInvalidArgument naming the text).
[[nodiscard]] Result<std::pair<std::string, std::string>> ParseMappingRule(std::string_view text);

// The repository (path only) `source` lands in under `prefix` ("" for the registry's root).
// kInvalidArgument when the result is not a valid repository name.
[[nodiscard]] Result<std::string> MapRepository(const oci::Reference& source,
                                                std::string_view prefix,
                                                const NameMapping& mapping);

// The mirror-only destination transport: "plugin-server:DIR".
inline constexpr std::string_view kPluginServerTransport = "plugin-server:";

// A destination as `mirror --to` takes it: a location (oci:, oci-archive:, docker-archive:),
// a registry prefix "host[:port][/path]" with an optional oci:// or docker:// scheme and no
// tag or digest, or plugin-server:DIR.
struct MirrorDestination {
  Location location;  // kRegistry: reference.registry and reference.repository (the prefix)
  std::string prefix;
  // plugin-server:DIR: the tree's directory; `location` is unused then.
  std::optional<std::filesystem::path> plugin_server;
  bool is_registry() const { return !plugin_server && location.kind == LocationKind::kRegistry; }
  bool is_plugin_server() const { return plugin_server.has_value(); }
  std::string ToString() const;
};
[[nodiscard]] Result<MirrorDestination> ParseMirrorDestination(std::string_view text);

// Where an image lands in a plugin-server tree: <tree>/<name>/<version>/.
struct PluginServerPath {
  std::filesystem::path tree;
  std::string name;
  std::string version;
  // "plugin-server:<tree>/<name>/<version>".
  std::string ToString() const;
};

// The plugin-server name of `source` (which has a tag: the version) listed under `listed_name`
// ("" when not from a plugins.properties list): oci::PluginPathName, unless a mapping rule
// names it. For plugin-server destinations a rule FROM=TO applies when FROM is exactly that
// name, the source's "host/path" or its path; TO is the name then. The first matching rule wins.
// kInvalidArgument when the source has no tag, or the name or version is not a safe path
// segment (oci::IsPluginPathSegment).
[[nodiscard]] Result<PluginServerPath> PluginServerPathFor(const oci::Reference& source,
                                                           std::string_view listed_name,
                                                           const std::filesystem::path& tree,
                                                           const NameMapping& mapping);

// The name an image gets inside a local bundle: its full reference, pinned by tag when it has
// one (a bundle's tags are what the user looks images up by). `name` has a tag or a digest.
std::string BundleName(const oci::Reference& name);

// `name` renamed for a local bundle by mapping.bundle_registry/bundle_path or mapping.rules
// (see NameMapping); `name` itself when neither applies. kInvalidArgument when the result is
// not a valid reference.
[[nodiscard]] Result<oci::Reference> MapBundleName(const oci::Reference& name,
                                                   const NameMapping& mapping);

// Where `name` (with a tag or a digest) goes at `dest`: the mapped registry repository with the
// same tag or digest, or the local destination with `ref` set to
// BundleName(MapBundleName(name)).
// kInvalidArgument when the name cannot be mapped, or for a digest-only name going to a docker
// archive (which names images by tag only).
[[nodiscard]] Result<Location> DestinationFor(const oci::Reference& name,
                                              const MirrorDestination& dest,
                                              const NameMapping& mapping);

}  // namespace plugctl::transfer
