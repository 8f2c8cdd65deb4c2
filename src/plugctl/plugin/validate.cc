#include "plugctl/plugin/validate.h"

#include <algorithm>

#include "plugctl/base/file.h"
#include "plugctl/plugin/extract.h"

namespace plugctl::plugin {
namespace {

constexpr std::string_view kPngMagic = "\x89PNG\r\n\x1a\n";
constexpr size_t kMaxDocBytes = 16 * 1024 * 1024;

Finding Make(Severity severity, std::string file, std::string message) {
  return Finding{.severity = severity, .file = std::move(file), .message = std::move(message)};
}

}  // namespace

Result<spec::ParsedSpec> LoadSpec(const std::filesystem::path& dir) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string text,
                           ReadFileBounded(dir / "spec.yaml", spec::kSpecYamlLimits.max_bytes));
  return spec::ParseSpecYaml(text, "spec.yaml");
}

Result<std::string> SpecNameOfImage(store::Target& target, const oci::Descriptor& root) {
  PLUGCTL_ASSIGN_OR_RETURN(auto temp, TempDir::Create("plugctl-spec-name"));
  const std::filesystem::path dir = temp->path() / "plugin";
  ExtractOptions options;
  options.check_gateway = false;
  PLUGCTL_RETURN_IF_ERROR(ExtractPlugin(target, root, dir, options));
  auto parsed = LoadSpec(dir);
  if (!parsed) {
    if (parsed.error().code() == ErrorCode::kNotFound) return std::string();
    return tl::unexpected(parsed.error());
  }
  return spec::PluginBaseName(parsed->spec.info.name);
}

Result<DirectoryReport> ValidatePluginDirectory(const std::filesystem::path& dir,
                                                const DirectoryCheckOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kNotFound, "{} is not a directory", dir.string());
  }
  DirectoryReport report;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) return MakeError(ErrorCode::kInternal, "list {}: {}", dir.string(), ec.message());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (IsPluginFileName(name)) {
      report.files.push_back(name);
    } else if (!name.starts_with(".")) {
      report.findings.push_back(
          Make(Severity::kInfo, name, "not a plugin file; it will not be part of the image"));
    }
  }
  auto has = [&](std::string_view name) {
    return std::find(report.files.begin(), report.files.end(), name) != report.files.end();
  };

  // spec.yaml
  if (!has("spec.yaml")) {
    report.findings.push_back(Make(options.missing_docs, "spec.yaml",
                                   "missing: the Higress image spec requires the plugin metadata"));
  } else {
    PLUGCTL_ASSIGN_OR_RETURN(std::string text,
                             ReadFileBounded(dir / "spec.yaml", spec::kSpecYamlLimits.max_bytes));
    std::vector<Finding> spec_findings = spec::ValidateSpecYaml(text, "spec.yaml");
    report.findings.insert(report.findings.end(), spec_findings.begin(), spec_findings.end());
    if (auto parsed = spec::ParseSpecYaml(text, "spec.yaml")) report.spec = std::move(*parsed);
  }

  // README.md and translations
  if (!has("README.md")) {
    report.findings.push_back(Make(options.missing_docs, "README.md",
                                   "missing: the Higress image spec requires a usage document"));
  }
  for (const std::string& name : report.files) {
    if (!name.starts_with("README")) continue;
    PLUGCTL_ASSIGN_OR_RETURN(uint64_t size, FileSize(dir / name));
    if (size == 0) report.findings.push_back(Make(Severity::kWarning, name, "is empty"));
    if (size > kMaxDocBytes) {
      report.findings.push_back(Make(Severity::kError, name, "larger than 16 MiB"));
    }
    if (name != "README.md" && name != "README_ZH.md" && name != "README_EN.md") {
      report.findings.push_back(Make(
          Severity::kWarning, name, "the image spec documents README_ZH.md and README_EN.md only"));
    }
  }

  // icon.png
  if (has("icon.png")) {
    PLUGCTL_ASSIGN_OR_RETURN(uint64_t size, FileSize(dir / "icon.png"));
    if (size > kMaxDocBytes) {
      report.findings.push_back(Make(Severity::kError, "icon.png", "larger than 16 MiB"));
    } else {
      PLUGCTL_ASSIGN_OR_RETURN(std::string icon, ReadFileBounded(dir / "icon.png", kMaxDocBytes));
      if (!icon.starts_with(kPngMagic)) {
        report.findings.push_back(Make(Severity::kError, "icon.png", "not a PNG file"));
      }
    }
  }

  // plugin.wasm
  if (!has("plugin.wasm")) {
    report.findings.push_back(Make(Severity::kError, "plugin.wasm", "missing"));
  } else {
    auto bytes = ReadFileBounded(dir / "plugin.wasm", wasm::kMaxWasmModuleBytes);
    if (!bytes) {
      report.findings.push_back(Make(Severity::kError, "plugin.wasm", bytes.error().message()));
    } else {
      report.wasm_sha256 = oci::Digest::Of(*bytes);
      report.wasm_size = bytes->size();
      auto module = wasm::ParseWasmModule(*bytes);
      if (!module) {
        report.findings.push_back(Make(Severity::kError, "plugin.wasm", module.error().message()));
      } else {
        std::vector<Finding> wasm = wasm::CheckProxyWasm(*module, "plugin.wasm");
        report.findings.insert(report.findings.end(), wasm.begin(), wasm.end());
        report.module = std::move(*module);
      }
    }
  }
  if (options.strict) spec::MakeStrict(report.findings);
  return report;
}

}  // namespace plugctl::plugin
