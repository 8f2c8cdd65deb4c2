#include "plugctl/base/io.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace plugctl {
namespace {

// Hands out at most `chunk` bytes a read, and fails once `fail_after` bytes were read.
class ChunkedReader : public Reader {
 public:
  ChunkedReader(std::string data, size_t chunk, size_t fail_after = std::string::npos)
      : data_(std::move(data)), chunk_(chunk), fail_after_(fail_after) {}
  Result<size_t> Read(std::span<char> out) override {
    if (pos_ >= fail_after_) return MakeError(ErrorCode::kDataLoss, "broken");
    size_t n = std::min({out.size(), chunk_, data_.size() - pos_});
    data_.copy(out.data(), n, pos_);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t chunk_;
  size_t fail_after_;
  size_t pos_ = 0;
};

TEST(ReplayReaderTest, HandsOutThePrefixThenReadsOn) {
  ChunkedReader inner("0123456789", 3);
  auto prefix = ReadUpTo(inner, 4);
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(*prefix, "0123");
  ReplayReader replay(std::move(*prefix), inner);
  EXPECT_EQ(replay.prefix(), "0123");
  auto all = ReadAllBounded(replay, 100, "stream");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, "0123456789");
}

TEST(ReplayReaderTest, SplitsThePrefixOverSmallReads) {
  StringReader inner("cd");
  ReplayReader replay("ab", inner);
  char byte = 0;
  std::string got;
  for (;;) {
    auto n = replay.Read(std::span<char>(&byte, 1));
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    EXPECT_EQ(*n, 1u);
    got.push_back(byte);
  }
  EXPECT_EQ(got, "abcd");
  EXPECT_EQ(replay.prefix(), "ab");
}

TEST(ReplayReaderTest, StopsAtThePrefixBoundary) {
  // A read never mixes prefix and inner bytes: the prefix ends a read.
  StringReader inner("xyz");
  ReplayReader replay("ab", inner);
  std::string buffer(10, '\0');
  auto n = replay.Read(std::span<char>(buffer.data(), buffer.size()));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(buffer.substr(0, *n), "ab");
}

TEST(ReplayReaderTest, EmptyPrefixReadsInner) {
  StringReader inner("xyz");
  ReplayReader replay("", inner);
  auto all = ReadAllBounded(replay, 100, "stream");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, "xyz");
}

TEST(ReplayReaderTest, PassesInnerErrorsThrough) {
  ChunkedReader inner("0123456789", 2, /*fail_after=*/4);
  auto prefix = ReadUpTo(inner, 2);
  ASSERT_TRUE(prefix.has_value());
  ReplayReader replay(std::move(*prefix), inner);
  auto all = ReadAllBounded(replay, 100, "stream");
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kDataLoss);
}

}  // namespace
}  // namespace plugctl
