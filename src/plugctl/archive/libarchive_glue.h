// src/plugctl/archive/libarchive_glue.h — what the tar and compression code of this layer
// share to drive libarchive over plugctl's byte streams (not used outside archive/).
//
// libarchive reports a failed client callback as a generic "read error"/"write error". The
// clients below keep the stream's own error (e.g. a digest mismatch while reading, a full disk
// while writing) so that callers report what really happened.
#pragma once

#include <archive.h>

#include <optional>
#include <string>
#include <string_view>

#include "plugctl/archive/tar.h"
#include "plugctl/base/io.h"
#include "plugctl/base/status.h"

namespace plugctl::archive {

// libarchive's message for `a`'s last error, or a fixed text when it has none.
std::string LibarchiveError(struct archive* a);

// The error for a failed libarchive call on `a`: the client stream's own error when it had one,
// else libarchive's message, as `code`, naming `name` and what was being done.
Error CallFailure(const std::optional<Error>& client_error, struct archive* a, ErrorCode code,
                  std::string_view name, std::string_view doing);

// The client of archive_read_open: feeds libarchive from a Reader in fixed-size blocks.
struct ArchiveReadClient {
  explicit ArchiveReadClient(Reader& source);
  static la_ssize_t Callback(struct archive* a, void* client, const void** buffer);

  Reader* in;
  std::string block;
  std::optional<Error> error;  // the Reader's error, once it failed
};

// The client of archive_write_open: hands libarchive's output to a Writer. Once `abandoned`,
// output is swallowed: closing an unfinished archive writes trailers that would make a
// truncated stream look complete.
struct ArchiveWriteClient {
  explicit ArchiveWriteClient(Writer& sink) : out(&sink) {}
  static la_ssize_t Callback(struct archive* a, void* client, const void* buffer, size_t length);

  Writer* out;
  std::optional<Error> error;  // the Writer's error, once it failed
  bool abandoned = false;
};

// Enables only the in-process decompressors (none, gzip, zstd) on a reader: filter_all would
// fork external programs (lrzip, lzop...) on untrusted input. kUnimplemented when libarchive
// was built without gzip or zstd.
[[nodiscard]] Status SupportInProcessFilters(struct archive* a, std::string_view name);

// Sets a writer's compression so that equal input gives equal bytes: no mtime in gzip headers,
// no zero padding after the last block (zstd and strict gzip readers take it for a corrupt
// trailing frame). kUnimplemented when the filter is not built in (libarchive would pipe
// through an external program: not reproducible across machines).
[[nodiscard]] Status SetReproducibleCompression(struct archive* a, Compression compression,
                                                std::string_view name);

}  // namespace plugctl::archive
