// plugctl/wasmplugin/yaml_emit.h — writes JSON values as block-style YAML that every reader types
// the same way: what `plugctl wasmplugin` prints for kubectl.
//
// A string stays a string for YAML 1.1 readers (kubectl's sigs.k8s.io/yaml, SnakeYAML) and for
// YAML 1.2 core-schema readers alike: it is written plain only when no reader could take it for
// anything else (a null, a boolean — yes/no/on/off/y/n included —, a number, a timestamp, a
// sexagesimal "1:30", an indicator, a comment, a key separator), and double-quoted with escapes
// otherwise ("443", "true", "null", "1.0", " leading space", "a: b", "two\nlines"). Numbers,
// booleans and null are written as such; non-finite floats as .inf/-.inf/.nan. Keys are quoted by
// the same rule. Mappings keep the order of the value (nlohmann::ordered_json keeps insertion
// order); empty containers are written {} and [].
//
//   nlohmann::ordered_json j = {{"port", "443"}, {"enabled", true}};
//   EmitYaml(j) == "port: \"443\"\nenabled: true\n"
//
// Strings are expected to be UTF-8 (invalid bytes become U+FFFD); characters YAML does not
// allow unescaped (C0/C1 controls, DEL, U+FEFF, U+FFFE/U+FFFF) are escaped.
//
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace plugctl::wasmplugin {

// One YAML document (no "---" marker), ending with a newline. A scalar or empty container at the
// top level is written on one line.
std::string EmitYaml(const nlohmann::ordered_json& value);

// True if `text` can be written as a plain (unquoted) scalar without changing its type or value
// for YAML 1.1 and 1.2 readers.
bool IsSafePlainScalar(std::string_view text);

// `text` as a YAML double-quoted scalar, quotes included.
std::string QuoteYamlString(std::string_view text);

}  // namespace plugctl::wasmplugin
