#include "plugctl/base/cleanup.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace plugctl {
namespace fs = std::filesystem;

namespace {

struct Registry {
  std::mutex mu;
  uint64_t next = 1;
  std::map<uint64_t, fs::path> paths;
  std::set<std::string> reclaimed_dirs;
  // Set by RemoveRegisteredTempPaths: the process is ending, nothing more may be created.
  bool exiting = false;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: used until _exit
  return *registry;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return true;  // not ours to judge
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno != ESRCH;  // EPERM: alive, someone else's
}

}  // namespace

uint64_t RegisterTempPath(const fs::path& path) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  uint64_t token = r.next++;
  r.paths.emplace(token, path);
  return token;
}

uint64_t CreateRegisteredTempPath(const std::function<fs::path()>& create, fs::path* created) {
  Registry& r = GetRegistry();
  std::unique_lock lock(r.mu);
  if (r.exiting) {
    // The cleanup already ran and _exit follows at once: creating now would leave a file.
    lock.unlock();
    for (;;) ::pause();
  }
  fs::path path = create();
  if (created != nullptr) *created = path;
  if (path.empty()) return 0;
  uint64_t token = r.next++;
  r.paths.emplace(token, std::move(path));
  return token;
}

void UnregisterTempPath(uint64_t token) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.paths.erase(token);
}

void RemoveRegisteredTempPaths() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.exiting = true;
  // Other threads may still be writing into a directory being removed (an extraction): retry
  // until it is gone, a few times at most. The mutex stays held, so nothing new registers.
  for (const auto& [token, path] : r.paths) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::error_code ec;
      fs::remove_all(path, ec);
      if (!fs::exists(fs::symlink_status(path, ec))) break;
    }
  }
  r.paths.clear();
}

namespace {
std::atomic<void (*)(int)> interrupt_handler{nullptr};
}  // namespace

void SetInterruptHandler(void (*handler)(int)) { interrupt_handler.store(handler); }

void InstallInterruptCleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM}) {
      // A signal ignored at start (`nohup`, `cmd &` in a script) stays ignored.
      struct sigaction current {};
      if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
      sigaddset(&set, sig);
    }
    if (sigisemptyset(&set)) return;
    if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return;
    std::thread([set] {
      int sig = 0;
      for (;;) {
        while (::sigwait(&set, &sig) != 0) {
        }
        void (*handler)(int) = interrupt_handler.exchange(nullptr);
        if (handler == nullptr) break;
        handler(sig);
      }
      RemoveRegisteredTempPaths();
      ::_exit(128 + sig);
    }).detach();
  });
}

int64_t TempNameOwner(std::string_view name) {
  // "...-p<digits>-XXXXXX" with a TempDir prefix ("plugctl-…", ".<name>.extract") or an
  // AtomicFileWriter name (".<name>.tmp-p…").
  bool ours = name.starts_with("plugctl-") ||
              (name.starts_with(".") && (name.find(".tmp-p") != std::string_view::npos ||
                                         name.find(".extract-p") != std::string_view::npos));
  if (!ours || name.size() < 10) return 0;
  std::string_view rest = name.substr(0, name.size() - 7);  // drop "-XXXXXX"
  if (name[name.size() - 7] != '-') return 0;
  size_t p = rest.rfind("-p");
  if (p == std::string_view::npos || p + 2 >= rest.size()) return 0;
  int64_t pid = 0;
  for (char c : rest.substr(p + 2)) {
    if (c < '0' || c > '9' || pid > (int64_t{1} << 40)) return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

size_t ReclaimStaleTempPaths(const fs::path& dir, std::chrono::seconds min_age) {
  size_t removed = 0;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    int64_t owner = TempNameOwner(it->path().filename().string());
    if (owner == 0 || owner == ::getpid() || ProcessAlive(owner)) continue;
    std::error_code time_ec;
    auto mtime = fs::symlink_status(it->path(), time_ec).type() == fs::file_type::symlink
                     ? now
                     : fs::last_write_time(it->path(), time_ec);
    if (time_ec || now - mtime < min_age) continue;
    std::error_code remove_ec;
    if (fs::remove_all(it->path(), remove_ec) > 0 && !remove_ec) ++removed;
  }
  return removed;
}

void ReclaimStaleTempPathsOnce(const fs::path& dir) {
  Registry& r = GetRegistry();
  {
    std::lock_guard lock(r.mu);
    if (!r.reclaimed_dirs.insert(dir.lexically_normal().string()).second) return;
  }
  ReclaimStaleTempPaths(dir);
}

}  // namespace plugctl
