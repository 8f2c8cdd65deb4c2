// plugctl/cli/registry_env.h — turns the global flags into the options every
// target and registry session is opened with.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "plugctl/cli/command.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {

// The per-side registry options of copy and mirror (--src-… / --dest-…, as skopeo has them).
// Each one left unset falls back to the global option of the same name; one that is set
// overrides it for its side only. Both sides get TargetEnvs of their own, so one registry
// reached with different options from each side never shares a session.
struct SideOptions {
  bool plain_http = false;
  bool insecure = false;
  std::optional<bool> tls_verify;  // skopeo's spelling; false is --insecure
  std::string ca_file;
  std::string registry_config;
  // "USER:PASS"; wins over the docker config for every registry of this side. Never printed.
  std::string creds;

  bool empty() const {
    return !plain_http && !insecure && !tls_verify && ca_file.empty() && registry_config.empty() &&
           creds.empty();
  }
};

// Declares the options of one side on `app`: side is "src" or "dest".
void AddSideOptions(CLI::App& app, SideOptions& side, const std::string& name);

// The globals with `side`'s options applied, and the credential the side names (if any).
// kInvalidArgument for a malformed --*-creds (the message never holds the secret) or for
// --*-insecure given with --*-tls-verify=true.
struct SideConfig {
  GlobalOptions globals;
  std::optional<registry::Credential> creds;
};
[[nodiscard]] Result<SideConfig> ApplySideOptions(const GlobalOptions& globals,
                                                  const SideOptions& side, const std::string& name);

// One per command run: all targets the command opens share its sessions.
class TargetEnv {
 public:
  explicit TargetEnv(const GlobalOptions& globals);
  // One side of a copy or mirror: `config.creds`, when set, answers for every registry.
  explicit TargetEnv(const SideConfig& config);

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

// The environments of a copy or mirror: one per side when either side has options of its own,
// else one for both, so that blobs moving within one registry are mounted, not copied (a mount
// needs both repositories in one session).
class SideEnvs {
 public:
  [[nodiscard]] static Result<SideEnvs> Make(const GlobalOptions& globals, const SideOptions& src,
                                             const SideOptions& dest);
  TargetEnv& source() { return *source_; }
  TargetEnv& destination() { return destination_ ? *destination_ : *source_; }

 private:
  std::unique_ptr<TargetEnv> source_;
  std::unique_ptr<TargetEnv> destination_;  // null: the source's
};

}  // namespace plugctl::cli
