#include "plugctl/oci/manifest.h"

#include <optional>

#include "plugctl/oci/json.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::oci {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

tl::unexpected<Error> Invalid(std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument, "invalid manifest: {}", problem);
}

tl::unexpected<Error> Invalid(const Error& error) { return Invalid(error.message()); }

std::string_view Truncated(std::string_view text) { return text.substr(0, 128); }

std::optional<ManifestKind> KindOf(std::string_view media_type) {
  if (MediaTypeEquals(media_type, kOciManifest)) return ManifestKind::kOciManifest;
  if (MediaTypeEquals(media_type, kOciIndex)) return ManifestKind::kOciIndex;
  if (MediaTypeEquals(media_type, kDockerManifest)) return ManifestKind::kDockerManifest;
  if (MediaTypeEquals(media_type, kDockerManifestList)) return ManifestKind::kDockerManifestList;
  return std::nullopt;
}

// HTTP Content-Type values may carry parameters ("; charset=utf-8") and
// surrounding space; only the bare type identifies the manifest kind.
std::string_view BareMediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  return content_type;
}

// Optional fields written as null by some encoders mean the same as absent.
const json* FindOptional(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::vector<Descriptor>> DescriptorArray(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end()) return Invalid(fmt::format("{}: missing", key));
  if (!it->is_array()) {
    return Invalid(fmt::format("{}: expected an array, got {}", key, it->type_name()));
  }
  std::vector<Descriptor> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    Result<Descriptor> d = Descriptor::FromJson((*it)[i], fmt::format("{}[{}]", key, i));
    if (!d) return Invalid(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

// Serializes without throwing: strings that are not valid UTF-8 (possible in
// caller-supplied annotations) are replaced rather than aborting the build.
std::string Dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

ordered_json AnnotationsJson(const Annotations& annotations) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : annotations) out[key] = value;
  return out;
}

}  // namespace

