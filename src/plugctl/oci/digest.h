// plugctl/oci/digest.h — content digests ("sha256:<64 hex>", "sha512:<128 hex>").
//
// Parsing is strict (OCI image-spec descriptor.md): only the registered
// algorithms, lowercase hex of exactly the algorithm's length. A Digest is
// always valid once constructed.
//
//   Hasher h(DigestAlgorithm::kSha256);
//   h.Update(chunk1); h.Update(chunk2);
//   Digest d = h.Finish();
//   if (d != expected) ...
#pragma once

#include <compare>
#include <memory>
#include <string>
#include <string_view>

#include "plugctl/base/status.h"

namespace plugctl::oci {

enum class DigestAlgorithm { kSha256, kSha512 };

class Digest {
 public:
  // Parses "alg:hex". kInvalidArgument naming the problem otherwise.
  [[nodiscard]] static Result<Digest> Parse(std::string_view text);
  // Digest of a complete byte string.
  static Digest Of(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const;
  // The lowercase hex part.
  const std::string& hex() const { return hex_; }
  // "sha256:…"
  std::string ToString() const;

  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;

 private:
  Digest(DigestAlgorithm algorithm, std::string hex)
      : algorithm_(algorithm), hex_(std::move(hex)) {}
  friend class Hasher;

  DigestAlgorithm algorithm_;
  std::string hex_;
};

// Streaming hash over OpenSSL EVP. Not thread-safe; one stream per Hasher.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(std::string_view data);
  // Finishes the hash; the Hasher must not be used afterwards.
  Digest Finish();

 private:
  struct State;
  DigestAlgorithm algorithm_;
  std::unique_ptr<State> state_;
};

}  // namespace plugctl::oci
