// Fuzzes the spec.yaml reader (YAML → JSON with lines, the spec checks, the OpenAPI schema
// compiler) with arbitrary bytes. Beyond not crashing or hanging: a spec that parses reports
// every finding with its file, a spec without errors parses, --strict only changes severities,
// and the compiled schemas can validate arbitrary values (here: the spec document itself).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "plugctl/spec/spec.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plugctl::spec;
  using plugctl::Finding;
  using plugctl::Severity;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<Finding> findings = ValidateSpecYaml(text, "spec.yaml");
  for (const Finding& f : findings) {
    Check(f.file == "spec.yaml");
    Check(!f.message.empty());
    Check(f.line >= 0);
    Check(!f.ToString().empty());
  }

  plugctl::Result<ParsedSpec> parsed = ParseSpecYaml(text, "spec.yaml");
  if (!parsed) {
    // Unreadable input is exactly one error finding.
    Check(findings.size() == 1 && findings[0].severity == Severity::kError);
    Check(!parsed.error().message().empty());
    return 0;
  }
  Check(parsed->findings == findings);

  std::vector<Finding> strict = ValidateSpecYaml(text, "spec.yaml", {.strict = true});
  Check(strict.size() == findings.size());
  for (size_t i = 0; i < strict.size(); ++i) {
    Check(strict[i].path == findings[i].path && strict[i].line == findings[i].line);
    Severity expected =
        findings[i].severity == Severity::kWarning ? Severity::kError : findings[i].severity;
    Check(strict[i].severity == expected);
  }

  for (bool rule_level : {false, true}) {
    if (const Schema* schema = parsed->spec.SchemaFor(rule_level)) {
      for (const Violation& v :
           schema->Validate(parsed->document.value, {.rule_level = rule_level})) {
        Check(!v.message.empty());
        Check(v.pointer.empty() == v.path.empty());
      }
    }
  }
  return 0;
}
