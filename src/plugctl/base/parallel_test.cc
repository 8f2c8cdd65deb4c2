#include "plugctl/base/parallel.h"

#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace plugctl {
namespace {

// Waits (bounded) until `done` holds; false on timeout so a broken RunParallel fails, not hangs.
template <typename Predicate>
bool WaitFor(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Which task indexes ran, thread-safe.
class Started {
 public:
  void Add(size_t i) {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(indexes_.insert(i).second) << "task " << i << " ran twice";
  }
  std::set<size_t> Get() {
    std::lock_guard lock(mu_);
    return indexes_;
  }

 private:
  std::mutex mu_;
  std::set<size_t> indexes_;
};

TEST(RunParallelTest, NoTasksSucceedWithoutCallingAnything) {
  bool called = false;
  Status status = RunParallel(0, 4, [&](size_t, const Cancellation&) -> Status {
    called = true;
    return OkStatus();
  });
  EXPECT_TRUE(status.has_value());
  EXPECT_FALSE(called);
}

TEST(RunParallelTest, MoreWorkersThanTasksRunsEachTaskOnce) {
  Started started;
  Status status = RunParallel(3, 8, [&](size_t i, const Cancellation&) -> Status {
    started.Add(i);
    return OkStatus();
  });
  EXPECT_TRUE(status.has_value());
  EXPECT_EQ(started.Get(), (std::set<size_t>{0, 1, 2}));
}

TEST(RunParallelTest, NeverRunsMoreThanWorkersAtOnce) {
  for (int workers : {0, 1, 2, 3}) {
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    Started started;
    Status status = RunParallel(40, workers, [&](size_t i, const Cancellation&) -> Status {
      started.Add(i);
      int now = running.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::yield();
      running.fetch_sub(1);
      return OkStatus();
    });
    EXPECT_TRUE(status.has_value());
    EXPECT_EQ(started.Get().size(), 40u);
    EXPECT_LE(most.load(), std::max(workers, 1)) << "workers " << workers;
  }
}

TEST(RunParallelTest, FirstErrorWinsAndNothingStartsAfterIt) {
  Started started;
  Status status = RunParallel(5, 1, [&](size_t i, const Cancellation&) -> Status {
    started.Add(i);
    if (i == 1) return MakeError(ErrorCode::kDataLoss, "task 1");
    if (i == 3) return MakeError(ErrorCode::kNotFound, "task 3");
    return OkStatus();
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(status.error().message(), "task 1");
  EXPECT_EQ(started.Get(), (std::set<size_t>{0, 1}));
}

TEST(RunParallelTest, RunningTasksSeeTheCancellation) {
  // Task 0 runs until the run is cancelled; task 1 fails meanwhile. With two workers nothing
  // else may start: task 0's worker finds the run cancelled when it comes back.
  Started started;
  std::atomic<bool> saw_cancel{false};
  Status status = RunParallel(10, 2, [&](size_t i, const Cancellation& cancellation) -> Status {
    started.Add(i);
    if (i == 1) return MakeError(ErrorCode::kUnavailable, "task 1 failed");
    if (i == 0) {
      saw_cancel = WaitFor([&] { return cancellation.cancelled(); });
      return MakeError(ErrorCode::kCancelled, "task 0 stopped");
    }
    return OkStatus();
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(started.Get(), (std::set<size_t>{0, 1}));
}

TEST(RunParallelTest, ACancelledErrorGivesWayToTheCause) {
  // Task 0 reports kCancelled first; task 1's later real failure is the one returned.
  std::atomic<bool> one_started{false};
  Status status = RunParallel(2, 2, [&](size_t i, const Cancellation& cancellation) -> Status {
    if (i == 0) {
      EXPECT_TRUE(WaitFor([&] { return one_started.load(); }));
      return MakeError(ErrorCode::kCancelled, "interrupted");
    }
    one_started = true;
    EXPECT_TRUE(WaitFor([&] { return cancellation.cancelled(); }));
    return MakeError(ErrorCode::kPermissionDenied, "denied");
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kPermissionDenied);
}

TEST(RunParallelTest, AllSucceedWithManyTasks) {
  std::atomic<size_t> sum{0};
  Status status = RunParallel(1000, 3, [&](size_t i, const Cancellation&) -> Status {
    sum += i;
    return OkStatus();
  });
  EXPECT_TRUE(status.has_value());
  EXPECT_EQ(sum.load(), 999u * 1000u / 2);
}

}  // namespace
}  // namespace plugctl
