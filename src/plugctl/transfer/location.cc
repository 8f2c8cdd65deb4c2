#include "plugctl/transfer/location.h"

#include <array>
#include <system_error>

#include "plugctl/archive/tar.h"
#include "plugctl/oci/digest.h"

namespace plugctl::transfer {
namespace {

struct Transport {
  std::string_view prefix;
  LocationKind kind;
};

constexpr Transport kLocalTransports[] = {
    {"oci:", LocationKind::kOciLayout},
    {"oci-archive:", LocationKind::kOciArchive},
    {"docker-archive:", LocationKind::kDockerArchive},
};

std::string_view KindPrefix(LocationKind kind) {
  for (const Transport& t : kLocalTransports) {
    if (t.kind == kind) return t.prefix;
  }
  return "";
}

// Transports of skopeo, podman and friends that plugctl does not read. Without this list
// "dir:/x" would parse as Docker Hub's "library/dir" with a tag.
constexpr std::array<std::string_view, 9> kForeignTransports = {
    "dir:",           "containers-storage:",
    "docker-daemon:", "ostree:",
    "sif:",           "tarball:",
    "file:",          "http:",
    "https:"};

constexpr std::string_view kTransportHint =
    "plugctl reads oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:TAG] and registry "
    "references (HOST/REPO[:TAG|@DIGEST], docker://…, oci://…)";

}  // namespace

Result<Location> LocationFromContent(std::string_view text, LocalContent content) {
  const std::filesystem::path path{std::string(text)};
  Location loc;
  loc.path = path;
  switch (content) {
    case LocalContent::kOciLayout:
      loc.kind = LocationKind::kOciLayout;
      return loc;
    case LocalContent::kOciArchive:
      loc.kind = LocationKind::kOciArchive;
      return loc;
    case LocalContent::kDockerArchive:
      loc.kind = LocationKind::kDockerArchive;
      return loc;
    case LocalContent::kPluginDirectory:
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\" is a plugin directory, not an image: build one with `plugctl build "
                       "{} oci:OUT:TAG` (or write docker://{} to mean a registry image)",
                       text, text, text);
    case LocalContent::kOtherDirectory:
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\" is a directory but not an OCI image layout (it has no oci-layout "
                       "file); to create a layout there write oci:{} (or docker://{} to mean a "
                       "registry image)",
                       text, text, text);
    case LocalContent::kOtherFile:
      break;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "\"{}\" is a file but neither an OCI archive nor a docker archive (a list of "
                   "plugins is read by `plugctl mirror`; write docker://{} to mean a registry "
                   "image)",
                   text, text);
}

Result<LocalContent> SniffLocalPath(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return MakeError(ErrorCode::kNotFound, "{}: no such file or directory", path.string());
  }
  if (std::filesystem::is_directory(status)) {
    if (std::filesystem::is_regular_file(path / "oci-layout", ec)) return LocalContent::kOciLayout;
    if (std::filesystem::exists(path / "spec.yaml", ec) ||
        std::filesystem::exists(path / "plugin.wasm", ec)) {
      return LocalContent::kPluginDirectory;
    }
    return LocalContent::kOtherDirectory;
  }
  if (!std::filesystem::is_regular_file(status)) return LocalContent::kOtherFile;
  auto tar = archive::TarReader::Open(path);
  if (!tar) {
    // Not a tar (or a damaged one): some other file. Failing to read it at all is an error.
    const ErrorCode code = tar.error().code();
    if (code == ErrorCode::kInvalidArgument || code == ErrorCode::kDataLoss) {
      return LocalContent::kOtherFile;
    }
    return tl::unexpected(tar.error());
  }
  // Member names only: data is skipped. A bound on members keeps a hostile tar of empty
  // entries from making a guess expensive.
  for (int i = 0; i < 100000; ++i) {
    auto entry = (*tar)->Next();
    if (!entry || !*entry) break;
    std::string_view name = (*entry)->path;
    while (name.starts_with("./")) name.remove_prefix(2);
    if (name == "oci-layout") return LocalContent::kOciArchive;
    if (name == "manifest.json") return LocalContent::kDockerArchive;
  }
  return LocalContent::kOtherFile;
}

Status RejectForeignTransport(std::string_view text) {
  for (std::string_view foreign : kForeignTransports) {
    if (text.starts_with(foreign)) {
      return MakeError(ErrorCode::kInvalidArgument, "\"{}\": unknown transport {}; {}", text,
                       foreign, kTransportHint);
    }
  }
  return OkStatus();
}

