// plugctl/base/io.h — byte streams.
//
// Blobs are never held whole in memory: they move through Reader/Writer pairs
// in bounded chunks. Readers are single-threaded objects; hand one to exactly
// one consumer.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
//   PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadAllBounded(*reader, 4 << 20, path));
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "plugctl/base/status.h"

namespace plugctl {

inline constexpr size_t kCopyBufferSize = 256 * 1024;

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to out.size() bytes into out. Returns the number read; 0 means
  // end of stream (only when out is non-empty).
  [[nodiscard]] virtual Result<size_t> Read(std::span<char> out) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all of data or fails.
  [[nodiscard]] virtual Status Write(std::string_view data) = 0;
};

// A Reader over bytes it owns.
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(std::span<char> out) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Hands out `prefix` and then reads on from `inner`: for bytes already taken from `inner`
// (to sniff or check the start of a stream), so that the consumer that follows reads the
// stream from its beginning. `inner` must outlive the ReplayReader; reading `inner` directly
// while the ReplayReader is in use reorders the bytes. Errors of `inner` pass through as they
// are; the prefix itself never fails.
class ReplayReader : public Reader {
 public:
  ReplayReader(std::string prefix, Reader& inner) : prefix_(std::move(prefix)), inner_(inner) {}
  Result<size_t> Read(std::span<char> out) override;

  // The bytes handed out before `inner` is read, whether or not they have been handed out yet.
  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  Reader& inner_;
};

// Appends to a string it owns.
class StringWriter : public Writer {
 public:
  Status Write(std::string_view data) override {
    data_.append(data);
    return OkStatus();
  }
  const std::string& data() const { return data_; }
  std::string Take() { return std::move(data_); }

 private:
  std::string data_;
};

// Reads the whole stream into a string, failing with kResourceExhausted when
// it holds more than max_bytes. `what` names the content in the error.
[[nodiscard]] Result<std::string> ReadAllBounded(Reader& reader, size_t max_bytes,
                                                 std::string_view what);

// Reads up to `limit` bytes: fewer only at end of stream.
[[nodiscard]] Result<std::string> ReadUpTo(Reader& reader, size_t limit);

// Copies reader to writer in kCopyBufferSize chunks; returns bytes copied.
// `on_chunk`, when set, is called after each chunk with its size.
template <typename OnChunk>
[[nodiscard]] Result<uint64_t> CopyStream(Reader& reader, Writer& writer, OnChunk&& on_chunk) {
  std::string buffer(kCopyBufferSize, '\0');
  uint64_t total = 0;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader.Read(std::span<char>(buffer.data(), buffer.size())));
    if (n == 0) return total;
    PLUGCTL_RETURN_IF_ERROR(writer.Write(std::string_view(buffer.data(), n)));
    total += n;
    on_chunk(n);
  }
}

[[nodiscard]] inline Result<uint64_t> CopyStream(Reader& reader, Writer& writer) {
  return CopyStream(reader, writer, [](size_t) {});
}

}  // namespace plugctl