Result<Manifest> Manifest::Parse(std::string raw, std::string_view content_type) {
  // Checked before parsing so an oversized body costs no JSON work.
  if (raw.size() > kMaxManifestBytes) {
    return MakeError(ErrorCode::kResourceExhausted, "manifest is {} bytes, over the {} byte limit",
                     raw.size(), kMaxManifestBytes);
  }
  Result<json> parsed = ParseJson(raw, "invalid manifest");
  if (!parsed) return tl::unexpected(parsed.error());
  json body = std::move(*parsed);
  if (!body.is_object()) {
    return Invalid(fmt::format("expected a JSON object, got {}", body.type_name()));
  }

  auto schema = body.find("schemaVersion");
  if (schema == body.end()) return Invalid("schemaVersion: missing");
  if (!schema->is_number_integer()) {
    return Invalid(fmt::format("schemaVersion: expected an integer, got {}", schema->type_name()));
  }
  if (schema->get<int64_t>() != 2) {
    return Invalid(fmt::format("schemaVersion: unsupported value {} (only 2 is supported)",
                               schema->get<int64_t>()));
  }

  bool has_manifests = body.contains("manifests");
  bool has_layers = body.contains("layers");
  if (has_manifests && has_layers) {
    return Invalid("has both \"manifests\" and \"layers\"; cannot be both an index and a manifest");
  }

  Manifest m;
  std::string_view transport_type = BareMediaType(content_type);
  std::optional<ManifestKind> transport_kind = KindOf(transport_type);
  if (const json* media_type = FindOptional(body, "mediaType")) {
    if (!media_type->is_string()) {
      return Invalid(fmt::format("mediaType: expected a string, got {}", media_type->type_name()));
    }
    const std::string& text = media_type->get_ref<const std::string&>();
    std::optional<ManifestKind> kind = KindOf(text);
    if (!kind) {
      return Invalid(fmt::format("unsupported manifest media type \"{}\"", Truncated(text)));
    }
    // A descriptor or Content-Type that names another type means someone is
    // passing off one object as another; refuse rather than guess.
    if (transport_kind && !MediaTypeEquals(text, transport_type)) {
      return Invalid(
          fmt::format("media type mismatch: body says \"{}\", but it was served as \"{}\"",
                      Truncated(text), Truncated(transport_type)));
    }
    m.kind = *kind;
    m.media_type = text;
  } else if (transport_kind) {
    m.kind = *transport_kind;
    m.media_type = std::string(transport_type);
  } else if (has_manifests) {
    m.kind = ManifestKind::kOciIndex;
    m.media_type = std::string(kOciIndex);
  } else if (has_layers || body.contains("config")) {
    m.kind = ManifestKind::kOciManifest;
    m.media_type = std::string(kOciManifest);
  } else {
    return Invalid("cannot tell manifest from index: no mediaType, manifests, config or layers");
  }

  if (m.is_index()) {
    PLUGCTL_ASSIGN_OR_RETURN(m.manifests, DescriptorArray(body, "manifests"));
  } else {
    auto config = body.find("config");
    if (config == body.end()) return Invalid("config: missing");
    Result<Descriptor> d = Descriptor::FromJson(*config, "config");
    if (!d) return Invalid(d.error());
    m.config = std::move(*d);
    // An empty layers array is legal: OCI artifacts may carry only a config.
    PLUGCTL_ASSIGN_OR_RETURN(m.layers, DescriptorArray(body, "layers"));
  }

  if (const json* subject = FindOptional(body, "subject")) {
    Result<Descriptor> d = Descriptor::FromJson(*subject, "subject");
    if (!d) return Invalid(d.error());
    m.subject = std::move(*d);
  }
  if (const json* artifact_type = FindOptional(body, "artifactType")) {
    if (!artifact_type->is_string()) {
      return Invalid(
          fmt::format("artifactType: expected a string, got {}", artifact_type->type_name()));
    }
    m.artifact_type = artifact_type->get<std::string>();
  }
  if (const json* annotations = FindOptional(body, "annotations")) {
    Result<Annotations> a = AnnotationsFromJson(*annotations, "annotations");
    if (!a) return Invalid(a.error());
    m.annotations = std::move(*a);
  }

  // The digest is over the bytes as received, never a re-serialization.
  m.digest = Digest::Of(raw);
  m.raw = std::move(raw);
  return m;
}

Descriptor Manifest::ToDescriptor() const {
  Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = static_cast<int64_t>(raw.size());
  return d;
}

Descriptor Manifest::ReferrerDescriptor(const Digest& stored_digest) const {
  Descriptor d = ToDescriptor();
  d.digest = stored_digest;
  d.artifact_type = !artifact_type.empty() ? artifact_type
                    : config               ? config->media_type
                                           : std::string();
  d.annotations = annotations;
  return d;
}

std::string BuildImageManifest(const ImageManifestSpec& spec) {
  // Docker schema2 has no artifactType, subject or annotations; registries
  // that validate strictly reject unknown fields there.
  bool oci = !MediaTypeEquals(spec.media_type, kDockerManifest);
  ordered_json j = ordered_json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = spec.media_type;
  if (oci && !spec.artifact_type.empty()) j["artifactType"] = spec.artifact_type;
  j["config"] = spec.config.ToJson();
  ordered_json layers = ordered_json::array();
  for (const Descriptor& layer : spec.layers) layers.push_back(layer.ToJson());
  j["layers"] = std::move(layers);
  if (oci && spec.subject) j["subject"] = spec.subject->ToJson();
  if (oci && !spec.annotations.empty()) j["annotations"] = AnnotationsJson(spec.annotations);
  return Dump(j);
}

std::string BuildIndex(const IndexSpec& spec) {
  bool oci = !MediaTypeEquals(spec.media_type, kDockerManifestList);
  ordered_json j = ordered_json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = spec.media_type;
  ordered_json manifests = ordered_json::array();
  for (const Descriptor& d : spec.manifests) manifests.push_back(d.ToJson());
  j["manifests"] = std::move(manifests);
  if (oci && !spec.annotations.empty()) j["annotations"] = AnnotationsJson(spec.annotations);
  return Dump(j);
}

}  // namespace plugctl::oci