bool LooksLikeLocalPath(std::string_view text) {
  if (text == "." || text == ".." || text.starts_with("/") || text.starts_with("./") ||
      text.starts_with("../") || text.starts_with("~")) {
    return true;
  }
  for (std::string_view ext : {".tar", ".tgz", ".tar.gz", ".tar.zst", ".properties", ".list",
                               ".txt", ".yaml", ".yml", ".json", ".wasm"}) {
    if (text.ends_with(ext)) return true;
  }
  return false;
}

bool IsLocalTransport(std::string_view text) {
  // "oci://host/repo" is a registry reference (WasmPlugin URLs), not the "oci:" layout transport.
  if (text.starts_with("oci://") || text.starts_with("docker://")) return false;
  for (const Transport& t : kLocalTransports) {
    if (text.starts_with(t.prefix)) return true;
  }
  return false;
}

std::string Location::ResolveRef() const {
  if (kind == LocationKind::kRegistry) {
    if (reference.digest) return reference.digest->ToString();
    return reference.tag;
  }
  if (ref_is_digest()) return ref.substr(1);
  return ref;
}

bool Location::ref_is_digest() const { return !ref.empty() && ref[0] == '@'; }

std::string Location::ToString() const {
  if (kind == LocationKind::kRegistry) return reference.ToString();
  std::string out = std::string(KindPrefix(kind)) + path.string();
  if (!ref.empty()) out += ":" + ref;
  return out;
}

Result<Location> ParseLocation(std::string_view text, LocationUse use) {
  if (text.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty image location");
  if (text.starts_with("plugin-server:")) {
    // A tree of plain files, not a store of images: only mirror writes one.
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"{}\": plugin-server:DIR is only a destination of `plugctl mirror --to`",
                     text);
  }
  const bool local = IsLocalTransport(text);
  for (const Transport& t : kLocalTransports) {
    if (!local || !text.starts_with(t.prefix)) continue;
    std::string_view rest = text.substr(t.prefix.size());
    Location loc;
    loc.kind = t.kind;
    size_t colon = rest.find(':');
    std::string_view path = rest.substr(0, colon);
    if (path.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid location \"{}\": missing path after {}", text, t.prefix);
    }
    loc.path = std::filesystem::path(path);
    if (colon != std::string_view::npos) {
      loc.ref = std::string(rest.substr(colon + 1));
      if (loc.ref.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "invalid location \"{}\": empty reference after ':'", text);
      }
      if (loc.ref_is_digest()) {
        auto digest = oci::Digest::Parse(loc.ref.substr(1));
        if (!digest) {
          return tl::unexpected(digest.error().WithContext(fmt::format("location \"{}\"", text)));
        }
      } else if (loc.ref.size() > 512 ||
                 loc.ref.find_first_of(std::string_view("\0\n\r\t ", 5)) != std::string::npos) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "invalid location \"{}\": reference has whitespace or control characters "
                         "or is too long",
                         text.substr(0, 600));
      }
    }
    return loc;
  }
  std::string_view ref_text = text;
  if (ref_text.starts_with("docker://")) {
    ref_text.remove_prefix(9);
  } else if (!text.starts_with("oci://")) {
    PLUGCTL_RETURN_IF_ERROR(RejectForeignTransport(text));
    std::error_code ec;
    const std::filesystem::path path{std::string(text)};
    if (std::filesystem::exists(path, ec)) {
      PLUGCTL_ASSIGN_OR_RETURN(LocalContent content, SniffLocalPath(path));
      return LocationFromContent(text, content);
    }
    if (LooksLikeLocalPath(text)) {
      if (use == LocationUse::kSource) {
        return MakeError(ErrorCode::kNotFound, "{}: no such file or directory", text);
      }
      return MakeError(ErrorCode::kNotFound,
                       "{}: no such file or directory (to create a layout or archive there, name "
                       "its transport: oci:{}, oci-archive:{}, docker-archive:{})",
                       text, text, text, text);
    }
  }
  auto reference = oci::Reference::Parse(ref_text);
  if (!reference) return tl::unexpected(reference.error());
  Location loc;
  loc.kind = LocationKind::kRegistry;
  loc.reference = *reference;
  loc.ref = loc.ResolveRef();
  return loc;
}

}  // namespace plugctl::transfer
