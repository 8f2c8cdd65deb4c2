// plugctl/transfer/artifact.h — arbitrary files as one OCI artifact, and back: what
// `plugctl push REF FILE[:TYPE]…`, `plugctl attach` and `plugctl pull --all` do, in ORAS 1.x's
// shape so either tool reads what the other wrote.
//
// An artifact is an OCI image manifest (image-spec 1.1):
//   - one layer per file, in the order given, media type FILE's ":TYPE" or
//     application/vnd.oci.image.layer.v1.tar (ORAS's default), annotated
//     org.opencontainers.image.title=<the file's base name>;
//   - one layer per directory: a reproducible tar.gz of it (transfer/artifact_dir.h), media type
//     ":TYPE" or application/vnd.oci.image.layer.v1.tar+gzip, titled with the directory's base
//     name and marked for unpacking as ORAS marks it;
//   - config: the --config file (default type application/vnd.unknown.config.v1+json), else the
//     empty descriptor application/vnd.oci.empty.v1+json holding "{}";
//   - artifactType: as given; with the empty config and none given,
//     application/vnd.unknown.artifact.v1 (image-spec 1.1 requires one then, ORAS sets this);
//   - annotations: org.opencontainers.image.created (BuildArtifact's `created`) unless given,
//     then --annotation K=V and the annotation file's "$manifest" object;
//   - subject (attach): the descriptor of the image it refers to.
//
// Files are read twice, never held in memory: once here to hash them, once when the copy engine
// streams them to the destination (verified there, so a file changed in between fails the push
// with kDataLoss instead of storing something else). Directories are packed once, into a
// temporary file the source owns.
//
//   PLUGCTL_ASSIGN_OR_RETURN(ArtifactFile f, ParseArtifactFileArg("./README.md:text/markdown"));
//   PLUGCTL_ASSIGN_OR_RETURN(BuiltArtifact a, BuildArtifact({.files = {f}, .created = now}));
//   PLUGCTL_RETURN_IF_ERROR(CopyGraph(*a.source, a.manifest, dst, {.tags = {"v1"}}));
//
//   PLUGCTL_ASSIGN_OR_RETURN(PullAllResult r, PullArtifactFiles(target, root, "out", {}));
//
// Thread-safety: reentrant; BuiltArtifact::source follows store::Target's rules.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/store/target.h"
#include "plugctl/transfer/artifact_dir.h"

