// plugctl/oci/verifying_reader.h — checks a stream against its descriptor
// while it is read.
//
// Every byte that crosses a target boundary goes through one of these: reads
// fail with kDataLoss as soon as the stream is longer than the descriptor's
// size, and at end of stream when it is shorter or its digest differs. A
// consumer that stages data must therefore only commit after Read() returned
// 0 without error.
//
//   VerifyingReader v(*raw, desc, "blob sha256:…");
//   PLUGCTL_ASSIGN_OR_RETURN(uint64_t n, CopyStream(v, file));
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "plugctl/base/io.h"
#include "plugctl/oci/descriptor.h"

namespace plugctl::oci {

class VerifyingReader : public Reader {
 public:
  // `what` names the content in errors (e.g. "layers[1] of reg/x:1.0").
  VerifyingReader(Reader& inner, const Descriptor& expected, std::string what);

  Result<size_t> Read(std::span<char> out) override;

  // True once the whole stream was read and matched.
  bool verified() const { return verified_; }
  // Whether this reader checks exactly `desc`'s digest and size.
  bool Checks(const Descriptor& desc) const {
    return desc.digest == expected_digest_ && static_cast<uint64_t>(desc.size) == expected_size_;
  }
  uint64_t bytes_read() const { return read_; }

 private:
  Reader& inner_;
  Digest expected_digest_;
  uint64_t expected_size_;
  std::string what_;
  Hasher hasher_;
  uint64_t read_ = 0;
  bool verified_ = false;
  // The first verification failure, returned again by every later Read: a consumer that
  // swallowed it (a decompressor, a tar reader) then still reports the mismatch itself.
  std::optional<Error> failure_;
};

// The reader through which to consume `content` so that it is verified against `expected`:
// `content` itself when it already is a VerifyingReader checking `expected` (the copy engine
// verifies what it reads, and a target's Push would otherwise hash every byte a second time),
// else a new VerifyingReader constructed in `storage`.
VerifyingReader& EnsureVerifying(Reader& content, const Descriptor& expected, std::string what,
                                 std::optional<VerifyingReader>& storage);

}  // namespace plugctl::oci
