#include "plugctl/oci/digest.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plugctl::oci {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kSha256Empty =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kSha256Abc =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::string_view kSha512Empty =
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
constexpr std::string_view kSha512Abc =
    "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Digest::Of("").ToString(), kSha256Empty);
  EXPECT_EQ(Digest::Of("abc").ToString(), kSha256Abc);
  EXPECT_EQ(Digest::Of("", DigestAlgorithm::kSha512).ToString(), kSha512Empty);
  EXPECT_EQ(Digest::Of("abc", DigestAlgorithm::kSha512).ToString(), kSha512Abc);
}

TEST(DigestTest, ParseRoundTrips) {
  for (std::string_view text : {kSha256Empty, kSha256Abc, kSha512Empty, kSha512Abc}) {
    Result<Digest> d = Digest::Parse(text);
    ASSERT_TRUE(d) << text << ": " << d.error().message();
    EXPECT_EQ(d->ToString(), text);
  }
  Result<Digest> d = Digest::Parse(kSha512Abc);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm(), DigestAlgorithm::kSha512);
  EXPECT_EQ(d->algorithm_name(), "sha512");
  EXPECT_EQ(d->hex().size(), 128u);
  EXPECT_EQ(*d, Digest::Of("abc", DigestAlgorithm::kSha512));
}

TEST(DigestTest, ParseRejectsUppercaseHex) {
  Result<Digest> d =
      Digest::Parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(d.error().message(), HasSubstr("lowercase"));
}

TEST(DigestTest, ParseRejectsWrongLength) {
  Result<Digest> short_hex = Digest::Parse("sha256:abc");
  ASSERT_FALSE(short_hex);
  EXPECT_THAT(short_hex.error().message(), HasSubstr("64"));
  // A sha256-length hex labelled sha512.
  Result<Digest> mislabelled =
      Digest::Parse("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_FALSE(mislabelled);
  EXPECT_THAT(mislabelled.error().message(), HasSubstr("128"));
  EXPECT_FALSE(Digest::Parse(std::string(kSha256Abc) + "0"));
}

TEST(DigestTest, ParseRejectsMalformed) {
  struct Case {
    std::string_view text;
    std::string_view want;
  };
  for (const Case& c : {
           Case{"", "expected algorithm:hex"},
           Case{"sha256", "expected algorithm:hex"},
           Case{"md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\""},
           Case{"SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "unsupported algorithm"},
           Case{":ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "unsupported algorithm"},
           Case{"sha256:", "needs 64"},
           Case{"sha256:zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "hex"},
       }) {
    Result<Digest> d = Digest::Parse(c.text);
    ASSERT_FALSE(d) << c.text;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_THAT(d.error().message(), HasSubstr(c.want)) << c.text;
  }
}

TEST(DigestTest, StreamingEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31 % 251));
  for (DigestAlgorithm algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    Hasher hasher(algorithm);
    // Uneven chunks, including empty ones, must not change the result.
    size_t pos = 0;
    size_t chunk = 0;
    while (pos < data.size()) {
      size_t n = std::min(data.size() - pos, chunk);
      hasher.Update(std::string_view(data).substr(pos, n));
      pos += n;
      chunk = chunk * 2 + 1;
    }
    EXPECT_EQ(hasher.Finish(), Digest::Of(data, algorithm));
  }
}

TEST(DigestTest, EmptyHasherIsDigestOfEmpty) {
  Hasher hasher;
  EXPECT_EQ(hasher.Finish().ToString(), kSha256Empty);
}

TEST(DigestTest, Ordering) {
  Digest a = Digest::Of("a");
  Digest b = Digest::Of("b");
  EXPECT_NE(a, b);
  EXPECT_TRUE(a < b || b < a);
  EXPECT_EQ(a, Digest::Of("a"));
}

}  // namespace
}  // namespace plugctl::oci
