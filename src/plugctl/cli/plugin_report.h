// plugctl/cli/plugin_report.h — how findings, wasm modules and gateway
// verdicts are shown, shared by inspect, validate, pull and build.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/plugin/finding.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/plugin/wasm_module.h"

namespace plugctl::cli {

nlohmann::ordered_json FindingsJson(const std::vector<plugin::Finding>& findings);
// One line per finding on `out` (stdout by default), errors first.
void PrintFindings(const std::vector<plugin::Finding>& findings, std::ostream& out = std::cout);
// "2 errors, 1 warning"
std::string CountFindings(const std::vector<plugin::Finding>& findings);

nlohmann::ordered_json WasmJson(const plugin::WasmModuleInfo& module);
// A few indented lines: ABI, imports/exports, WASI, memory, custom sections.
void PrintWasm(const plugin::WasmModuleInfo& module, bool verbose);

nlohmann::ordered_json GatewayJson(const plugin::LoadabilityReport& report);
// `with_findings`: also list the report's findings (callers that print a
// merged list of findings pass false).
void PrintGateway(const plugin::LoadabilityReport& report, bool with_findings = true);

}  // namespace plugctl::cli
