#!/usr/bin/env python3
"""Checks WasmPlugin resources against the WasmPlugin CRD's structural schema, as the Kubernetes
API server would: wrong types and enum values are rejected, fields the schema does not declare
are reported (the server would prune them), and values kubectl cannot carry (non-finite floats,
integers outside int64) are errors everywhere, including x-kubernetes-preserve-unknown-fields
subtrees.

An independent reading of the schema for plugctl's tests (it shares no code with
src/plugctl/wasmplugin/crd_schema.cc): no network, no kubectl.

  crd_check.py CRD.json < resources     # YAML stream (read as YAML 1.1, like kubectl) or JSON
                                        # (one object, or a v1 List)

Prints "ok N" (N resources) and exits 0, or prints one line per problem and exits 1.
"""
import json
import math
import sys

import yaml

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def join(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def portable(value, path, errors):
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(f"{path}: {value} is not a JSON number")
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            errors.append(f"{path}: {value} is outside int64")
            return False
    return True


def free(value, path, errors):
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{join(path, str(k))}: key is not a string")
            free(v, join(path, str(k)), errors)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            free(v, join(path, i), errors)
    else:
        portable(value, path, errors)


def check(schema, value, path, errors):
    if value is None:
        if not schema.get("nullable", False):
            errors.append(f"{path}: null in a non-nullable field")
        return
    if not portable(value, path, errors):
        return
    want = schema.get("type")
    if want and not TYPES[want](value):
        errors.append(f"{path}: expected {want}, got {type(value).__name__} {value!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum {schema['enum']}")
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            free(value, path, errors)
            return
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                check(props[k], v, join(path, k), errors)
            else:
                errors.append(f"{join(path, k)}: unknown field (pruned)")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check(schema.get("items", {}), v, join(path, i), errors)


def check_resource(schema, resource, where, errors):
    if not isinstance(resource, dict):
        errors.append(f"{where}: not a mapping")
        return
    local = []
    if resource.get("apiVersion") != "extensions.higress.io/v1alpha1":
        local.append(f"apiVersion: {resource.get('apiVersion')!r}")
    if resource.get("kind") != "WasmPlugin":
        local.append(f"kind: {resource.get('kind')!r}")
    metadata = resource.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        local.append("metadata.name: missing")
    body = {k: v for k, v in resource.items() if k not in ("apiVersion", "kind", "metadata")}
    check(schema, body, "", local)
    errors.extend(f"{where}: {e}" for e in local)


def main():
    schema = json.load(open(sys.argv[1]))
    text = sys.stdin.read()
    try:
        documents = [json.loads(text)]
    except ValueError:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    resources = []
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            if doc.get("apiVersion") != "v1" or not isinstance(doc.get("items"), list):
                print("List: needs apiVersion v1 and items")
                return 1
            resources.extend(doc["items"])
        else:
            resources.append(doc)
    errors = []
    names = set()
    for i, resource in enumerate(resources):
        check_resource(schema, resource, f"resource {i}", errors)
        if isinstance(resource, dict) and isinstance(resource.get("metadata"), dict):
            key = (resource["metadata"].get("namespace"), resource["metadata"].get("name"))
            if key in names:
                errors.append(f"resource {i}: duplicate metadata.name {key}")
            names.add(key)
    if not resources:
        errors.append("no resources")
    for e in errors:
        print(e)
    if errors:
        return 1
    print(f"ok {len(resources)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
