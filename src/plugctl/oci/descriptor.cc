#include "plugctl/oci/descriptor.h"

#include <algorithm>
#include <limits>
#include <string_view>

#include "plugctl/oci/media_types.h"

namespace plugctl::oci {
namespace {

using nlohmann::json;

// "layers[1]" + "digest" -> "layers[1].digest"; a bare name when there is no
// enclosing path (a descriptor parsed on its own).
std::string Join(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return fmt::format("{}.{}", path, field);
}

// A short rendering of an offending value for error messages. Replaces invalid
// UTF-8 instead of throwing, and truncates so one bad field cannot flood a log.
std::string Show(const json& value) {
  // Dumping is recursive; a deeply nested value could exhaust the stack.
  if (value.is_structured()) return value.type_name();
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kMax = 64;
  if (text.size() > kMax) {
    text.resize(kMax);
    text += "...";
  }
  return text;
}

tl::unexpected<Error> TypeError(std::string_view field, std::string_view want, const json& got) {
  return MakeError(ErrorCode::kInvalidArgument, "{}: expected {}, got {}", field, want,
                   got.type_name());
}

// Optional fields written as null by some encoders (Go nil maps/slices without
// omitempty) mean the same as absent.
const json* FindOptional(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> OptionalString(const json& object, std::string_view key,
                                   std::string_view path) {
  const json* value = FindOptional(object, key);
  if (value == nullptr) return std::string();
  if (!value->is_string()) return TypeError(Join(path, key), "a string", *value);
  return value->get<std::string>();
}

Result<std::vector<std::string>> StringArray(const json& value, std::string_view field) {
  if (!value.is_array()) return TypeError(field, "an array of strings", value);
  std::vector<std::string> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      return TypeError(fmt::format("{}[{}]", field, i), "a string", value[i]);
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

Result<Platform> PlatformFromJson(const json& value, std::string_view field) {
  if (!value.is_object()) return TypeError(field, "an object", value);
  Platform platform;
  // architecture and os are REQUIRED by image-spec; the rest is optional.
  for (auto [key, out] :
       {std::pair<std::string_view, std::string*>{"architecture", &platform.architecture},
        std::pair<std::string_view, std::string*>{"os", &platform.os}}) {
    auto it = value.find(key);
    if (it == value.end()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: missing", Join(field, key));
    }
    if (!it->is_string()) return TypeError(Join(field, key), "a string", *it);
    *out = it->get<std::string>();
  }
  PLUGCTL_ASSIGN_OR_RETURN(platform.os_version, OptionalString(value, "os.version", field));
  PLUGCTL_ASSIGN_OR_RETURN(platform.variant, OptionalString(value, "variant", field));
  if (const json* features = FindOptional(value, "os.features")) {
    PLUGCTL_ASSIGN_OR_RETURN(platform.os_features,
                             StringArray(*features, Join(field, "os.features")));
  }
  return platform;
}

nlohmann::ordered_json PlatformToJson(const Platform& platform) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["architecture"] = platform.architecture;
  out["os"] = platform.os;
  if (!platform.os_version.empty()) out["os.version"] = platform.os_version;
  if (!platform.os_features.empty()) out["os.features"] = platform.os_features;
  if (!platform.variant.empty()) out["variant"] = platform.variant;
  return out;
}

bool IsPlatformChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::string Platform::ToString() const {
  std::string out = fmt::format("{}/{}", os, architecture);
  if (!variant.empty()) {
    out += '/';
    out += variant;
  }
  return out;
}

Result<Platform> Platform::Parse(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string_view shown = text.substr(0, 128);
  if (parts.size() < 2 || parts.size() > 3) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid platform \"{}\": expected os/arch[/variant], e.g. linux/amd64",
                     shown);
  }
  for (std::string_view part : parts) {
    if (part.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid platform \"{}\": empty component; expected os/arch[/variant]",
                       shown);
    }
    for (char c : part) {
      if (!IsPlatformChar(c)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "invalid platform \"{}\": \"{}\" has invalid characters", shown,
                         part.substr(0, 64));
      }
    }
  }
  Platform platform;
  platform.os = std::string(parts[0]);
  platform.architecture = std::string(parts[1]);
  if (parts.size() == 3) platform.variant = std::string(parts[2]);
  return platform;
}

