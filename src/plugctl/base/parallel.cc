#include "plugctl/base/parallel.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace plugctl {

Status RunParallel(size_t count, int workers, const ParallelTask& task) {
  const size_t threads_wanted = std::min(static_cast<size_t>(std::max(workers, 1)), count);
  Cancellation cancellation;
  std::mutex mu;  // guards next and first_error, and orders claims after a failure's Cancel
  size_t next = 0;
  std::optional<Error> first_error;

  auto work = [&] {
    for (;;) {
      size_t i = 0;
      {
        std::lock_guard lock(mu);
        if (cancellation.cancelled() || next >= count) return;
        i = next++;
      }
      Status status = task(i, cancellation);
      if (!status) {
        std::lock_guard lock(mu);
        if (!first_error || first_error->code() == ErrorCode::kCancelled) {
          first_error = status.error();
        }
        cancellation.Cancel();
        return;
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    threads.reserve(threads_wanted);
    for (size_t t = 0; t < threads_wanted; ++t) threads.emplace_back(work);
  }
  if (first_error) return tl::unexpected(std::move(*first_error));
  return OkStatus();
}

}  // namespace plugctl
