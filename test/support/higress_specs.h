// support/higress_specs.h — the real spec.yaml files of the Higress console
// (../shared/data/higress-specs) and what plugctl is expected to say about them, kept once for
// the unit and integration tests.
//
//   std::map<std::string, std::string> specs = test_support::ReadHigressSpecs();
//   if (specs.empty()) GTEST_SKIP() << "no data at " << test_support::HigressSpecDir();
//
// Plain functions; thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "plugctl/base/finding.h"

namespace plugctl::test_support {

// ../shared/data/higress-specs beside the source tree; may not exist (tests then skip).
std::filesystem::path HigressSpecDir();

// File name → content of every *.yaml in HigressSpecDir(); empty if the directory is missing.
std::map<std::string, std::string> ReadHigressSpecs();

// A known quirk of a real spec: a finding ValidateSpecYaml must report.
struct HigressSpecQuirk {
  std::string file;
  Severity severity;
  std::string path;
  std::string message_part;
  int line;  // 0: not checked
};
const std::vector<HigressSpecQuirk>& HigressSpecQuirks();

// "<file> configSchema|routeConfigSchema" → paths (relative to the example) of the top-level
// `example`s that contradict their own schema. ../shared/docs/field-notes.md §3 says "about 24
// of 95"; with GLOBAL-scoped properties not required at rule level it is exactly these 23.
const std::map<std::string, std::set<std::string>>& HigressContradictingExamples();

}  // namespace plugctl::test_support
