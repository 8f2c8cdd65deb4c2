// plugctl/archive/compress.h — gzip/zstd as plain byte streams (libarchive's "raw" format), for
// content that needs the bytes between a tar and its compression: ORAS's directory layers carry
// the digest of the uncompressed tar (io.deis.oras.content.digest).
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto gz, archive::CompressingWriter::Create(file,
//   Compression::kGzip)); PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Create(*gz));  //
//   uncompressed tar
//   ... tar->AddFile(...); tar->Finish(); gz->Finish();
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto plain, archive::DecompressingReader::Open(blob, "layer"));
//   // plain yields the decompressed bytes (uncompressed input passes through unchanged)
//
// Not thread-safe; one stream per object.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "plugctl/archive/tar.h"
#include "plugctl/base/io.h"
#include "plugctl/base/status.h"

namespace plugctl::archive {

// Compresses what is written to it into `out`. Deterministic: gzip without timestamp or file
// name, no padding after the stream. The output is complete only after Finish(); after any
// error every call fails.
class CompressingWriter : public Writer {
 public:
  // `out` must outlive the writer. kUnimplemented if libarchive lacks the compression in-process.
  [[nodiscard]] static Result<std::unique_ptr<CompressingWriter>> Create(
      Writer& out, Compression compression, std::string name = "compressed stream");
  ~CompressingWriter() override;
  CompressingWriter(const CompressingWriter&) = delete;
  CompressingWriter& operator=(const CompressingWriter&) = delete;

  Status Write(std::string_view data) override;
  // Flushes the compressor and writes the stream's trailer.
  [[nodiscard]] Status Finish();

 private:
  struct Impl;
  explicit CompressingWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Decompresses a gzip or zstd stream read from `in` (detected from its first bytes; anything
// else is handed out unchanged). Errors: kDataLoss for corrupt or truncated compressed input,
// errors of `in` as they are; after an error every call fails. The caller bounds how much it
// reads (decompression multiplies sizes).
class DecompressingReader : public Reader {
 public:
  // `in` must outlive the reader. `name` labels errors.
  [[nodiscard]] static Result<std::unique_ptr<DecompressingReader>> Open(Reader& in,
                                                                         std::string name);
  ~DecompressingReader() override;
  DecompressingReader(const DecompressingReader&) = delete;
  DecompressingReader& operator=(const DecompressingReader&) = delete;

  Result<size_t> Read(std::span<char> out) override;

 private:
  struct Impl;
  explicit DecompressingReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugctl::archive
