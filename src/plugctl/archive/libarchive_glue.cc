#include "plugctl/archive/libarchive_glue.h"

#include <cerrno>
#include <span>

namespace plugctl::archive {
namespace {

// Big enough that libarchive's decompressors rarely call back for more; small enough to keep
// memory flat whatever the entry sizes.
constexpr size_t kReadBlockSize = 64 * 1024;

}  // namespace

std::string LibarchiveError(struct archive* a) {
  const char* msg = archive_error_string(a);
  return msg != nullptr && *msg != '\0' ? std::string(msg)
                                        : std::string("unknown libarchive error");
}

Error CallFailure(const std::optional<Error>& client_error, struct archive* a, ErrorCode code,
                  std::string_view name, std::string_view doing) {
  if (client_error) return *client_error;
  return Error(code, fmt::format("{}: {}: {}", name, doing, LibarchiveError(a)));
}

ArchiveReadClient::ArchiveReadClient(Reader& source) : in(&source), block(kReadBlockSize, '\0') {}

la_ssize_t ArchiveReadClient::Callback(struct archive* a, void* client, const void** buffer) {
  auto* self = static_cast<ArchiveReadClient*>(client);
  Result<size_t> n = self->in->Read(std::span<char>(self->block.data(), self->block.size()));
  if (!n) {
    self->error = n.error();
    archive_set_error(a, EIO, "read error");
    return -1;
  }
  *buffer = self->block.data();
  return static_cast<la_ssize_t>(*n);
}

la_ssize_t ArchiveWriteClient::Callback(struct archive* a, void* client, const void* buffer,
                                        size_t length) {
  auto* self = static_cast<ArchiveWriteClient*>(client);
  if (self->abandoned) return static_cast<la_ssize_t>(length);
  Status st = self->out->Write(std::string_view(static_cast<const char*>(buffer), length));
  if (!st) {
    self->error = st.error();
    archive_set_error(a, EIO, "write error");
    return -1;
  }
  return static_cast<la_ssize_t>(length);
}

Status SupportInProcessFilters(struct archive* a, std::string_view name) {
  archive_read_support_filter_none(a);
  if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
    return MakeError(ErrorCode::kUnimplemented,
                     "{}: libarchive lacks built-in gzip or zstd support", name);
  }
  return OkStatus();
}

Status SetReproducibleCompression(struct archive* a, Compression compression,
                                  std::string_view name) {
  int r = ARCHIVE_OK;
  switch (compression) {
    case Compression::kNone:
      r = archive_write_add_filter_none(a);
      break;
    case Compression::kGzip:
      r = archive_write_add_filter_gzip(a);
      if (r == ARCHIVE_OK) r = archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
      break;
    case Compression::kZstd:
      r = archive_write_add_filter_zstd(a);
      break;
  }
  // ARCHIVE_WARN means an external program.
  if (r != ARCHIVE_OK) {
    return MakeError(ErrorCode::kUnimplemented, "{}: compression not built into libarchive: {}",
                     name, LibarchiveError(a));
  }
  archive_write_set_bytes_in_last_block(a, 1);
  return OkStatus();
}

}  // namespace plugctl::archive
