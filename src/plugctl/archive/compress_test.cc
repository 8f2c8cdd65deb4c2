#include "plugctl/archive/compress.h"

#include "support/tar_builder.h"
#include <gtest/gtest.h>

namespace plugctl::archive {
namespace {

Result<std::string> Decompress(std::string bytes) {
  StringReader in(std::move(bytes));
  PLUGCTL_ASSIGN_OR_RETURN(auto plain, DecompressingReader::Open(in, "test"));
  return ReadAllBounded(*plain, 64 << 20, "test");
}

std::string Compress(std::string_view data, Compression compression) {
  StringWriter out;
  auto w = CompressingWriter::Create(out, compression);
  EXPECT_TRUE(w.has_value());
  // Several writes, so the filter sees a stream and not one buffer.
  for (size_t i = 0; i < data.size(); i += 1000) {
    EXPECT_TRUE((*w)->Write(data.substr(i, 1000)).has_value());
  }
  EXPECT_TRUE((*w)->Finish().has_value());
  return out.Take();
}

TEST(CompressTest, GzipRoundTripsAndIsDeterministic) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 7);
  std::string gz = Compress(data, Compression::kGzip);
  ASSERT_GE(gz.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0'));  // no mtime
  EXPECT_EQ(Compress(data, Compression::kGzip), gz);
  EXPECT_EQ(Decompress(gz).value(), data);
}

TEST(CompressTest, ZstdAndPlainPassThrough) {
  EXPECT_EQ(Decompress(Compress("hello zstd", Compression::kZstd)).value(), "hello zstd");
  EXPECT_EQ(Decompress("not compressed").value(), "not compressed");
  EXPECT_EQ(Decompress(test_support::GzipStored("stored")).value(), "stored");
}

TEST(CompressTest, CorruptOrEmptyInputIsDataLoss) {
  std::string gz = Compress(std::string(50000, 'x') + "tail", Compression::kGzip);
  auto truncated = Decompress(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(truncated.error().message().find("test"), std::string::npos);
  auto empty = Decompress("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kDataLoss);
}

TEST(CompressTest, UnfinishedWriterLeavesNoTrailer) {
  StringWriter out;
  {
    auto w = CompressingWriter::Create(out, Compression::kGzip);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Write(std::string(10000, 'y')).has_value());
  }
  EXPECT_FALSE(Decompress(out.Take()).has_value());
}

}  // namespace
}  // namespace plugctl::archive
