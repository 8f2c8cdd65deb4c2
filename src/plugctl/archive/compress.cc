#include "plugctl/archive/compress.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <optional>
#include <utility>

namespace plugctl::archive {
namespace {

constexpr size_t kReadBlockSize = 64 * 1024;

std::string ErrorString(struct archive* a) {
  const char* s = archive_error_string(a);
  return s != nullptr ? s : "unknown libarchive error";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CompressingWriter: libarchive's raw format writes one entry's data through its filters
// unchanged, which makes its compression filters usable on any byte stream.

struct CompressingWriter::Impl {
  Impl(Writer& sink, std::string stream_name) : out(&sink), name(std::move(stream_name)) {}
  ~Impl() {
    if (a == nullptr) return;
    // Closing writes the compressor's trailer, which would make an abandoned stream look
    // complete: swallow it.
    if (!finished) abandoned = true;
    archive_write_close(a);
    archive_write_free(a);
  }

  static la_ssize_t WriteCallback(struct archive* ar, void* client, const void* buffer,
                                  size_t length) {
    Impl* self = static_cast<Impl*>(client);
    if (self->abandoned) return static_cast<la_ssize_t>(length);
    Status st = self->out->Write(std::string_view(static_cast<const char*>(buffer), length));
    if (!st) {
      self->sink_error = st.error();
      archive_set_error(ar, EIO, "write error");
      return -1;
    }
    return static_cast<la_ssize_t>(length);
  }

  Error Fail(std::string_view doing) {
    if (!failed_error) {
      failed_error = sink_error ? *sink_error
                                : Error(ErrorCode::kInternal,
                                        fmt::format("{}: {}: {}", name, doing, ErrorString(a)));
    }
    return *failed_error;
  }

  Writer* out;
  std::string name;
  struct archive* a = nullptr;
  std::optional<Error> sink_error;
  std::optional<Error> failed_error;
  bool finished = false;
  bool abandoned = false;
};

CompressingWriter::CompressingWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompressingWriter::~CompressingWriter() = default;

Result<std::unique_ptr<CompressingWriter>> CompressingWriter::Create(Writer& out,
                                                                     Compression compression,
                                                                     std::string name) {
  auto impl = std::make_unique<Impl>(out, std::move(name));
  impl->a = archive_write_new();
  if (impl->a == nullptr) {
    return MakeError(ErrorCode::kInternal, "{}: cannot allocate libarchive writer", impl->name);
  }
  struct archive* a = impl->a;
  if (archive_write_set_format_raw(a) != ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("set format"));
  }
  int r = ARCHIVE_OK;
  switch (compression) {
    case Compression::kNone:
      r = archive_write_add_filter_none(a);
      break;
    case Compression::kGzip:
      r = archive_write_add_filter_gzip(a);
      // No mtime in the gzip header: the same input always gives the same bytes.
      if (r == ARCHIVE_OK) r = archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
      break;
    case Compression::kZstd:
      r = archive_write_add_filter_zstd(a);
      break;
  }
  // ARCHIVE_WARN would mean an external program: not reproducible, so refused.
  if (r != ARCHIVE_OK) {
    return MakeError(ErrorCode::kUnimplemented, "{}: compression not built into libarchive: {}",
                     impl->name, ErrorString(a));
  }
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, impl.get(), nullptr, &Impl::WriteCallback, nullptr) != ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("open"));
  }
  struct archive_entry* e = archive_entry_new();
  if (e == nullptr) {
    return MakeError(ErrorCode::kInternal, "{}: out of memory", impl->name);
  }
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  r = archive_write_header(a, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK) return tl::unexpected(impl->Fail("start"));
  return std::unique_ptr<CompressingWriter>(new CompressingWriter(std::move(impl)));
}

