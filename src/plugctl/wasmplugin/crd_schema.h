// plugctl/wasmplugin/crd_schema.h — a WasmPlugin resource against the structural schema of
// Higress's WasmPlugin CustomResourceDefinition, as the Kubernetes API server applies it: what
// `plugctl wasmplugin` checks before it prints anything.
//
// The schema is the openAPIV3Schema of wasmplugins.extensions.higress.io, version v1alpha1 (its
// only one), from alibaba/higress helm/core/crds/customresourcedefinitions.gen.yaml (2026-04
// revision, with matchRules[].routeType); ../shared/data/higress-crd/ keeps the same text. The API
// server rejects a wrong type or an enum value outside the list, and silently prunes a field the
// schema does not declare (only defaultConfig, matchRules[].config, pluginConfig and status keep
// unknown fields). Values no JSON reader can carry — non-finite floats (.inf, .nan) and integers
// beyond int64 — are refused anywhere, configurations included.
//
//   for (const Finding& f : CheckWasmPluginCrd(resource)) ...;
//   // "spec.matchRules[0].domains: unknown field (did you mean `domain`?): ..."
//
// Thread-safe: pure functions (the schema is parsed once, on first use).
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"

namespace plugctl::wasmplugin {

// The CRD's openAPIV3Schema as JSON text.
std::string_view WasmPluginCrdSchemaJson();

// Every way `resource` (apiVersion, kind, metadata, spec, status) breaks the CRD's structural
// schema: error findings with the field's path ("spec.matchRules[1].configDisable") and no file.
// apiVersion and kind must be extensions.higress.io/v1alpha1 and WasmPlugin; metadata must be a
// mapping. Empty when the API server would store the resource exactly as given.
std::vector<Finding> CheckWasmPluginCrd(const nlohmann::ordered_json& resource);

}  // namespace plugctl::wasmplugin
