#include "plugctl/oci/verifying_reader.h"

namespace plugctl::oci {

VerifyingReader::VerifyingReader(Reader& inner, const Descriptor& expected, std::string what)
    : inner_(inner),
      expected_digest_(expected.digest),
      expected_size_(static_cast<uint64_t>(expected.size)),
      what_(std::move(what)),
      hasher_(expected.digest.algorithm()) {}

Result<size_t> VerifyingReader::Read(std::span<char> out) {
  if (failure_) return tl::unexpected(*failure_);
  if (verified_ || out.empty()) return size_t{0};
  PLUGCTL_ASSIGN_OR_RETURN(size_t n, inner_.Read(out));
  if (n == 0) {
    if (read_ != expected_size_) {
      failure_ = Error(ErrorCode::kDataLoss, fmt::format("{}: truncated: got {} of {} bytes", what_,
                                                         read_, expected_size_));
      return tl::unexpected(*failure_);
    }
    Digest actual = hasher_.Finish();
    if (actual != expected_digest_) {
      failure_ =
          Error(ErrorCode::kDataLoss, fmt::format("{}: digest mismatch: expected {}, got {}", what_,
                                                  expected_digest_.ToString(), actual.ToString()));
      return tl::unexpected(*failure_);
    }
    verified_ = true;
    return size_t{0};
  }
  read_ += n;
  if (read_ > expected_size_) {
    failure_ = Error(ErrorCode::kDataLoss,
                     fmt::format("{}: more than the expected {} bytes", what_, expected_size_));
    return tl::unexpected(*failure_);
  }
  hasher_.Update(std::string_view(out.data(), n));
  return n;
}

VerifyingReader& EnsureVerifying(Reader& content, const Descriptor& expected, std::string what,
                                 std::optional<VerifyingReader>& storage) {
  if (auto* verifying = dynamic_cast<VerifyingReader*>(&content);
      verifying != nullptr && verifying->Checks(expected)) {
    return *verifying;
  }
  return storage.emplace(content, expected, std::move(what));
}

}  // namespace plugctl::oci
