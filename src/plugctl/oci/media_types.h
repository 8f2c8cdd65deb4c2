// plugctl/oci/media_types.h — media type constants for OCI, Docker and Wasm
// plugin images, and the comparisons the field needs.
//
// Media types are compared case-insensitively (RFC 6838; and official Higress
// images carry both ".v1.EN+markdown" and ".v1.en+markdown").
#pragma once

#include <string_view>

namespace plugctl::oci {

// OCI image-spec.
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kOciLayout = "application/vnd.oci.layout.header.v1+json";

// Docker image manifest v2 schema 2.
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerTarGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerForeignLayerTarGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

// Wasm plugin images (Higress image spec, solo-io compat spec, oci variant).
inline constexpr std::string_view kWasmConfig = "application/vnd.module.wasm.config.v1+json";
inline constexpr std::string_view kWasmContentLayer =
    "application/vnd.module.wasm.content.layer.v1+wasm";
inline constexpr std::string_view kWasmSpec = "application/vnd.module.wasm.spec.v1+yaml";
inline constexpr std::string_view kWasmDoc = "application/vnd.module.wasm.doc.v1+markdown";
// README_{lang}.md: "application/vnd.module.wasm.doc.v1.{lang}+markdown".
inline constexpr std::string_view kWasmDocLangPrefix = "application/vnd.module.wasm.doc.v1.";
inline constexpr std::string_view kWasmDocLangSuffix = "+markdown";
inline constexpr std::string_view kWasmIcon = "application/vnd.module.wasm.icon.v1+png";
// wasm-to-oci's type: seen in registries, never loaded by the gateway.
inline constexpr std::string_view kWasmToOciLayer = "application/vnd.wasm.content.layer.v1+wasm";
inline constexpr std::string_view kWasmToOciConfig = "application/vnd.wasm.config.v1+json";
// ORAS 1.0 default config type (official Higress images).
inline constexpr std::string_view kUnknownConfig = "application/vnd.unknown.config.v1+json";

// Annotation keys.
inline constexpr std::string_view kAnnotationTitle = "org.opencontainers.image.title";
inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kAnnotationCreated = "org.opencontainers.image.created";
inline constexpr std::string_view kAnnotationVersion = "org.opencontainers.image.version";
inline constexpr std::string_view kAnnotationDescription = "org.opencontainers.image.description";
inline constexpr std::string_view kAnnotationContainerdImageName = "io.containerd.image.name";

// ASCII case-insensitive equality; parameters (";charset=…") are not stripped.
bool MediaTypeEquals(std::string_view a, std::string_view b);

// The two manifest shapes and the two index shapes.
bool IsImageManifestType(std::string_view media_type);
bool IsIndexType(std::string_view media_type);
inline bool IsManifestOrIndexType(std::string_view media_type) {
  return IsImageManifestType(media_type) || IsIndexType(media_type);
}

// Media types that list in an Accept header for manifest requests.
std::string_view ManifestAcceptHeader();

}  // namespace plugctl::oci
