// OpenLocation: the one place that maps a Location to a Target implementation.
#include "plugctl/store/docker_archive.h"
#include "plugctl/store/oci_archive.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/location.h"

namespace plugctl::transfer {

Result<std::shared_ptr<registry::Session>> SessionPool::Get(const std::string& host) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(host); it != sessions_.end()) return it->second;
  PLUGCTL_ASSIGN_OR_RETURN(auto session, registry::Session::Create(host, options_));
  sessions_[host] = session;
  return session;
}

Result<std::unique_ptr<store::Target>> OpenLocation(const Location& location, AccessMode mode,
                                                    const OpenOptions& options) {
  const bool write = mode == AccessMode::kWrite;
  const store::OpenMode archive_mode = write ? store::OpenMode::kWrite : store::OpenMode::kRead;
  switch (location.kind) {
    case LocationKind::kOciLayout: {
      PLUGCTL_ASSIGN_OR_RETURN(auto layout,
                               store::OciLayoutTarget::Open(location.path, {.create = write}));
      return std::unique_ptr<store::Target>(std::move(layout));
    }
    case LocationKind::kOciArchive:
      return store::OpenOciArchive(location.path, archive_mode);
    case LocationKind::kDockerArchive:
      return store::OpenDockerArchive(location.path, archive_mode);
    case LocationKind::kRegistry: {
      std::shared_ptr<registry::Session> session;
      if (options.sessions != nullptr) {
        PLUGCTL_ASSIGN_OR_RETURN(session, options.sessions->Get(location.reference.registry));
      } else {
        PLUGCTL_ASSIGN_OR_RETURN(session,
                                 registry::Session::Create(location.reference.registry, {}));
      }
      return std::unique_ptr<store::Target>(std::make_unique<registry::RepositoryTarget>(
          std::move(session), location.reference.repository, options.repository));
    }
  }
  return MakeError(ErrorCode::kInternal, "unknown location kind");
}

}  // namespace plugctl::transfer
