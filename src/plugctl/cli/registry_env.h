// plugctl/cli/registry_env.h — turns the global flags into the options every
// target and registry session is opened with.
#pragma once

#include <functional>
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
  // "USER:PASS", or "USER" with the password from standard input (password_stdin) or a
  // terminal prompt; wins over the docker config for every registry of this side. Never printed.
  std::string creds;
  bool password_stdin = false;

  bool empty() const {
    return !plain_http && !insecure && !tls_verify && ca_file.empty() && registry_config.empty() &&
           creds.empty() && !password_stdin;
  }
};

// Declares the options of one side on `app`: side is "src" or "dest".
void AddSideOptions(CLI::App& app, SideOptions& side, const std::string& name);

// Passwords longer than this on standard input are refused (a password is a line, not a file).
inline constexpr size_t kMaxPasswordBytes = 64 * 1024;

// Where a password comes from when the command line names only a user (`--src-creds USER`,
// `login -u USER`). Tests replace both functions; Process() is this process's own.
struct PasswordInput {
  // Standard input to its end, trailing CR/LF removed; kInvalidArgument past kMaxPasswordBytes.
  std::function<Result<std::string>()> read_stdin;
  // Asks on the terminal (the prompt on stderr, the answer not echoed); null when standard
  // input is not a terminal, so nothing could answer.
  std::function<std::string(const std::string& prompt)> prompt;

  static PasswordInput Process();
};

// Prints `prompt` on stderr and reads one line from standard input, without echo when `echo` is
// false and standard input is a terminal.
std::string PromptLine(const std::string& prompt, bool echo);

// Standard input to its end (at most kMaxPasswordBytes), trailing CR/LF removed.
[[nodiscard]] Result<std::string> ReadPasswordFromStdin();

// The globals with `side`'s options applied, and the credential the side names (if any).
// kInvalidArgument (the message never holds the secret) for a malformed --*-creds, for
// --*-password-stdin without `--*-creds USER`, for `--*-creds USER` when no password can be
// had (no --*-password-stdin and standard input is not a terminal) or the one given is empty,
// and for --*-insecure given with --*-tls-verify=true. `--*-creds USER` reads the password from
// `input` (standard input with --*-password-stdin, else the terminal prompt).
struct SideConfig {
  GlobalOptions globals;
  std::optional<registry::Credential> creds;
};
[[nodiscard]] Result<SideConfig> ApplySideOptions(
    const GlobalOptions& globals, const SideOptions& side, const std::string& name,
    const PasswordInput& input = PasswordInput::Process());

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
  // kInvalidArgument when both sides ask for standard input (--src-password-stdin and
  // --dest-password-stdin: it is one stream), else ApplySideOptions' errors.
  [[nodiscard]] static Result<SideEnvs> Make(const GlobalOptions& globals, const SideOptions& src,
                                             const SideOptions& dest);
  TargetEnv& source() { return *source_; }
  TargetEnv& destination() { return destination_ ? *destination_ : *source_; }

 private:
  std::unique_ptr<TargetEnv> source_;
  std::unique_ptr<TargetEnv> destination_;  // null: the source's
};

}  // namespace plugctl::cli
