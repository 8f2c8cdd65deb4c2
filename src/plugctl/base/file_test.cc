#include "plugctl/base/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace plugctl {
namespace {

std::unique_ptr<TempDir> MakeTemp() {
  auto dir = TempDir::Create("plugctl-base-test");
  EXPECT_TRUE(dir.has_value());
  return std::move(*dir);
}

size_t CountEntries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFileWriterTest, CommitMakesFileAppear) {
  auto dir = MakeTemp();
  fs::path target = dir->path() / "out.txt";
  auto writer = AtomicFileWriter::Create(target);
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Write("hello ").has_value());
  ASSERT_TRUE((*writer)->Write("world").has_value());
  EXPECT_FALSE(fs::exists(target));
  ASSERT_TRUE((*writer)->Commit().has_value());
  auto content = ReadFileBounded(target, 100);
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(*content, "hello world");
  EXPECT_EQ(CountEntries(dir->path()), 1u);
}

TEST(AtomicFileWriterTest, DestroyWithoutCommitLeavesNothing) {
  auto dir = MakeTemp();
  fs::path target = dir->path() / "out.txt";
  {
    auto writer = AtomicFileWriter::Create(target);
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Write("partial").has_value());
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(CountEntries(dir->path()), 0u);
}

TEST(AtomicFileWriterTest, FailedWriteKeepsOldContent) {
  auto dir = MakeTemp();
  fs::path target = dir->path() / "index.json";
  ASSERT_TRUE(WriteFileAtomic(target, "old").has_value());
  {
    auto writer = AtomicFileWriter::Create(target);
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Write("new but abandoned").has_value());
  }
  EXPECT_EQ(*ReadFileBounded(target, 100), "old");
}

TEST(ReadFileBoundedTest, RejectsLargerThanLimit) {
  auto dir = MakeTemp();
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "big", std::string(1000, 'x')).has_value());
  auto content = ReadFileBounded(dir->path() / "big", 999);
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(content.error().message().find("big"), std::string::npos);
}

TEST(ReadFileBoundedTest, MissingFileIsNotFound) {
  auto dir = MakeTemp();
  auto content = ReadFileBounded(dir->path() / "missing", 10);
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().code(), ErrorCode::kNotFound);
}

// A FIFO must be refused without waiting for a writer. If the open blocked,
// the writer end opened below releases it so the test fails instead of hanging.
TEST(OpenFileReaderTest, RefusesFifoWithoutBlocking) {
  auto dir = MakeTemp();
  fs::path fifo = dir->path() / "plugin.wasm";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return ReadFileBounded(fifo, 100); });
  if (pending.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
    FAIL() << "reading a FIFO blocked";
  }
  auto content = pending.get();
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(content.error().message().find("plugin.wasm"), std::string::npos);
  EXPECT_NE(content.error().message().find("not a regular file"), std::string::npos);
}

TEST(OpenFileReaderTest, RefusesDirectoryAndDevice) {
  auto dir = MakeTemp();
  auto as_dir = OpenFileReader(dir->path());
  ASSERT_FALSE(as_dir.has_value());
  EXPECT_EQ(as_dir.error().code(), ErrorCode::kInvalidArgument);
  auto device = OpenFileReader("/dev/zero");
  ASSERT_FALSE(device.has_value());
  EXPECT_EQ(device.error().code(), ErrorCode::kInvalidArgument);
}

TEST(OpenFileReaderTest, RegularFileReadsBlocking) {
  auto dir = MakeTemp();
  ASSERT_TRUE(WriteFileAtomic(dir->path() / "f", "abc").has_value());
  auto reader = OpenFileReader(dir->path() / "f");
  ASSERT_TRUE(reader.has_value());
  auto text = ReadAllBounded(**reader, 10, "f");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "abc");
}

TEST(FileLockTest, SerializesThreads) {
  auto dir = MakeTemp();
  fs::path lock_path = dir->path() / "lock";
  int counter = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lock = FileLock::Acquire(lock_path);
        ASSERT_TRUE(lock.has_value());
        int seen = counter;
        std::this_thread::yield();
        counter = seen + 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, 800);
}

TEST(TempDirTest, RemovedOnDestruction) {
  fs::path path;
  {
    auto dir = MakeTemp();
    path = dir->path();
    ASSERT_TRUE(WriteFileAtomic(path / "a", "x").has_value());
    ASSERT_TRUE(CreateDirectories(path / "sub/dir").has_value());
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(StatusTest, WithContextPrefixesAndKeepsCode) {
  Error e(ErrorCode::kDataLoss, "digest mismatch");
  Error c = e.WithContext("layers[1]");
  EXPECT_EQ(c.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(c.message(), "layers[1]: digest mismatch");
}

TEST(TempDirTest, DefaultParentIsTheTempRoot) {
  auto outer = MakeTemp();
  fs::path saved = TempRoot();
  SetTempRoot(outer->path());
  auto inner = TempDir::Create("rooted");
  SetTempRoot(saved);
  ASSERT_TRUE(inner.has_value()) << inner.error().message();
  EXPECT_EQ((*inner)->path().parent_path(), outer->path());
}

}  // namespace
}  // namespace plugctl
