// Fuzzes what `plugctl push`/`attach` parse from their arguments and files: ORAS's annotation
// file, "FILE[:MEDIATYPE]" and "KEY=VALUE". Beyond not crashing: errors say something (they may
// quote the input, newlines included: the CLI escapes what it prints); a parsed
// file argument has a non-empty path and a media type with a '/' and no ':' in its name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugctl/transfer/artifact.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckError(const plugctl::Error& e) { Check(!e.message().empty()); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plugctl::transfer;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto annotations = ParseAnnotationFile(text, "annotations.json");
  if (!annotations) CheckError(annotations.error());

  auto file = ParseArtifactFileArg(text, kDefaultFileMediaType);
  if (!file) {
    CheckError(file.error());
  } else {
    Check(!file->path.empty());
    std::string_view name =
        std::string_view(file->media_type).substr(0, file->media_type.find(';'));
    Check(name.find('/') != std::string_view::npos);
    Check(name.find(':') == std::string_view::npos);
  }

  auto kv = ParseAnnotationArg(text);
  if (!kv) {
    CheckError(kv.error());
  } else {
    Check(!kv->first.empty() && kv->first.find('=') == std::string::npos);
  }
  return 0;
}
