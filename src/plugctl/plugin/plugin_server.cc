#include "plugctl/plugin/plugin_server.h"

#include <array>
#include <chrono>
#include <ctime>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/store/content.h"
#include "plugctl/wasm/wasm_module.h"

namespace plugctl::plugin {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxConfigBytes = 4 << 20;

bool Digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// The value of the first "Key: value" line of a metadata.txt, or "".
std::string MetadataField(std::string_view text, std::string_view key) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.size() > key.size() + 1 && line.starts_with(key) && line[key.size()] == ':') {
      std::string_view value = line.substr(key.size() + 1);
      while (value.starts_with(' ')) value.remove_prefix(1);
      return std::string(value);
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return "";
}

}  // namespace

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !Digits(text, 0, 4, year) || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !Digits(text, 11, 2, hour) ||
      text[13] != ':' || !Digits(text, 14, 2, minute) || text[16] != ':' ||
      !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !Digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  if (tm.tm_mday != day) return std::nullopt;  // 31 February and the like
  return static_cast<int64_t>(t) - offset;
}

std::string FormatMetadataTxt(std::string_view name, const PluginFileInfo& info) {
  auto time = [](int64_t seconds) {
    auto text = FormatCreatedTime(seconds);
    return text ? *text : std::string("1970-01-01T00:00:00Z");
  };
  return fmt::format(
      "Plugin Name: {}\nSize: {} bytes\nLast Modified: {}\nCreated: {}\nMD5: {}\nSHA256: {}\n",
      name, info.size, time(info.modified), time(info.created), info.md5, info.sha256.hex());
}

std::optional<oci::Digest> MetadataSha256(std::string_view text) {
  std::string hex = MetadataField(text, "SHA256");
  if (hex.empty()) return std::nullopt;
  auto digest = oci::Digest::Parse("sha256:" + hex);
  if (!digest) return std::nullopt;
  return *digest;
}

Result<std::string> FileMd5Hex(const fs::path& file) {
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, OpenFileReader(file));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  std::array<char, 64 * 1024> buffer{};
  while (true) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader->Read(buffer));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buffer.data(), n);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

Result<std::optional<int64_t>> ImageCreatedTime(store::Target& target,
                                                const oci::Descriptor& manifest) {
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest m, store::FetchManifest(target, manifest));
  if (auto it = m.annotations.find(std::string(oci::kAnnotationCreated));
      it != m.annotations.end()) {
    if (auto t = ParseRfc3339(it->second)) return std::optional<int64_t>(*t);
  }
  if (!m.config) return std::optional<int64_t>();
  PLUGCTL_ASSIGN_OR_RETURN(std::string config,
                           store::FetchBlob(target, *m.config, kMaxConfigBytes));
  nlohmann::json j = nlohmann::json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto created = j.find("created");
    if (created != j.end() && created->is_string()) {
      if (auto t = ParseRfc3339(created->get<std::string>())) return std::optional<int64_t>(*t);
    }
  }
  return std::optional<int64_t>();
}

namespace {

constexpr size_t kMaxMetadataBytes = 64 * 1024;
constexpr std::string_view kStagingPrefix = ".plugctl-staging";

}  // namespace

// The gateway fetches an http:// plugin and instantiates it; only the module matters here, not
// the image's shape (an uncompressed or docker layer is fine: HTTP serves the file itself).
Status CheckServableWasm(const fs::path& file, uint64_t max_bytes) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string bytes, ReadFileBounded(file, max_bytes));
  auto module = wasm::ParseWasmModule(bytes);
  if (!module) {
    return MakeError(ErrorCode::kFailedPrecondition, "plugin.wasm is not a valid wasm module: {}",
                     module.error().message());
  }
  std::vector<std::string> errors;
  for (const Finding& finding : wasm::CheckProxyWasm(*module, "plugin.wasm")) {
    if (finding.severity == Severity::kError) errors.push_back(finding.message);
  }
  if (!errors.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "plugin.wasm would not load in the gateway: {}", fmt::join(errors, "; "));
  }
  return OkStatus();
}

namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<PluginServerWriteResult> WriteVersion(store::Target& target, const oci::Descriptor& root,
                                             const fs::path& tree, std::string_view name,
                                             std::string_view version,
                                             const PluginServerWriteOptions& options) {
  PluginServerWriteResult result;
  result.dir = tree / std::string(name) / std::string(version);
  const fs::path wasm_path = result.dir / "plugin.wasm";
  const fs::path metadata_path = result.dir / "metadata.txt";

  // Staged in <tree> itself so that the rename into place stays on one file system, and a
  // refused image leaves no empty <name>/ behind (the version's directories are made only once
  // its files are good); a dry run stages in the temp root instead and leaves the tree alone.
  const fs::path staging_parent = options.dry_run ? fs::path() : tree;
  if (!options.dry_run) PLUGCTL_RETURN_IF_ERROR(CreateDirectories(staging_parent));
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<TempDir> staging,
                           TempDir::Create(kStagingPrefix, staging_parent));
  ExtractOptions extract = options.extract;
  extract.force = false;
  PLUGCTL_ASSIGN_OR_RETURN(result.extracted, ExtractPlugin(target, root, staging->path(), extract));
  const fs::path staged_wasm = staging->path() / "plugin.wasm";
  PLUGCTL_RETURN_IF_ERROR(CheckServableWasm(staged_wasm, extract.max_wasm_bytes));
  result.info.size = result.extracted.wasm_size;
  result.info.sha256 = result.extracted.wasm_sha256;

  std::string previous;
  if (auto read = ReadFileBounded(metadata_path, kMaxMetadataBytes)) previous = std::move(*read);
  auto previous_sha256 = MetadataSha256(previous);
  auto existing_size = FileSize(wasm_path);
  if (previous_sha256 && *previous_sha256 == result.info.sha256 && existing_size &&
      *existing_size == result.info.size) {
    result.unchanged = true;
    result.info.md5 = MetadataField(previous, "MD5");
    result.info.created = ParseRfc3339(MetadataField(previous, "Created")).value_or(0);
    result.info.modified = ParseRfc3339(MetadataField(previous, "Last Modified")).value_or(0);
    return result;
  }
  PLUGCTL_ASSIGN_OR_RETURN(result.info.md5, FileMd5Hex(staged_wasm));
  result.info.modified = UnixNow();
  // Created is the image's time; without one, the time this version first appeared, which a
  // rewrite keeps (the version is the same release, only its bytes were refreshed).
  PLUGCTL_ASSIGN_OR_RETURN(std::optional<int64_t> created,
                           ImageCreatedTime(target, result.extracted.manifest));
  // 1970-01-01T00:00:00Z is what reproducible builds write (SOURCE_DATE_EPOCH unset): no time.
  if (created == 0) created.reset();
  if (!created) created = ParseRfc3339(MetadataField(previous, "Created"));
  result.info.created = created.value_or(result.info.modified);
  if (options.dry_run) return result;

  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(result.dir));
  std::error_code ec;
  fs::rename(staged_wasm, wasm_path, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "rename {} to {}: {}", staged_wasm.string(),
                     wasm_path.string(), ec.message());
  }
  PLUGCTL_RETURN_IF_ERROR(WriteFileAtomic(metadata_path, FormatMetadataTxt(name, result.info)));
  return result;
}

}  // namespace

Result<PluginServerWriteResult> WritePluginServerVersion(
    store::Target& target, const oci::Descriptor& root, const fs::path& tree, std::string_view name,
    std::string_view version, const PluginServerWriteOptions& options) {
  if (!oci::IsPluginPathSegment(name) || !oci::IsPluginPathSegment(version)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "plugin-server path \"{}/{}\": name and version must be 1-{} of "
                     "[A-Za-z0-9._+-], not starting with '.'",
                     name.substr(0, 256), version.substr(0, 256), oci::kMaxPluginPathSegment);
  }
  auto written = WriteVersion(target, root, tree, name, version, options);
  if (!written) {
    return tl::unexpected(written.error().WithContext(
        fmt::format("{}@{} as {}/{}", target.Describe(), root.digest.ToString(), name, version)));
  }
  return written;
}

}  // namespace plugctl::plugin
