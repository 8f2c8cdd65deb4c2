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

[[nodiscard]] Result<Location> ParseLocation(std::string_view text);

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