namespace plugctl::transfer {

// ORAS 1.x defaults.
inline constexpr std::string_view kDefaultFileMediaType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kDefaultConfigMediaType =
    "application/vnd.unknown.config.v1+json";
inline constexpr std::string_view kUnknownArtifactType = "application/vnd.unknown.artifact.v1";
// The annotation file bound (ORAS reads it whole too).
inline constexpr size_t kMaxAnnotationFileBytes = 1 << 20;

struct ArtifactFile {
  std::filesystem::path path;
  std::string media_type;
  // Whether the argument named the media type (else `media_type` is the default, which a
  // directory replaces by kDefaultDirectoryMediaType).
  bool media_type_given = false;
};

// Parses "FILE[:MEDIATYPE]": the first ':' separates the media type, which must look like
// "type/subtype" (RFC 6838 characters, optional ";params"). So a file whose name contains ':'
// cannot be named (the message says so: link or rename it). kInvalidArgument for an empty path,
// an empty or malformed media type.
[[nodiscard]] Result<ArtifactFile> ParseArtifactFileArg(std::string_view arg,
                                                        std::string_view default_media_type);

// Annotations per place, as ORAS's annotation file groups them.
struct ArtifactAnnotations {
  oci::Annotations manifest;
  oci::Annotations config;
  // By file title (base name).
  std::map<std::string, oci::Annotations> files;
};

// Parses ORAS's annotation file: a JSON object whose keys are "$manifest", "$config" or a file
// title, each an object of string values. `what` names the file in errors (kInvalidArgument:
// not JSON, nested too deep, a key whose value is not an object of strings).
[[nodiscard]] Result<ArtifactAnnotations> ParseAnnotationFile(std::string_view json,
                                                              std::string_view what);

// Parses "KEY=VALUE" (the value may be empty or hold '='); kInvalidArgument without '=' or with
// an empty key.
[[nodiscard]] Result<std::pair<std::string, std::string>> ParseAnnotationArg(std::string_view arg);

struct ArtifactSpec {
  std::vector<ArtifactFile> files;
  std::optional<ArtifactFile> config;
  std::string artifact_type;
  ArtifactAnnotations annotations;
  std::optional<oci::Descriptor> subject;
  // Seconds since the epoch for org.opencontainers.image.created (unless annotated otherwise);
  // unset: no created annotation.
  std::optional<int64_t> created;
};

struct BuiltArtifact {
  // A read-only target holding the manifest, the config and (streamed from their files) the
  // layers: the copy engine's source.
  std::unique_ptr<store::Target> source;
  oci::Descriptor manifest;
  std::string manifest_raw;
  oci::Descriptor config;
  std::vector<oci::Descriptor> layers;
  std::string artifact_type;
};

// Hashes the files, packs the directories (PackDirectory, into a TempDir under TempRoot() that
// the source owns) and puts the manifest together. Annotation-file entries of a directory's
// title apply to its layer; the title and ORAS's unpack/digest annotations are always set.
// Errors: kInvalidArgument when there are no files and no config, the config is a directory,
// a directory has no name ("." or "/"), two files or directories share a base name, the
// annotation file names a title nothing has, or a "$manifest"/--annotation key is given twice;
// PackDirectory's errors (symlinks, special files); kNotFound for a missing file (naming it, and
// hinting at the ':' rule when the whole argument exists); I/O errors naming the file.
[[nodiscard]] Result<BuiltArtifact> BuildArtifact(const ArtifactSpec& spec);

struct PullAllOptions {
  // Replace existing files (and, for directory layers, directories) in the output directory
  // (never symlinks).
  bool force = false;
  // Extract directory layers (io.deis.oras.content.unpack "true") as ORAS does; false writes
  // their blob (the tar.gz) as a file named by the title.
  bool unpack = true;
  UnpackLimits unpack_limits;
  // The child an index resolves to (children without a platform count as linux/amd64).
  oci::Platform platform{.architecture = "amd64", .os = "linux"};
};

struct PulledFile {
  std::string title;
  std::filesystem::path path;
  oci::Descriptor layer;
  bool replaced = false;
  // A directory layer extracted to `path` (a directory).
  bool unpacked = false;
};

struct PullAllResult {
  oci::Descriptor root;
  // The image manifest the files came from (root, or an index's child).
  oci::Descriptor manifest;
  std::string artifact_type;
  std::vector<PulledFile> files;
  // Layers without a title (ORAS skips them too).
  size_t untitled = 0;
};

// Writes every titled layer of `root` to out_dir/<title> (out_dir created when missing); a
// directory layer (io.deis.oras.content.unpack "true", unless !options.unpack) is extracted by
// UnpackDirectory so that out_dir/<title> is the directory, its io.deis.oras.content.digest
// checked when present (malformed: kInvalidArgument).
// Titles are file names, never paths: '/', '\\', "." and "..", control characters, empty and
// duplicate titles are refused (kInvalidArgument, naming the title). A name in out_dir that is a
// symlink is refused always; for files, one that is not a regular file always; an existing name
// unless `force` (kAlreadyExists). Layers stream through a digest check into temporary files and
// directories (a TempDir inside out_dir) moved into place only once every layer verified: on any
// error nothing new stays in out_dir (a directory the call created is removed). kNotFound when
// the manifest has no titled layer.
[[nodiscard]] Result<PullAllResult> PullArtifactFiles(store::Target& target,
                                                      const oci::Descriptor& root,
                                                      const std::filesystem::path& out_dir,
                                                      const PullAllOptions& options);

}  // namespace plugctl::transfer