Status CompressingWriter::Write(std::string_view data) {
  if (impl_->failed_error) return tl::unexpected(*impl_->failed_error);
  if (impl_->finished) {
    return MakeError(ErrorCode::kFailedPrecondition, "{}: already finished", impl_->name);
  }
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(impl_->a, data.data(), data.size());
    if (n <= 0) return tl::unexpected(impl_->Fail("write"));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status CompressingWriter::Finish() {
  if (impl_->failed_error) return tl::unexpected(*impl_->failed_error);
  if (impl_->finished) {
    return MakeError(ErrorCode::kFailedPrecondition, "{}: already finished", impl_->name);
  }
  if (archive_write_close(impl_->a) != ARCHIVE_OK) return tl::unexpected(impl_->Fail("finish"));
  impl_->finished = true;
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// DecompressingReader: libarchive's raw format hands out the filtered (decompressed) stream as
// one entry.

struct DecompressingReader::Impl {
  Impl(Reader& source, std::string stream_name) : in(&source), name(std::move(stream_name)) {}
  ~Impl() {
    if (a != nullptr) archive_read_free(a);
  }

  static la_ssize_t ReadCallback(struct archive* ar, void* client, const void** buffer) {
    Impl* self = static_cast<Impl*>(client);
    Result<size_t> n = self->in->Read(std::span<char>(self->block.data(), self->block.size()));
    if (!n) {
      self->source_error = n.error();
      archive_set_error(ar, EIO, "read error");
      return -1;
    }
    *buffer = self->block.data();
    return static_cast<la_ssize_t>(*n);
  }

  // Errors of the source win: they are what really happened (e.g. a digest mismatch).
  Error Fail(std::string_view doing) {
    if (!failed_error) {
      failed_error = source_error ? *source_error
                                  : Error(ErrorCode::kDataLoss,
                                          fmt::format("{}: {}: {}", name, doing, ErrorString(a)));
    }
    return *failed_error;
  }

  Reader* in;
  std::string name;
  struct archive* a = nullptr;
  std::string block = std::string(kReadBlockSize, '\0');
  std::optional<Error> source_error;
  std::optional<Error> failed_error;
  bool started = false;
  bool at_end = false;
};

DecompressingReader::DecompressingReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DecompressingReader::~DecompressingReader() = default;

Result<std::unique_ptr<DecompressingReader>> DecompressingReader::Open(Reader& in,
                                                                       std::string name) {
  auto impl = std::make_unique<Impl>(in, std::move(name));
  impl->a = archive_read_new();
  if (impl->a == nullptr) {
    return MakeError(ErrorCode::kInternal, "{}: cannot allocate libarchive reader", impl->name);
  }
  // Only in-process filters: filter_all would fork external programs on untrusted input.
  archive_read_support_filter_none(impl->a);
  if (archive_read_support_filter_gzip(impl->a) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(impl->a) != ARCHIVE_OK) {
    return MakeError(ErrorCode::kUnimplemented,
                     "{}: libarchive lacks built-in gzip or zstd support", impl->name);
  }
  archive_read_support_format_raw(impl->a);
  // Opening reads nothing yet for raw; the first Read() detects the compression.
  if (archive_read_open(impl->a, impl.get(), nullptr, &Impl::ReadCallback, nullptr) != ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("open"));
  }
  return std::unique_ptr<DecompressingReader>(new DecompressingReader(std::move(impl)));
}

Result<size_t> DecompressingReader::Read(std::span<char> out) {
  Impl& impl = *impl_;
  if (impl.failed_error) return tl::unexpected(*impl.failed_error);
  if (impl.at_end || out.empty()) return 0;
  if (!impl.started) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(impl.a, &e);
    if (r == ARCHIVE_EOF) {
      impl.at_end = true;
      return 0;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      // Raw bids only on a non-empty stream: "unrecognized format" means there was nothing.
      std::string msg = ErrorString(impl.a);
      if (!impl.source_error && msg.find("Unrecognized") != std::string::npos) {
        impl.failed_error = Error(ErrorCode::kDataLoss, fmt::format("{}: empty stream", impl.name));
        return tl::unexpected(*impl.failed_error);
      }
      return tl::unexpected(impl.Fail("start"));
    }
    impl.started = true;
  }
  la_ssize_t n = archive_read_data(impl.a, out.data(), out.size());
  if (n < 0) return tl::unexpected(impl.Fail("decompress"));
  if (n == 0) impl.at_end = true;
  return static_cast<size_t>(n);
}

}  // namespace plugctl::archive
