// Interrupted runs leave nothing behind ("Hostile input, round two"): SIGTERM or SIGINT in the
// middle of an archive copy removes the staging directory under $TMPDIR and the temporary file
// beside the destination, and plugctl exits 143 or 130.
#include <signal.h>

#include <thread>

#include "fixture.h"
#include "image_factory.h"
#include <sys/wait.h>

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

// Entries of `dir` (none if it does not exist).
std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  return out;
}

bool HasEntryContaining(const fs::path& dir, const std::string& part) {
  for (const std::string& name : Entries(dir)) {
    if (name.find(part) != std::string::npos) return true;
  }
  return false;
}

class InterruptTest : public CliTest {};

TEST_F(InterruptTest, SignalMidCopyRemovesStagingAndTempFiles) {
  // A ~48 MiB archive: big enough that a copy takes a noticeable moment.
  fs::path layout = dir_ / "layout";
  fs::create_directories(layout);
  WriteLayoutImage(layout, "big", {{.bytes = RandomBytes(48 << 20, 7)}});
  RunResult made = Plugctl(
      {"copy", "oci:" + layout.string() + ":big", "oci-archive:" + Path("in.tar") + ":big"});
  ASSERT_TRUE(made.ok()) << made.Summary();

  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    fs::path tmp = dir_ / ("tmp" + std::to_string(sig));
    fs::path out = dir_ / ("out" + std::to_string(sig));
    fs::create_directories(tmp);
    fs::create_directories(out);
    // The child must not inherit an ignored SIGINT (a test runner started in the background
    // may have one): plugctl keeps a signal that was ignored at start ignored.
    struct sigaction dfl = {};
    struct sigaction saved = {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, &saved);
    Background run(
        {"env", "TMPDIR=" + tmp.string(), PlugctlBinary(), "--no-progress", "copy",
         "oci-archive:" + Path("in.tar") + ":big", "oci-archive:" + (out / "copy.tar").string()},
        (dir_ / ("log" + std::to_string(sig))).string());
    ::sigaction(sig, &saved, nullptr);
    // Bounded waits: the staging directory appears, then (usually) the destination's temp file.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Entries(tmp).empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE(Entries(tmp).empty()) << "no staging directory appeared";
    auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    while (!HasEntryContaining(out, ".tmp-") && std::chrono::steady_clock::now() < soon) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(::kill(run.pid(), sig), 0);
    int status = 0;
    pid_t reaped = 0;
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((reaped = ::waitpid(run.pid(), &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(reaped, run.pid()) << "plugctl did not end after the signal";
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig) << ReadAll(dir_ / ("log" + std::to_string(sig)));
    std::string log = ReadAll(dir_ / ("log" + std::to_string(sig)));
    EXPECT_EQ(Entries(tmp), std::vector<std::string>{}) << "staging left behind; " << log;
    for (const std::string& name : Entries(out)) {
      EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name << " left behind";
    }
    EXPECT_FALSE(fs::exists(out / "copy.tar"));
  }
}

}  // namespace
}  // namespace plugctl::testing
