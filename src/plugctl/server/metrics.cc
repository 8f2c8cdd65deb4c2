#include "plugctl/server/metrics.h"

#include <fmt/format.h>

namespace plugctl::server {

namespace {

constexpr std::array<std::string_view, 7> kMethodNames = {"GET",   "HEAD",   "POST", "PUT",
                                                          "PATCH", "DELETE", "other"};

int MethodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (method == kMethodNames[i]) return static_cast<int>(i);
  }
  return static_cast<int>(kMethodNames.size()) - 1;
}

}  // namespace

void Metrics::Record(const AccessRecord& record) {
  int status = record.status < kStatuses ? static_cast<int>(record.status) : 0;
  requests_[MethodIndex(record.method) * kStatuses + status].fetch_add(1,
                                                                       std::memory_order_relaxed);
  bytes_in_.fetch_add(record.bytes_in, std::memory_order_relaxed);
  bytes_out_.fetch_add(record.bytes_out, std::memory_order_relaxed);
  double seconds = static_cast<double>(record.duration.count()) / 1e6;
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  duration_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  duration_sum_us_.fetch_add(static_cast<uint64_t>(record.duration.count()),
                             std::memory_order_relaxed);
}

std::string Metrics::Render(const StorageStats& storage) const {
  std::string out;
  out += "# HELP plugctl_http_requests_total HTTP requests served, by method and status.\n";
  out += "# TYPE plugctl_http_requests_total counter\n";
  for (int m = 0; m < kMethods; ++m) {
    for (int s = 0; s < kStatuses; ++s) {
      uint64_t n = requests_[m * kStatuses + s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += fmt::format("plugctl_http_requests_total{{method=\"{}\",code=\"{}\"}} {}\n",
                         kMethodNames[m], s, n);
    }
  }
  out += "# HELP plugctl_http_request_duration_seconds Time from request head to response sent.\n";
  out += "# TYPE plugctl_http_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kBuckets.size(); ++b) {
    cumulative += duration_buckets_[b].load(std::memory_order_relaxed);
    std::string le = b < kBuckets.size() ? fmt::format("{}", kBuckets[b]) : "+Inf";
    out += fmt::format("plugctl_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le,
                       cumulative);
  }
  out += fmt::format("plugctl_http_request_duration_seconds_sum {}\n",
                     static_cast<double>(duration_sum_us_.load(std::memory_order_relaxed)) / 1e6);
  out += fmt::format("plugctl_http_request_duration_seconds_count {}\n", cumulative);
  auto gauge = [&out](std::string_view name, std::string_view type, std::string_view help,
                      auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  gauge("plugctl_http_received_bytes_total", "counter",
        "Request bytes received (heads and bodies).", bytes_in_.load(std::memory_order_relaxed));
  gauge("plugctl_http_sent_bytes_total", "counter", "Response body bytes sent.",
        bytes_out_.load(std::memory_order_relaxed));
  gauge("plugctl_http_requests_in_flight", "gauge", "Requests being handled now.",
        in_flight_.load(std::memory_order_relaxed));
  gauge("plugctl_registry_uploads_active", "gauge", "Upload requests streaming now.",
        uploads_active_.load(std::memory_order_relaxed));
  gauge("plugctl_registry_uploads_in_progress", "gauge",
        "Upload sessions started and not finished.", storage.uploads_in_progress);
  gauge("plugctl_registry_storage_bytes", "gauge", "Bytes of blobs stored.", storage.blob_bytes);
  gauge("plugctl_registry_blobs", "gauge", "Blobs stored.", storage.blob_count);
  gauge("plugctl_registry_repositories", "gauge", "Repositories served.", storage.repositories);
  return out;
}

}  // namespace plugctl::server