Result<Annotations> AnnotationsFromJson(const nlohmann::json& object, std::string_view path) {
  if (path.empty()) path = "annotations";
  if (!object.is_object()) return TypeError(path, "an object of strings", object);
  Annotations out;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!it.value().is_string()) {
      return TypeError(fmt::format("{}[\"{}\"]", path, it.key().substr(0, 128)), "a string",
                       it.value());
    }
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

Descriptor Descriptor::For(std::string_view media_type, std::string_view bytes) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = Digest::Of(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

nlohmann::ordered_json Descriptor::ToJson() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["mediaType"] = media_type;
  if (!artifact_type.empty()) out["artifactType"] = artifact_type;
  out["digest"] = digest.ToString();
  out["size"] = size;
  if (!urls.empty()) out["urls"] = urls;
  if (!annotations.empty()) {
    // std::map iterates in key order, so annotations serialize deterministically.
    nlohmann::ordered_json a = nlohmann::ordered_json::object();
    for (const auto& [key, value] : annotations) a[key] = value;
    out["annotations"] = std::move(a);
  }
  if (platform) out["platform"] = PlatformToJson(*platform);
  return out;
}

Result<Descriptor> Descriptor::FromJson(const nlohmann::json& object, std::string_view path) {
  std::string_view self = path.empty() ? std::string_view("descriptor") : path;
  if (!object.is_object()) return TypeError(self, "a descriptor object", object);
  Descriptor d;

  auto media_type_it = object.find("mediaType");
  if (media_type_it == object.end()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: missing", Join(path, "mediaType"));
  }
  if (!media_type_it->is_string()) {
    return TypeError(Join(path, "mediaType"), "a string", *media_type_it);
  }
  d.media_type = media_type_it->get<std::string>();
  if (d.media_type.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: must not be empty", Join(path, "mediaType"));
  }

  auto digest_it = object.find("digest");
  if (digest_it == object.end()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: missing", Join(path, "digest"));
  }
  if (!digest_it->is_string()) return TypeError(Join(path, "digest"), "a string", *digest_it);
  Result<Digest> parsed = Digest::Parse(digest_it->get_ref<const std::string&>());
  if (!parsed) return tl::unexpected(parsed.error().WithContext(Join(path, "digest")));
  d.digest = std::move(*parsed);

  auto size_it = object.find("size");
  if (size_it == object.end()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: missing", Join(path, "size"));
  }
  // JSON has one number type; only integral, non-negative values that fit an
  // int64 are sizes. 1.0 and 1e3 parse as floats and are rejected too.
  if (size_it->is_number_unsigned()) {
    uint64_t value = size_it->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {} is too large", Join(path, "size"),
                       value);
    }
    d.size = static_cast<int64_t>(value);
  } else if (size_it->is_number_integer()) {
    // Parsed text yields signed storage only for negatives, but JSON built in
    // code may hold a non-negative int64.
    int64_t value = size_it->get<int64_t>();
    if (value < 0) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: must be non-negative, got {}",
                       Join(path, "size"), value);
    }
    d.size = value;
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "{}: expected a non-negative integer, got {}",
                     Join(path, "size"), Show(*size_it));
  }

  if (const json* urls_json = FindOptional(object, "urls")) {
    PLUGCTL_ASSIGN_OR_RETURN(d.urls, StringArray(*urls_json, Join(path, "urls")));
  }
  if (const json* annotations_json = FindOptional(object, "annotations")) {
    PLUGCTL_ASSIGN_OR_RETURN(d.annotations,
                             AnnotationsFromJson(*annotations_json, Join(path, "annotations")));
  }
  if (const json* platform_json = FindOptional(object, "platform")) {
    PLUGCTL_ASSIGN_OR_RETURN(d.platform, PlatformFromJson(*platform_json, Join(path, "platform")));
  }
  PLUGCTL_ASSIGN_OR_RETURN(d.artifact_type, OptionalString(object, "artifactType", path));
  return d;
}

std::string Descriptor::Title() const {
  auto it = annotations.find(std::string(kAnnotationTitle));
  return it == annotations.end() ? std::string() : it->second;
}

bool Platform::Matches(const Platform& wanted) const {
  if (architecture != wanted.architecture || os != wanted.os) return false;
  if (!wanted.os_version.empty() && os_version != wanted.os_version) return false;
  if (!wanted.variant.empty() && variant != wanted.variant) return false;
  return std::all_of(wanted.os_features.begin(), wanted.os_features.end(), [&](const auto& f) {
    return std::find(os_features.begin(), os_features.end(), f) != os_features.end();
  });
}

}  // namespace plugctl::oci
