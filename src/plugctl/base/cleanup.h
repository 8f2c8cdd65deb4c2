// plugctl/base/cleanup.h — temporary files and directories are not left behind by runs that are
// interrupted (SIGINT, SIGTERM) or killed.
//
// Every TempDir and every uncommitted AtomicFileWriter temp file registers its path here while
// it exists. The CLI calls InstallInterruptCleanup() first thing: SIGINT and SIGTERM are then
// received by one dedicated thread (sigwait — no work in a signal handler), which removes the
// registered paths and ends the process with 130 or 143.
//
// SIGKILL cannot be caught, so names carry their owner's pid (TempDir:
// "<prefix>-p<PID>-XXXXXX", AtomicFileWriter: ".<name>.tmp-p<PID>-XXXXXX") and the next run that
// creates a temp path in the same directory removes ours that are stale: owner not alive and
// older than kStaleTempAge (ReclaimStaleTempPaths).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace plugctl {

// Registers `path` for removal on interruption; returns a token for UnregisterTempPath.
uint64_t RegisterTempPath(const std::filesystem::path& path);

// Runs `create` (which makes a temp file or directory and returns its path, or "" when it
// failed) and registers what it made, as one step with respect to the interrupt cleanup: no
// path can be created after the cleanup ran and before the process ends (a thread that comes
// too late waits for the exit instead). Returns the registration token, 0 if nothing was made.
uint64_t CreateRegisteredTempPath(const std::function<std::filesystem::path()>& create,
                                  std::filesystem::path* created);
void UnregisterTempPath(uint64_t token);

// Removes every registered path (recursively) and forgets it. What the interrupt thread runs.
void RemoveRegisteredTempPaths();

// Blocks SIGINT and SIGTERM in the calling thread — and so in every thread it starts later;
// call it before starting any — and starts the thread that handles them. Idempotent.
void InstallInterruptCleanup();

// Makes the first SIGINT/SIGTERM call `handler(signal)` (on the signal thread) instead of
// exiting: a server drains its requests and returns. A second signal removes the registered
// paths and exits as above, so an impatient operator is never ignored. nullptr restores the
// default. `handler` must be quick and thread-safe.
void SetInterruptHandler(void (*handler)(int));

// How old an abandoned temp path must be before another run removes it.
inline constexpr std::chrono::seconds kStaleTempAge = std::chrono::hours(1);

// The pid a temp path name made by TempDir or AtomicFileWriter carries, or 0 if `name` is not
// such a name.
int64_t TempNameOwner(std::string_view name);

// Removes the entries of `dir` named like our temp paths whose owner process is not alive and
// whose modification time is older than `min_age`. Best effort (errors are ignored); returns
// how many were removed.
size_t ReclaimStaleTempPaths(const std::filesystem::path& dir,
                             std::chrono::seconds min_age = kStaleTempAge);

// ReclaimStaleTempPaths(dir) once per directory per process (cheap to call on every create).
void ReclaimStaleTempPathsOnce(const std::filesystem::path& dir);

}  // namespace plugctl
