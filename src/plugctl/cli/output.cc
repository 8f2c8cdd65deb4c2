#include "plugctl/cli/output.h"

#include <unistd.h>

#include <iostream>

namespace plugctl::cli {

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string ShortDigest(const oci::Digest& digest) {
  return fmt::format("{}:{}", digest.algorithm_name(), digest.hex().substr(0, 12));
}

void PrintJson(const nlohmann::ordered_json& json) {
  std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

transfer::ProgressCallback ProgressBar::Callback() {
  if (!enabled_) return nullptr;
  return [this](const transfer::ProgressEvent& event) { OnEvent(event); };
}

void ProgressBar::OnEvent(const transfer::ProgressEvent& event) {
  std::lock_guard lock(mu_);
  using Kind = transfer::ProgressEvent::Kind;
  switch (event.kind) {
    case Kind::kPlanned:
      total_blobs_ = (accumulate_ ? total_blobs_ : 0) + event.total_blobs;
      total_bytes_ = (accumulate_ ? total_bytes_ : 0) + event.total_bytes;
      break;
    case Kind::kBytes:
      done_bytes_ += event.bytes;
      break;
    case Kind::kSkipped:
      ++done_blobs_;
      if (event.descriptor != nullptr) done_bytes_ += static_cast<uint64_t>(event.descriptor->size);
      break;
    case Kind::kFinished:
      ++done_blobs_;
      break;
    case Kind::kStarted:
      break;
  }
  Render(event.kind == Kind::kFinished || event.kind == Kind::kSkipped);
}

void ProgressBar::Render(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_render_ < std::chrono::milliseconds(100)) return;
  last_render_ = now;
  constexpr int kWidth = 24;
  int filled =
      total_bytes_ == 0
          ? kWidth
          : static_cast<int>(kWidth * std::min<double>(1.0, static_cast<double>(done_bytes_) /
                                                                static_cast<double>(total_bytes_)));
  double seconds = std::chrono::duration<double>(now - start_).count();
  double rate = seconds > 0 ? static_cast<double>(done_bytes_) / seconds : 0;
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(kWidth, ' ');
  fmt::print(stderr, "\r\033[K{} [{}] {}/{} blobs {} / {} {}/s", label_, bar, done_blobs_,
             total_blobs_, HumanBytes(done_bytes_), HumanBytes(total_bytes_),
             HumanBytes(static_cast<uint64_t>(rate)));
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  std::lock_guard lock(mu_);
  if (drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace plugctl::cli
