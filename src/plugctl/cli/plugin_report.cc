#include "plugctl/cli/plugin_report.h"

#include <algorithm>
#include <iostream>

#include "plugctl/cli/output.h"

namespace plugctl::cli {
namespace {

int Rank(Severity s) { return s == Severity::kError ? 0 : s == Severity::kWarning ? 1 : 2; }

std::string Limits(const wasm::MemoryLimits& limits) {
  std::string out =
      fmt::format("{}..{} pages", limits.min_pages,
                  limits.max_pages ? std::to_string(*limits.max_pages) : std::string("no maximum"));
  if (limits.shared) out += ", shared";
  return out;
}

}  // namespace

nlohmann::ordered_json FindingsJson(const std::vector<Finding>& findings) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    nlohmann::ordered_json j;
    j["severity"] = SeverityName(f.severity);
    if (!f.file.empty()) j["file"] = f.file;
    if (f.line > 0) j["line"] = f.line;
    if (!f.path.empty()) j["path"] = f.path;
    j["message"] = f.message;
    out.push_back(std::move(j));
  }
  return out;
}

void PrintFindings(const std::vector<Finding>& findings, std::ostream& out) {
  std::vector<const Finding*> sorted;
  for (const auto& f : findings) sorted.push_back(&f);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return Rank(a->severity) < Rank(b->severity);
  });
  for (const auto* f : sorted) Print(out, "  {}\n", f->ToString());
}

std::string CountFindings(const std::vector<Finding>& findings) {
  size_t errors = 0, warnings = 0;
  for (const auto& f : findings) {
    errors += f.severity == Severity::kError;
    warnings += f.severity == Severity::kWarning;
  }
  return fmt::format("{}, {}", Count(errors, "error"), Count(warnings, "warning"));
}

nlohmann::ordered_json WasmJson(const wasm::WasmModuleInfo& m) {
  nlohmann::ordered_json j;
  j["version"] = m.version;
  j["proxyAbiVersions"] = m.proxy_abi_versions;
  j["usesWasi"] = m.uses_wasi;
  j["wasiImports"] = m.wasi_imports;
  j["functions"] = {{"imported", m.imported_function_count}, {"defined", m.defined_function_count}};
  nlohmann::ordered_json imports = nlohmann::ordered_json::array();
  for (const auto& i : m.imports) {
    imports.push_back(
        {{"module", i.module}, {"name", i.name}, {"kind", wasm::ExternalKindName(i.kind)}});
  }
  j["imports"] = imports;
  nlohmann::ordered_json exports = nlohmann::ordered_json::array();
  for (const auto& e : m.exports) {
    exports.push_back({{"name", e.name}, {"kind", wasm::ExternalKindName(e.kind)}});
  }
  j["exports"] = exports;
  nlohmann::ordered_json memories = nlohmann::ordered_json::array();
  for (const auto& mem : m.memories) {
    nlohmann::ordered_json mj = {{"minPages", mem.limits.min_pages}, {"shared", mem.limits.shared}};
    if (mem.limits.max_pages) mj["maxPages"] = *mem.limits.max_pages;
    if (mem.import) mj["import"] = *mem.import;
    memories.push_back(mj);
  }
  j["memories"] = memories;
  j["customSections"] = m.custom_section_names;
  return j;
}

void PrintWasm(const wasm::WasmModuleInfo& m, bool verbose) {
  Print(std::cout, "  proxy-wasm ABI: {}\n",
        m.proxy_abi_versions.empty() ? std::string("none exported")
                                     : fmt::format("{}", fmt::join(m.proxy_abi_versions, ", ")));
  Print(std::cout, "  functions:      {} imported, {} defined; {} exports\n",
        m.imported_function_count, m.defined_function_count, m.exports.size());
  if (m.uses_wasi) {
    Print(std::cout, "  WASI imports:   {}\n", EscapeJoin(m.wasi_imports));
  }
  for (const auto& mem : m.memories) {
    Print(std::cout, "  memory:         {}{}\n", Limits(mem.limits),
          mem.import ? " (imported from " + *mem.import + ")" : "");
  }
  if (!m.custom_section_names.empty()) {
    Print(std::cout, "  custom:         {}\n", EscapeJoin(m.custom_section_names));
  }
  if (verbose) {
    for (const auto& i : m.imports) {
      Print(std::cout, "  import  {:<8} {}.{}\n", wasm::ExternalKindName(i.kind), i.module, i.name);
    }
    for (const auto& e : m.exports) {
      Print(std::cout, "  export  {:<8} {}\n", wasm::ExternalKindName(e.kind), e.name);
    }
  }
}

nlohmann::ordered_json GatewayJson(const plugin::LoadabilityReport& r) {
  nlohmann::ordered_json j;
  j["loadable"] = r.loadable;
  j["path"] = plugin::LoadPathName(r.path);
  if (r.manifest) {
    j["digest"] = r.manifest->digest.ToString();
    // Bare hex, as a WasmPlugin's spec.sha256 for an oci:// url wants it.
    j["sha256"] = r.manifest->digest.hex();
  }
  if (r.platform) j["platform"] = r.platform->ToString();
  if (r.layer) j["layer"] = r.layer->digest.ToString();
  if (!r.wasm_entry.empty()) j["wasmEntry"] = r.wasm_entry;
  if (r.wasm_sha256) {
    j["wasmSha256"] = r.wasm_sha256->ToString();
    j["wasmSize"] = r.wasm_size;
  }
  if (r.not_a_plugin) j["notAPlugin"] = true;
  j["reasons"] = r.reasons;
  j["findings"] = FindingsJson(r.findings);
  return j;
}

void PrintGateway(const plugin::LoadabilityReport& r, bool with_findings) {
  if (r.loadable) {
    Print(std::cout, "Gateway:     loads it ({} path{})\n", plugin::LoadPathName(r.path),
          r.platform ? ", platform " + r.platform->ToString() : "");
    if (r.manifest) {
      Print(std::cout, "  WasmPlugin sha256 for oci:// urls:    {}\n", r.manifest->digest.hex());
    }
    if (r.wasm_sha256) {
      Print(std::cout, "  WasmPlugin sha256 for http(s):// urls: {} ({})\n", r.wasm_sha256->hex(),
            HumanBytes(r.wasm_size));
    }
  } else {
    std::cout << "Gateway:     will NOT load it\n";
    for (const auto& reason : r.reasons) Print(std::cout, "  - {}\n", reason);
  }
  if (with_findings) {
    for (const auto& f : r.findings) Print(std::cout, "  {}\n", f.ToString());
  }
}

std::string GatewayVerdict(const plugin::LoadabilityReport& r, std::string_view hint,
                           std::string_view indent) {
  if (r.loadable) {
    return fmt::format("gateway: loads it ({}{})", plugin::LoadPathName(r.path),
                       r.platform ? ", platform " + EscapeForText(r.platform->ToString()) : "");
  }
  std::string out = fmt::format("gateway: will NOT load it: {}",
                                EscapeForText(fmt::format("{}", fmt::join(r.reasons, "; "))));
  if (!hint.empty()) out += fmt::format("\n{}fix: {}", indent, hint);
  return out;
}

nlohmann::ordered_json GatewayVerdictJson(const plugin::LoadabilityReport& r,
                                          std::string_view hint) {
  nlohmann::ordered_json j = GatewayJson(r);
  if (!hint.empty()) j["fix"] = hint;
  return j;
}

}  // namespace plugctl::cli
