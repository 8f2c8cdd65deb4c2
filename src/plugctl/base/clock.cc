#include "plugctl/base/clock.h"

#include <thread>

namespace plugctl {
namespace {

class RealClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::milliseconds duration) override {
    if (duration.count() > 0) std::this_thread::sleep_for(duration);
  }
};

}  // namespace

std::shared_ptr<Clock> Clock::Real() {
  static const std::shared_ptr<Clock> real = std::make_shared<RealClock>();
  return real;
}

Clock::TimePoint FakeClock::Now() {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::SleepFor(std::chrono::milliseconds duration) {
  std::lock_guard lock(mu_);
  sleeps_.push_back(duration);
  if (duration.count() > 0) now_ += duration;
}

void FakeClock::Advance(std::chrono::milliseconds duration) {
  std::lock_guard lock(mu_);
  now_ += duration;
}

std::vector<std::chrono::milliseconds> FakeClock::sleeps() const {
  std::lock_guard lock(mu_);
  return sleeps_;
}

}  // namespace plugctl
