#include "plugctl/base/cleanup.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "plugctl/base/file.h"

namespace plugctl {
namespace {

namespace fs = std::filesystem;

// A pid that is certainly not alive: a child that has exited and been reaped.
pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void Age(const fs::path& p, std::chrono::seconds by) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - by);
}

TEST(CleanupTest, TempNameOwner) {
  EXPECT_EQ(TempNameOwner("plugctl-oci-archive-p1234-AbC123"), 1234);
  EXPECT_EQ(TempNameOwner(".a.tar.tmp-p42-xYz789"), 42);
  EXPECT_EQ(TempNameOwner(".layout.extract-p7-abcdef"), 7);
  EXPECT_EQ(TempNameOwner("plugctl-convert--p99-abcdef"), 99);
  EXPECT_EQ(TempNameOwner("plugctl-oci-archive-AbC123"), 0);  // no pid: not ours to judge
  EXPECT_EQ(TempNameOwner("somebody-else-p12-abcdef"), 0);
  EXPECT_EQ(TempNameOwner(".a.tar.tmp-pxx-abcdef"), 0);
  EXPECT_EQ(TempNameOwner("index.json"), 0);
}

TEST(CleanupTest, TempPathsCarryThePidAndAreRegistered) {
  auto root = TempDir::Create("cleanup-test");
  ASSERT_TRUE(root) << root.error().message();
  auto dir = TempDir::Create("plugctl-x", (*root)->path());
  ASSERT_TRUE(dir);
  EXPECT_EQ(TempNameOwner((*dir)->path().filename().string()), ::getpid());
  auto writer = AtomicFileWriter::Create((*root)->path() / "a.tar");
  ASSERT_TRUE(writer);
  EXPECT_EQ(TempNameOwner((*writer)->temp_path().filename().string()), ::getpid());
  // What the interrupt thread does.
  RemoveRegisteredTempPaths();
  EXPECT_FALSE(fs::exists((*dir)->path()));
  EXPECT_FALSE(fs::exists((*writer)->temp_path()));
}

TEST(CleanupTest, ReclaimsOnlyOldTempPathsOfDeadOwners) {
  auto root = TempDir::Create("cleanup-test");
  ASSERT_TRUE(root) << root.error().message();
  const fs::path& d = (*root)->path();
  pid_t dead = DeadPid();
  fs::path stale_dir = d / fmt::format("plugctl-oci-archive-p{}-AAAAAA", dead);
  fs::path stale_file = d / fmt::format(".x.tar.tmp-p{}-BBBBBB", dead);
  fs::path fresh_dir = d / fmt::format("plugctl-oci-archive-p{}-CCCCCC", dead);
  fs::path live_dir = d / fmt::format("plugctl-oci-archive-p{}-DDDDDD", ::getppid());
  fs::path foreign = d / "plugctl-notes";
  for (const fs::path& p : {stale_dir, fresh_dir, live_dir, foreign}) {
    fs::create_directories(p / "blobs");
    std::ofstream(p / "blobs" / "big") << "data";
  }
  std::ofstream(stale_file) << "partial";
  for (const fs::path& p : {stale_dir, stale_file, live_dir, foreign}) {
    Age(p, std::chrono::hours(2));
  }

  EXPECT_EQ(ReclaimStaleTempPaths(d), 2u);
  EXPECT_FALSE(fs::exists(stale_dir));
  EXPECT_FALSE(fs::exists(stale_file));
  EXPECT_TRUE(fs::exists(fresh_dir));  // younger than an hour: maybe still being written
  EXPECT_TRUE(fs::exists(live_dir));   // its owner runs
  EXPECT_TRUE(fs::exists(foreign));    // not a name we make
}

TEST(CleanupTest, TempDirCreationReclaimsItsParent) {
  auto root = TempDir::Create("cleanup-test");
  ASSERT_TRUE(root) << root.error().message();
  fs::path stale = (*root)->path() / fmt::format("plugctl-y-p{}-EEEEEE", DeadPid());
  fs::create_directories(stale);
  Age(stale, std::chrono::hours(2));
  auto dir = TempDir::Create("plugctl-y", (*root)->path());
  ASSERT_TRUE(dir);
  EXPECT_FALSE(fs::exists(stale));
}

}  // namespace
}  // namespace plugctl
