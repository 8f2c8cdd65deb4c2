#include "plugctl/oci/digest.h"

#include <cassert>

#include <openssl/evp.h>

namespace plugctl::oci {
namespace {

size_t HexLength(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kSha256 ? 64 : 128;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid digest \"{}\": expected algorithm:hex",
                     text.substr(0, 140));
  }
  std::string_view alg = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  DigestAlgorithm algorithm;
  if (alg == "sha256") {
    algorithm = DigestAlgorithm::kSha256;
  } else if (alg == "sha512") {
    algorithm = DigestAlgorithm::kSha512;
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid digest \"{}\": unsupported algorithm \"{}\"", text.substr(0, 140),
                     alg.substr(0, 32));
  }
  if (hex.size() != HexLength(algorithm)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid digest \"{}\": {} needs {} hex characters, got {}",
                     text.substr(0, 140), alg, HexLength(algorithm), hex.size());
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid digest \"{}\": hex must be lowercase [0-9a-f]",
                       text.substr(0, 140));
    }
  }
  return Digest(algorithm, std::string(hex));
}

Digest Digest::Of(std::string_view data, DigestAlgorithm algorithm) {
  Hasher hasher(algorithm);
  hasher.Update(data);
  return hasher.Finish();
}

std::string_view Digest::algorithm_name() const {
  return algorithm_ == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::string Digest::ToString() const {
  std::string out(algorithm_name());
  out += ':';
  out += hex_;
  return out;
}

struct Hasher::State {
  EVP_MD_CTX* ctx = nullptr;
};

Hasher::Hasher(DigestAlgorithm algorithm) : algorithm_(algorithm), state_(new State) {
  state_->ctx = EVP_MD_CTX_new();
  // Allocation failure of a few hundred bytes is not recoverable here.
  assert(state_->ctx != nullptr);
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  EVP_DigestInit_ex(state_->ctx, md, nullptr);
}

Hasher::~Hasher() { EVP_MD_CTX_free(state_->ctx); }

void Hasher::Update(std::string_view data) {
  EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}

Digest Hasher::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xf]);
  }
  return Digest(algorithm_, std::move(hex));
}

}  // namespace plugctl::oci
