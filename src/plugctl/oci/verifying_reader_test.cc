#include "plugctl/oci/verifying_reader.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/oci/media_types.h"

namespace plugctl::oci {
namespace {

using ::testing::HasSubstr;

// Hands out at most `chunk` bytes per Read so multi-read paths are exercised.
class ChunkedReader : public Reader {
 public:
  ChunkedReader(std::string data, size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  Result<size_t> Read(std::span<char> out) override {
    size_t n = std::min({out.size(), chunk_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, out.data());
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

class FailingReader : public Reader {
 public:
  Result<size_t> Read(std::span<char>) override {
    return MakeError(ErrorCode::kUnavailable, "connection reset");
  }
};

std::string Payload() {
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>('a' + i % 26));
  return data;
}

TEST(VerifyingReaderTest, MatchingStreamPasses) {
  std::string data = Payload();
  Descriptor d = Descriptor::For(kOciLayerTarGzip, data);
  ChunkedReader inner(data, 777);
  VerifyingReader v(inner, d, "layers[0]");
  StringWriter out;
  Result<uint64_t> n = CopyStream(v, out);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, data.size());
  EXPECT_EQ(out.data(), data);
  EXPECT_TRUE(v.verified());
  EXPECT_EQ(v.bytes_read(), data.size());
  // Reads after the end keep returning 0.
  char buf[4];
  Result<size_t> again = v.Read(buf);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

TEST(VerifyingReaderTest, EmptyBlobPasses) {
  Descriptor d = Descriptor::For(kOciEmpty, "");
  StringReader inner("");
  VerifyingReader v(inner, d, "empty");
  StringWriter out;
  ASSERT_TRUE(CopyStream(v, out));
  EXPECT_TRUE(v.verified());
}

TEST(VerifyingReaderTest, TruncatedStreamFails) {
  std::string data = Payload();
  Descriptor d = Descriptor::For(kOciLayerTarGzip, data);
  StringReader inner(data.substr(0, data.size() - 1));
  VerifyingReader v(inner, d, "blob X");
  StringWriter out;
  Result<uint64_t> n = CopyStream(v, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(n.error().message(), HasSubstr("blob X"));
  EXPECT_THAT(n.error().message(), HasSubstr("truncated"));
  EXPECT_THAT(n.error().message(), HasSubstr("9999 of 10000"));
  EXPECT_FALSE(v.verified());
}

TEST(VerifyingReaderTest, TooLongStreamFailsEarly) {
  std::string data = Payload();
  Descriptor d = Descriptor::For(kOciLayerTarGzip, data);
  ChunkedReader inner(data + "extra", 4096);
  VerifyingReader v(inner, d, "blob X");
  StringWriter out;
  Result<uint64_t> n = CopyStream(v, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(n.error().message(), HasSubstr("more than the expected 10000 bytes"));
  EXPECT_FALSE(v.verified());
  // Nothing past the failing read reached the writer.
  EXPECT_LE(out.data().size(), data.size());

  // The reader stays failed.
  char buf[4];
  Result<size_t> again = v.Read(buf);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kDataLoss);
}

TEST(VerifyingReaderTest, WrongDigestFailsAtEnd) {
  std::string data = Payload();
  Descriptor d = Descriptor::For(kOciLayerTarGzip, data);
  std::string tampered = data;
  tampered[5000] ^= 1;
  StringReader inner(tampered);
  VerifyingReader v(inner, d, "layers[3] of reg/x:1.0");
  StringWriter out;
  Result<uint64_t> n = CopyStream(v, out);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::kDataLoss);
  EXPECT_THAT(n.error().message(), HasSubstr("layers[3] of reg/x:1.0: digest mismatch"));
  EXPECT_THAT(n.error().message(), HasSubstr(d.digest.ToString()));
  EXPECT_THAT(n.error().message(), HasSubstr(Digest::Of(tampered).ToString()));
  EXPECT_FALSE(v.verified());
}

TEST(VerifyingReaderTest, Sha512Descriptor) {
  std::string data = Payload();
  Descriptor d = Descriptor::For(kOciLayerTarGzip, data);
  d.digest = Digest::Of(data, DigestAlgorithm::kSha512);
  StringReader inner(data);
  VerifyingReader v(inner, d, "blob");
  StringWriter out;
  ASSERT_TRUE(CopyStream(v, out));
  EXPECT_TRUE(v.verified());
}

TEST(VerifyingReaderTest, InnerErrorPassesThrough) {
  Descriptor d = Descriptor::For(kOciLayerTarGzip, "abc");
  FailingReader inner;
  VerifyingReader v(inner, d, "blob");
  char buf[4];
  Result<size_t> n = v.Read(buf);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(v.verified());
}

}  // namespace
}  // namespace plugctl::oci
