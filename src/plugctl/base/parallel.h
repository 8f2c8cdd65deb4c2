// plugctl/base/parallel.h — runs N tasks on at most W threads; the first failure stops the run.
//
//   Status status = RunParallel(blobs.size(), concurrency,
//                               [&](size_t i, const Cancellation& cancellation) -> Status {
//                                 return CopyOne(blobs[i], cancellation);
//                               });
//
// Tasks are started in index order, each exactly once, on min(W, N) threads (W < 1 counts as
// 1). When a task fails:
//  - its error is the result of the run (the first failure wins; an error with code kCancelled
//    gives way to a later one with another code: cancellations are consequences, not causes);
//  - the Cancellation every task was given reads cancelled(), so running tasks may stop early
//    (what they return then does not replace the first error);
//  - no task starts afterwards.
// RunParallel returns once every started task has returned. Tasks run concurrently: what they
// share must be thread-safe. Progress reporting is the tasks' own business.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "plugctl/base/status.h"

namespace plugctl {

// Set once a task of the run failed. Thread-safe.
class Cancellation {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  void Cancel() { cancelled_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> cancelled_{false};
};

using ParallelTask = std::function<Status(size_t index, const Cancellation& cancellation)>;

// Runs task(0) … task(count - 1) on at most `workers` threads. OkStatus when every task
// succeeded (or count is 0), else the first error as described above.
[[nodiscard]] Status RunParallel(size_t count, int workers, const ParallelTask& task);

}  // namespace plugctl
