#include "plugctl/archive/compress.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "plugctl/archive/libarchive_glue.h"

namespace plugctl::archive {

// ---------------------------------------------------------------------------------------------
// CompressingWriter: libarchive's raw format writes one entry's data through its filters
// unchanged, which makes its compression filters usable on any byte stream.

struct CompressingWriter::Impl {
  Impl(Writer& sink, std::string stream_name) : client(sink), name(std::move(stream_name)) {}
  ~Impl() {
    if (a == nullptr) return;
    if (!finished) client.abandoned = true;
    archive_write_close(a);
    archive_write_free(a);
  }

  // The sink's error wins over libarchive's generic one.
  Error Fail(std::string_view doing) {
    if (!failed_error) {
      failed_error = CallFailure(client.error, a, ErrorCode::kInternal, name, doing);
    }
    return *failed_error;
  }

  ArchiveWriteClient client;
  std::string name;
  struct archive* a = nullptr;
  std::optional<Error> failed_error;
  bool finished = false;
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
  PLUGCTL_RETURN_IF_ERROR(SetReproducibleCompression(a, compression, impl->name));
  if (archive_write_open(a, &impl->client, nullptr, &ArchiveWriteClient::Callback, nullptr) !=
      ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("open"));
  }
  struct archive_entry* e = archive_entry_new();
  if (e == nullptr) {
    return MakeError(ErrorCode::kInternal, "{}: out of memory", impl->name);
  }
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  int r = archive_write_header(a, e);
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
  Impl(Reader& source, std::string stream_name) : client(source), name(std::move(stream_name)) {}
  ~Impl() {
    if (a != nullptr) archive_read_free(a);
  }

  // Errors of the source win: they are what really happened (e.g. a digest mismatch).
  Error Fail(std::string_view doing) {
    if (!failed_error) {
      failed_error = CallFailure(client.error, a, ErrorCode::kDataLoss, name, doing);
    }
    return *failed_error;
  }

  ArchiveReadClient client;
  std::string name;
  struct archive* a = nullptr;
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
  PLUGCTL_RETURN_IF_ERROR(SupportInProcessFilters(impl->a, impl->name));
  archive_read_support_format_raw(impl->a);
  // Opening reads nothing yet for raw; the first Read() detects the compression.
  if (archive_read_open(impl->a, &impl->client, nullptr, &ArchiveReadClient::Callback, nullptr) !=
      ARCHIVE_OK) {
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
      std::string msg = LibarchiveError(impl.a);
      if (!impl.client.error && msg.find("Unrecognized") != std::string::npos) {
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
