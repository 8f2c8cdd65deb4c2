#include "plugctl/plugin/builder.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <system_error>

#include <nlohmann/json.hpp>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/plugin/plugin_server.h"
#include "plugctl/spec/spec.h"

namespace plugctl::plugin {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr std::string_view kWasmFile = "plugin.wasm";
constexpr std::string_view kSpecFile = "spec.yaml";
constexpr std::string_view kReadmeFile = "README.md";
constexpr std::string_view kIconFile = "icon.png";
constexpr std::string_view kPluginTarGz = "plugin.tar.gz";
constexpr std::string_view kPngMagic = "\x89PNG\r\n\x1a\n";

// A Reader over bytes owned by someone else: the module is tarred without a copy.
class ViewReader : public Reader {
 public:
  explicit ViewReader(std::string_view data) : data_(data) {}
  Result<size_t> Read(std::span<char> out) override {
    size_t n = std::min(out.size(), data_.size() - pos_);
    std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Hashes what is written and drops it: the docker diff_id without keeping the plain tar.
class HashingWriter : public Writer {
 public:
  Status Write(std::string_view data) override {
    hasher_.Update(data);
    return OkStatus();
  }
  oci::Digest Finish() { return hasher_.Finish(); }

 private:
  oci::Hasher hasher_;
};

// The deterministic tar holding plugin.wasm, written to `out`.
Status WritePluginTar(std::string_view wasm, archive::Compression compression, Writer& out) {
  PLUGCTL_ASSIGN_OR_RETURN(
      auto tar,
      archive::TarWriter::Create(out, {.compression = compression, .mtime = 0}, "plugin.tar"));
  ViewReader content(wasm);
  PLUGCTL_RETURN_IF_ERROR(tar->AddFile(kWasmFile, wasm.size(), content));
  return tar->Finish();
}

std::string FindingList(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    if (f.severity != Severity::kError) continue;
    out += out.empty() ? "" : "; ";
    out += f.ToString();
  }
  return out;
}

// Whether `path` is a regular file: false when absent, an error when unreadable or not a file.
Result<bool> RegularFileExists(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return MakeError(ErrorCode::kInternal, "stat {}: {}", path.string(), ec.message());
  }
  if (!fs::exists(st)) return false;
  if (!fs::is_regular_file(st)) {
    return MakeError(ErrorCode::kInvalidArgument, "{} is not a regular file", path.string());
  }
  return true;
}

Result<std::optional<std::string>> ReadOptional(const fs::path& path, size_t max_bytes) {
  PLUGCTL_ASSIGN_OR_RETURN(bool exists, RegularFileExists(path));
  if (!exists) return std::optional<std::string>();
  PLUGCTL_ASSIGN_OR_RETURN(std::string bytes, ReadFileBounded(path, max_bytes));
  return std::optional<std::string>(std::move(bytes));
}

// {lang} of README_{lang}.md: letters, digits, '-', '_'.
bool ValidLang(std::string_view lang) {
  return !lang.empty() && lang.size() <= 35 && std::all_of(lang.begin(), lang.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The README_{lang}.md files of `dir`, sorted by name.
Result<std::vector<std::string>> TranslatedReadmes(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("README_") || !name.ends_with(".md")) continue;
    std::string_view lang = std::string_view(name).substr(7, name.size() - 7 - 3);
    if (!ValidLang(lang)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: \"{}\" is not a language (README_{{lang}}.md with letters, digits, "
                       "'-' or '_', e.g. README_EN.md)",
                       (dir / name).string(), lang);
    }
    names.push_back(std::move(name));
  }
  if (ec) {
    return MakeError(ErrorCode::kInternal, "read directory {}: {}", dir.string(), ec.message());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct SourceFile {
  std::string name;
  std::string media_type;
  std::string bytes;
};

// The plugin's metadata as OCI annotation keys (docker: labels).
std::map<std::string, std::string> MetadataAnnotations(const BuiltImage& image,
                                                       const std::string& description,
                                                       const std::string& created) {
  std::map<std::string, std::string> out;
  out[std::string(oci::kAnnotationCreated)] = created;
  if (!image.title.empty()) out[std::string(oci::kAnnotationTitle)] = image.title;
  if (!image.version.empty()) out[std::string(oci::kAnnotationVersion)] = image.version;
  if (!description.empty()) out[std::string(oci::kAnnotationDescription)] = description;
  if (!image.name.empty()) out[std::string(kAnnotationPluginName)] = image.name;
  return out;
}

oci::Descriptor Titled(oci::Descriptor desc, std::string_view title) {
  desc.annotations[std::string(oci::kAnnotationTitle)] = std::string(title);
  return desc;
}

}  // namespace

std::string_view BuildVariantName(BuildVariant variant) {
  switch (variant) {
    case BuildVariant::kCompat:
      return "compat";
    case BuildVariant::kOci:
      return "oci";
    case BuildVariant::kDocker:
      return "docker";
  }
  return "compat";
}

Result<BuildVariant> ParseBuildVariant(std::string_view text) {
  for (BuildVariant v : {BuildVariant::kCompat, BuildVariant::kOci, BuildVariant::kDocker}) {
    if (text == BuildVariantName(v)) return v;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown image variant \"{}\" (compat, oci or docker)", text.substr(0, 64));
}

bool IsRfc3339Time(std::string_view text) {
  // ParseRfc3339 also takes a space for the 'T' (RFC 3339 §5.6 allows it); Go's time.RFC3339,
  // which docker parses a config's "created" with, does not.
  return text.size() <= 64 && ParseRfc3339(text).has_value() && text[10] != ' ';
}

Result<std::string> FormatCreatedTime(int64_t seconds) {
  constexpr int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds < 0 || seconds > kMax) {
    return MakeError(ErrorCode::kInvalidArgument, "created time {} is outside 0 (1970) … {} (9999)",
                     seconds, kMax);
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "created time {} cannot be represented", seconds);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<BuiltImage> BuildPluginImage(const fs::path& dir, const BuildOptions& options,
                                    store::MemoryTarget& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kNotFound, "plugin directory {} does not exist", dir.string());
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string created, FormatCreatedTime(options.created));
  if (!options.metadata.created.empty()) {
    if (!IsRfc3339Time(options.metadata.created)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "created time \"{}\" is not an RFC 3339 date-time",
                       options.metadata.created.substr(0, 64));
    }
    created = options.metadata.created;
  }
  BuiltImage image;
  image.variant = options.variant;

  // 1. Read and check everything; nothing is stored before all checks passed.
  PLUGCTL_ASSIGN_OR_RETURN(bool have_wasm, RegularFileExists(dir / kWasmFile));
  if (!have_wasm) {
    return MakeError(ErrorCode::kNotFound, "{} is missing: build the module first",
                     (dir / kWasmFile).string());
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string wasm,
                           ReadFileBounded(dir / kWasmFile, wasm::kMaxWasmModuleBytes));
  {
    Result<wasm::WasmModuleInfo> module = wasm::ParseWasmModule(wasm);
    if (!module) return tl::unexpected(module.error().WithContext((dir / kWasmFile).string()));
    image.module = std::move(*module);
  }
  std::vector<Finding> wasm_findings = wasm::CheckProxyWasm(image.module, kWasmFile);
  if (HasErrors(wasm_findings)) {
    return MakeError(ErrorCode::kInvalidArgument, "{} is not a proxy-wasm plugin: {}",
                     (dir / kWasmFile).string(), FindingList(wasm_findings));
  }
  image.wasm_sha256 = oci::Digest::Of(wasm);
  image.wasm_size = wasm.size();

  std::string description;
  PLUGCTL_ASSIGN_OR_RETURN(std::optional<std::string> spec_yaml,
                           ReadOptional(dir / kSpecFile, spec::kSpecYamlLimits.max_bytes));
  if (spec_yaml) {
    Result<spec::ParsedSpec> parsed =
        spec::ParseSpecYaml(*spec_yaml, kSpecFile, {.strict = options.strict});
    if (!parsed) return tl::unexpected(parsed.error().WithContext((dir / kSpecFile).string()));
    if (HasErrors(parsed->findings)) {
      return MakeError(ErrorCode::kInvalidArgument, "{} is not valid: {}",
                       (dir / kSpecFile).string(), FindingList(parsed->findings));
    }
    image.name = parsed->spec.info.name;
    image.version = parsed->spec.info.version;
    image.title = parsed->spec.info.title;
    description = parsed->spec.info.description;
    image.findings = std::move(parsed->findings);
  } else if (!options.allow_missing) {
    return MakeError(ErrorCode::kNotFound,
                     "{} is missing: the image spec requires it (--allow-missing to build anyway)",
                     (dir / kSpecFile).string());
  }
  image.findings.insert(image.findings.end(), wasm_findings.begin(), wasm_findings.end());
  const ImageMetadata& given = options.metadata;
  if (!given.name.empty()) image.name = given.name;
  if (!given.title.empty()) image.title = given.title;
  if (!given.version.empty()) image.version = given.version;
  if (!given.description.empty()) description = given.description;

  std::vector<SourceFile> docs;  // compat only: every layer but the last, in order
  if (options.variant == BuildVariant::kCompat) {
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> translated, TranslatedReadmes(dir));
    for (const std::string& name : translated) {
      std::string lang = Lower(std::string_view(name).substr(7, name.size() - 10));
      PLUGCTL_ASSIGN_OR_RETURN(std::string bytes, ReadFileBounded(dir / name, kMaxPluginDocBytes));
      docs.push_back({name,
                      fmt::format("{}{}{}", oci::kWasmDocLangPrefix, lang, oci::kWasmDocLangSuffix),
                      std::move(bytes)});
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::optional<std::string> readme,
                             ReadOptional(dir / kReadmeFile, kMaxPluginDocBytes));
    if (readme) {
      docs.push_back({std::string(kReadmeFile), std::string(oci::kWasmDoc), std::move(*readme)});
    } else if (!options.allow_missing) {
      return MakeError(
          ErrorCode::kNotFound,
          "{} is missing: the image spec requires it (--allow-missing to build anyway)",
          (dir / kReadmeFile).string());
    }
    if (spec_yaml) {
      docs.push_back({std::string(kSpecFile), std::string(oci::kWasmSpec), std::move(*spec_yaml)});
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::optional<std::string> icon,
                             ReadOptional(dir / kIconFile, kMaxPluginDocBytes));
    if (icon) {
      if (!icon->starts_with(kPngMagic)) {
        return MakeError(ErrorCode::kInvalidArgument, "{} is not a PNG image",
                         (dir / kIconFile).string());
      }
      docs.push_back({std::string(kIconFile), std::string(oci::kWasmIcon), std::move(*icon)});
    }
  }

  // 2. Store the blobs and the manifest.
  oci::ImageManifestSpec manifest;
  switch (options.variant) {
    case BuildVariant::kCompat: {
      manifest.media_type = std::string(oci::kOciManifest);
      manifest.config = out.Put(oci::kUnknownConfig, "{}");
      for (SourceFile& doc : docs) {
        oci::Descriptor layer = Titled(out.Put(doc.media_type, std::move(doc.bytes)), doc.name);
        manifest.layers.push_back(layer);
        image.files.push_back({doc.name, layer});
      }
      StringWriter tgz;
      PLUGCTL_RETURN_IF_ERROR(WritePluginTar(wasm, archive::Compression::kGzip, tgz));
      oci::Descriptor layer = Titled(out.Put(oci::kOciLayerTarGzip, tgz.Take()), kPluginTarGz);
      manifest.layers.push_back(layer);
      image.files.push_back({std::string(kWasmFile), layer});
      manifest.annotations = MetadataAnnotations(image, description, created);
      break;
    }
    case BuildVariant::kOci: {
      ordered_json config;
      config["type"] = "envoy_proxy";
      config["abiVersions"] = image.module.proxy_abi_versions;
      manifest.media_type = std::string(oci::kOciManifest);
      manifest.config = out.Put(
          oci::kWasmConfig, config.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
      manifest.layers.push_back(manifest.config);
      oci::Descriptor layer = Titled(out.Put(oci::kWasmContentLayer, std::move(wasm)), kWasmFile);
      manifest.layers.push_back(layer);
      image.files.push_back({std::string(kWasmFile), layer});
      manifest.annotations = MetadataAnnotations(image, description, created);
      break;
    }
    case BuildVariant::kDocker: {
      HashingWriter plain;
      PLUGCTL_RETURN_IF_ERROR(WritePluginTar(wasm, archive::Compression::kNone, plain));
      StringWriter tgz;
      PLUGCTL_RETURN_IF_ERROR(WritePluginTar(wasm, archive::Compression::kGzip, tgz));
      ordered_json labels = ordered_json::object();
      for (const auto& [key, value] : MetadataAnnotations(image, description, created)) {
        if (key != oci::kAnnotationCreated) labels[key] = value;
      }
      // Keys in the order of the Go structs (image-spec v1.Image) that skopeo and docker
      // re-serialize a config with when they convert the manifest: the config, and so the image
      // ID, stays the same through such conversions.
      ordered_json config;
      config["created"] = created;
      config["architecture"] = "amd64";
      config["os"] = "linux";
      config["config"] = {{"Labels", labels}};
      config["rootfs"] = {{"type", "layers"}, {"diff_ids", {plain.Finish().ToString()}}};
      config["history"] = {
          {{"created", created}, {"created_by", "plugctl build: COPY plugin.wasm /"}}};
      manifest.media_type = std::string(oci::kDockerManifest);
      manifest.config = out.Put(
          oci::kDockerConfig, config.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
      oci::Descriptor layer = out.Put(oci::kDockerLayerTarGzip, tgz.Take());
      manifest.layers.push_back(layer);
      image.files.push_back({std::string(kWasmFile), layer});
      break;
    }
  }
  image.config = manifest.config;
  image.manifest_raw = oci::BuildImageManifest(manifest);
  image.manifest = out.Put(manifest.media_type, image.manifest_raw);
  return image;
}

}  // namespace plugctl::plugin
