#include "plugctl/base/clock.h"

#include <gtest/gtest.h>

namespace plugctl {
namespace {

using std::chrono::milliseconds;

TEST(FakeClockTest, SleepRecordsAndAdvances) {
  FakeClock clock;
  auto start = clock.Now();
  clock.SleepFor(milliseconds(250));
  clock.Advance(milliseconds(50));
  clock.SleepFor(milliseconds(0));
  EXPECT_EQ(clock.Now() - start, milliseconds(300));
  EXPECT_EQ(clock.sleeps(), (std::vector<milliseconds>{milliseconds(250), milliseconds(0)}));
}

TEST(RealClockTest, IsMonotonicAndShared) {
  auto clock = Clock::Real();
  EXPECT_EQ(clock, Clock::Real());
  auto a = clock->Now();
  clock->SleepFor(milliseconds(0));
  EXPECT_LE(a, clock->Now());
}

}  // namespace
}  // namespace plugctl
