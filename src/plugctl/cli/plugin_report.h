// plugctl/cli/plugin_report.h — how findings, wasm modules and gateway
// verdicts are shown, shared by inspect, validate, pull and build.
#pragma once

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/wasm/wasm_module.h"

namespace plugctl::cli {

nlohmann::ordered_json FindingsJson(const std::vector<Finding>& findings);
// One line per finding on `out` (stdout by default), errors first.
void PrintFindings(const std::vector<Finding>& findings, std::ostream& out = std::cout);
// "2 errors, 1 warning"
std::string CountFindings(const std::vector<Finding>& findings);

nlohmann::ordered_json WasmJson(const wasm::WasmModuleInfo& module);
// A few indented lines: ABI, imports/exports, WASI, memory, custom sections.
void PrintWasm(const wasm::WasmModuleInfo& module, bool verbose);

nlohmann::ordered_json GatewayJson(const plugin::LoadabilityReport& report);
// `with_findings`: also list the report's findings (callers that print a
// merged list of findings pass false).
void PrintGateway(const plugin::LoadabilityReport& report, bool with_findings = true);

// The verdict copy and mirror print for each image they write, already escaped: "gateway: loads
// it (oci-compat)", or "gateway: will NOT load it: REASONS" and, when `hint` is set,
// "\n<indent>fix: HINT" (transfer::RebuildHint).
std::string GatewayVerdict(const plugin::LoadabilityReport& report, std::string_view hint,
                           std::string_view indent);
// GatewayJson plus "fix": hint when there is one.
nlohmann::ordered_json GatewayVerdictJson(const plugin::LoadabilityReport& report,
                                          std::string_view hint);

}  // namespace plugctl::cli
