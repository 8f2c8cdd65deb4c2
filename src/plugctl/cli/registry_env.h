// plugctl/cli/registry_env.h — turns the global flags into the options every
// target and registry session is opened with.
#pragma once

#include <memory>

#include "plugctl/cli/command.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {

// One per command run: all targets the command opens share its sessions.
class TargetEnv {
 public:
  explicit TargetEnv(const GlobalOptions& globals);

  // Parses and opens a location (errors carry the location as context).
  [[nodiscard]] Result<std::unique_ptr<store::Target>> Open(const transfer::Location& location,
                                                            transfer::AccessMode mode);
  transfer::SessionPool& sessions() { return pool_; }
  const transfer::OpenOptions& open_options() const { return open_; }

  // The registry session options the flags ask for.
  static registry::SessionOptions SessionOptionsFor(const GlobalOptions& globals);

 private:
  transfer::SessionPool pool_;
  transfer::OpenOptions open_;
};

}  // namespace plugctl::cli
