// plugctl/server/metrics.h — the counters behind `plugctl serve`'s /metrics (Prometheus text
// exposition format 0.0.4). Lock-free: recorded from every connection thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "plugctl/server/http_server.h"
#include "plugctl/server/registry_store.h"

namespace plugctl::server {

class Metrics {
 public:
  void Record(const AccessRecord& record);
  void InFlight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  void UploadStarted() { uploads_active_.fetch_add(1, std::memory_order_relaxed); }
  void UploadEnded() { uploads_active_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t uploads_active() const { return uploads_active_.load(std::memory_order_relaxed); }

  // The exposition text; `storage` supplies the storage gauges.
  std::string Render(const StorageStats& storage) const;

 private:
  static constexpr int kMethods = 7;  // GET HEAD POST PUT PATCH DELETE other
  static constexpr int kStatuses = 600;
  static constexpr std::array<double, 9> kBuckets = {0.0005, 0.001, 0.005, 0.01, 0.05,
                                                     0.1,    0.5,   1,     5};
  std::array<std::atomic<uint64_t>, kMethods * kStatuses> requests_{};
  std::array<std::atomic<uint64_t>, kBuckets.size() + 1> duration_buckets_{};
  std::atomic<uint64_t> duration_sum_us_{0};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> uploads_active_{0};
};

}  // namespace plugctl::server
