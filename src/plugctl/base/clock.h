// plugctl/base/clock.h — time and waiting, injectable.
//
// Code that waits (retry backoff, Retry-After) or compares against the time
// (token expiry) takes a Clock, so tests drive time with FakeClock instead of
// sleeping, as Envoy's TimeSource does.
//
//   std::shared_ptr<Clock> clock = Clock::Real();
//   auto deadline = clock->Now() + std::chrono::seconds(50);
//   clock->SleepFor(std::chrono::milliseconds(200));
//
//   auto fake = std::make_shared<FakeClock>();
//   fake->SleepFor(std::chrono::seconds(3));   // returns at once; Now() moved by 3 s
//   fake->sleeps();                             // {3000ms}
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace plugctl {

// Thread-safe.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // A monotonic time.
  virtual TimePoint Now() = 0;
  // Blocks the calling thread for `duration` (returns at once for <= 0).
  virtual void SleepFor(std::chrono::milliseconds duration) = 0;

  // The steady clock and std::this_thread::sleep_for; one shared instance.
  static std::shared_ptr<Clock> Real();
};

// Time that moves only when told to: SleepFor records the wait and advances
// Now() by it instead of blocking. Thread-safe.
class FakeClock : public Clock {
 public:
  FakeClock() = default;

  TimePoint Now() override;
  void SleepFor(std::chrono::milliseconds duration) override;

  void Advance(std::chrono::milliseconds duration);
  // Every SleepFor so far, in order.
  std::vector<std::chrono::milliseconds> sleeps() const;

 private:
  mutable std::mutex mu_;
  TimePoint now_{std::chrono::hours(1)};
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace plugctl
