#include "plugctl/transfer/location.h"

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

}  // namespace

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

Result<Location> ParseLocation(std::string_view text) {
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
  if (ref_text.starts_with("docker://")) ref_text.remove_prefix(9);
  auto reference = oci::Reference::Parse(ref_text);
  if (!reference) return tl::unexpected(reference.error());
  Location loc;
  loc.kind = LocationKind::kRegistry;
  loc.reference = *reference;
  loc.ref = loc.ResolveRef();
  return loc;
}

}  // namespace plugctl::transfer
