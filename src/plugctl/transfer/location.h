// plugctl/transfer/location.h — the user's way of naming a target.
//
//   oci:DIR[:REF]              OCI image layout directory (REF: tag or ref name)
//   oci-archive:FILE[:REF]     tar of an OCI image layout
//   docker-archive:FILE[:REF]  `docker save`/`docker load` tar (REF: name:tag)
//   [docker://|oci://]host[:port]/repo[:tag|@digest]   registry repository
//
// As in skopeo, the path ends at the first ':' after the transport, so REF may
// itself contain ':' ("oci:bundle:reg.local:5000/x:1.0"). "@sha256:…" as REF
// selects by digest.
//
//   PLUGCTL_ASSIGN_OR_RETURN(Location loc, ParseLocation("oci:./out:1.0.0"));
//   PLUGCTL_ASSIGN_OR_RETURN(auto target, OpenLocation(loc, AccessMode::kRead));
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "plugctl/base/status.h"
#include "plugctl/oci/reference.h"
#include "plugctl/registry/repository.h"
#include "plugctl/registry/session.h"
#include "plugctl/store/target.h"

namespace plugctl::transfer {

enum class LocationKind { kRegistry, kOciLayout, kOciArchive, kDockerArchive };

struct Location {
  LocationKind kind = LocationKind::kOciLayout;
  // Local kinds: the directory or file.
  std::filesystem::path path;
  // Local kinds: tag, ref name or "@sha256:…" digest ("" when not given).
  // Registries: the tag or digest of `reference` ("" when neither is given).
  std::string ref;
  // Registries only.
  oci::Reference reference;

  // The reference to pass to Target::Resolve ("sha256:…", a tag, or "").
  std::string ResolveRef() const;
  // True if REF names a digest.
  bool ref_is_digest() const;
  std::string ToString() const;
};

// Parses a location argument. Text with a transport (oci:, oci-archive:, docker-archive:,
// docker://, oci://) is read as written. Bare text is a registry reference unless it names
// something on disk, because in an air gap a typo must never turn into a Docker Hub lookup:
//   - an existing path is read by its content (SniffLocalPath): an OCI layout directory, an OCI
//     archive or a docker archive becomes that location; a plugin directory, another directory
//     or another file is kInvalidArgument with a hint naming the right command or transport;
//   - a missing path that looks like one (LooksLikeLocalPath: "./x", "/x", "x.tar",
//     "plugins.properties"…) is kNotFound;
//   - another tool's transport (dir:, containers-storage:, docker-daemon:, http://…) is
//     kInvalidArgument naming the transports plugctl reads.
// "docker://NAME" always means the registry, even when NAME exists on disk.
//
// `use` only changes the message for a missing path: an argument that may be written (copy's
// DST) hints at naming a transport to create a layout or archive there; a source, which must
// exist, gets just "PATH: no such file or directory".
enum class LocationUse { kSourceOrDestination, kSource };
[[nodiscard]] Result<Location> ParseLocation(std::string_view text,
                                             LocationUse use = LocationUse::kSourceOrDestination);

// What a path on disk holds, judged by content, never by name.
enum class LocalContent {
  kOciLayout,        // a directory with an oci-layout file
  kOciArchive,       // a tar (any compression) whose members include oci-layout
  kDockerArchive,    // a tar whose members include manifest.json (docker save)
  kPluginDirectory,  // a directory with spec.yaml or plugin.wasm
  kOtherDirectory,
  kOtherFile,  // not a tar, or a tar with neither marker
};

// Reads just enough of `path` to tell (tar member names up to the first marker). kNotFound when
// the path does not exist.
[[nodiscard]] Result<LocalContent> SniffLocalPath(const std::filesystem::path& path);

// kInvalidArgument when `text` starts with a transport of another tool (dir:,
// containers-storage:, docker-daemon:, ostree:, sif:, tarball:, file:, http:, https:).
[[nodiscard]] Status RejectForeignTransport(std::string_view text);

// The location of an existing path given without a transport, from what SniffLocalPath found
// there (callers that sniffed already pass it on rather than reading a large tar twice): a
// layout or archive, or for other content the kInvalidArgument with a hint that ParseLocation
// gives.
[[nodiscard]] Result<Location> LocationFromContent(std::string_view text, LocalContent content);

// Whether bare text is evidently meant as a path: absolute, "./", "../", "~", "." or "..",
// or ending in a file extension no registry repository uses in practice (.tar, .tgz, .tar.gz,
// .tar.zst, .properties, .list, .txt, .yaml, .yml, .json, .wasm).
bool LooksLikeLocalPath(std::string_view text);

// Whether `text` starts with a local transport (oci:, oci-archive:, docker-archive:), i.e.
// ParseLocation reads it as a layout or archive. "oci://…" and "docker://…" are registry
// references, not local transports.
bool IsLocalTransport(std::string_view text);

enum class AccessMode { kRead, kWrite };

// Registry sessions by host, so that every repository of one registry shares
// connections and tokens. Thread-safe.
class SessionPool {
 public:
  explicit SessionPool(registry::SessionOptions options = {}) : options_(std::move(options)) {}
  [[nodiscard]] Result<std::shared_ptr<registry::Session>> Get(const std::string& host);
  const registry::SessionOptions& options() const { return options_; }

 private:
  registry::SessionOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<registry::Session>> sessions_;
};

struct OpenOptions {
  // Sessions for registry locations. When null, each registry target gets a session of its own
  // with default options (no shared connections or tokens, so no cross-repository mounts).
  SessionPool* sessions = nullptr;
  registry::RepositoryOptions repository;
};

// Opens the target a Location names. kWrite creates layouts and archives as
// needed; kRead requires them to exist. Registry targets are opened lazily:
// nothing is sent until the first call.
[[nodiscard]] Result<std::unique_ptr<store::Target>> OpenLocation(const Location& location,
                                                                  AccessMode mode,
                                                                  const OpenOptions& options = {});

}  // namespace plugctl::transfer
