// Naming for mirror runs: where each source image lands (see mirror_naming.h).
#include "plugctl/transfer/mirror_naming.h"

#include <cctype>
#include <optional>

#include "plugctl/oci/plugin_name.h"

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

}  // namespace

std::string BundleName(const oci::Reference& name) {
  if (!name.tag.empty()) return fmt::format("{}/{}:{}", name.registry, name.repository, name.tag);
  return fmt::format("{}/{}@{}", name.registry, name.repository, name.digest->ToString());
}

Result<oci::Reference> MapBundleName(const oci::Reference& name, const NameMapping& mapping) {
  const std::string pin =
      name.tag.empty() ? "@" + name.digest->ToString() : fmt::format(":{}", name.tag);
  std::string text;
  if (!mapping.bundle_registry.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string repository,
                             MapRepository(name, mapping.bundle_path, mapping));
    text = fmt::format("{}/{}{}", mapping.bundle_registry, repository, pin);
  } else {
    const std::string full = name.Name();
    size_t best = 0;
    for (const auto& [from, to] : mapping.rules) {
      auto rest = MatchPrefix(full, from);
      if (!rest || (!text.empty() && from.size() <= best)) continue;
      best = from.size();
      text = to + std::string(*rest) + pin;
    }
    if (text.empty()) return name;
  }
  auto mapped = oci::Reference::Parse(text);
  if (!mapped) {
    return tl::unexpected(mapped.error().WithContext(
        fmt::format("{} renamed for the bundle is \"{}\"", name.ToString(), text.substr(0, 256))));
  }
  return *mapped;
}

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
  if (plugin_server) return fmt::format("{}{}", kPluginServerTransport, plugin_server->string());
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
  if (text.starts_with(kPluginServerTransport)) {
    std::string_view dir = text.substr(kPluginServerTransport.size());
    if (dir.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid destination \"{}\": expected plugin-server:DIR", text);
    }
    dest.plugin_server = std::filesystem::path(dir);
    return dest;
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

std::string PluginServerPath::ToString() const {
  return fmt::format("{}{}", kPluginServerTransport, (tree / name / version).string());
}

Result<PluginServerPath> PluginServerPathFor(const oci::Reference& source,
                                             std::string_view listed_name,
                                             const std::filesystem::path& tree,
                                             const NameMapping& mapping) {
  if (source.tag.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: a plugin-server names versions by tag; this reference has only a digest",
                     source.ToString());
  }
  PluginServerPath out;
  out.tree = tree;
  out.version = source.tag;
  out.name = oci::PluginPathName(source.repository, listed_name);
  const std::string full = source.Name();
  for (const auto& [from, to] : mapping.rules) {
    if ((!out.name.empty() && from == out.name) || from == full || from == source.repository) {
      out.name = to;
      break;
    }
  }
  if (!oci::IsPluginPathSegment(out.name) || !oci::IsPluginPathSegment(out.version)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: plugin-server path \"{}/{}\" is not two safe path segments "
                     "([A-Za-z0-9._+-], not starting with '.'); name it with --map",
                     source.ToString(), out.name.substr(0, 256), out.version);
  }
  return out;
}

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
    PLUGCTL_ASSIGN_OR_RETURN(oci::Reference named, MapBundleName(name, mapping));
    loc.ref = BundleName(named);
    return loc;
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string repository, MapRepository(name, dest.prefix, mapping));
  std::string text = fmt::format("{}/{}", dest.location.reference.registry, repository);
  if (!name.tag.empty()) {
    text += ":" + name.tag;
  } else {
    text += "@" + name.digest->ToString();
  }
  // docker:// so that a mapped name is never mistaken for a path on disk.
  auto loc = ParseLocation("docker://" + text);
  if (!loc) {
    return tl::unexpected(loc.error().WithContext(fmt::format("map {}", name.ToString())));
  }
  return loc;
}

}  // namespace plugctl::transfer
