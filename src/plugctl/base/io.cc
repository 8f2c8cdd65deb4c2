#include "plugctl/base/io.h"

#include <algorithm>
#include <cstring>

namespace plugctl {

Result<size_t> StringReader::Read(std::span<char> out) {
  size_t n = std::min(out.size(), data_.size() - pos_);
  std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Result<size_t> ReplayReader::Read(std::span<char> out) {
  if (pos_ < prefix_.size()) {
    size_t n = std::min(out.size(), prefix_.size() - pos_);
    std::memcpy(out.data(), prefix_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  return inner_.Read(out);
}

Result<std::string> ReadAllBounded(Reader& reader, size_t max_bytes, std::string_view what) {
  std::string result;
  char buffer[64 * 1024];
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader.Read(std::span<char>(buffer, sizeof(buffer))));
    if (n == 0) return result;
    if (result.size() + n > max_bytes) {
      return MakeError(ErrorCode::kResourceExhausted, "{} is larger than the limit of {} bytes",
                       what, max_bytes);
    }
    result.append(buffer, n);
  }
}

Result<std::string> ReadUpTo(Reader& reader, size_t limit) {
  // Grows with what arrives: a 4 MiB limit must not cost 4 MiB (zeroed, and kept as capacity
  // by whoever stores the result) for a 1 KiB manifest.
  std::string out;
  std::string chunk(std::min<size_t>(limit, 64 * 1024), '\0');
  while (out.size() < limit) {
    size_t want = std::min(chunk.size(), limit - out.size());
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader.Read(std::span<char>(chunk.data(), want)));
    if (n == 0) break;
    out.append(chunk.data(), n);
  }
  return out;
}

}  // namespace plugctl
