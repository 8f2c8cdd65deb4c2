// support/sample_spec.h — a small, valid plugin spec.yaml for tests that need a plugin directory
// or image without caring about the spec's details.
//
//   Write(dir / "spec.yaml", test_support::kSampleSpecYaml);
//
// It has no findings; tests that look at what it holds rely on: info.name "add-header/v1",
// info.version "1.2.3", info.contact, and a configSchema with a required `header` and an example.
#pragma once

#include <string_view>

namespace plugctl::test_support {

inline constexpr std::string_view kSampleSpecYaml = R"(apiVersion: 1.0.0
info:
  category: custom
  name: add-header/v1
  title: Add Header
  description: Adds a response header.
  version: 1.2.3
  contact:
    name: plugctl
spec:
  phase: UNSPECIFIED_PHASE
  priority: 10
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        header:
          type: string
        value:
          type: string
      required:
        - header
      example:
        header: x-hello
        value: world
)";

}  // namespace plugctl::test_support
