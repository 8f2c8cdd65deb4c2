#!/usr/bin/env python3
"""Fails if a lower layer includes a higher one (see docs/architecture.md)."""
import pathlib
import re
import sys

# Each layer may include itself and the layers listed after it.
ALLOWED = {
    "base": set(),
    "oci": {"base"},
    "archive": {"base"},
    "store": {"base", "oci", "archive"},
    "http": {"base"},
    "registry": {"base", "oci", "store", "http"},
    "spec": {"base"},
    "wasm": {"base"},
    "plugin": {"base", "oci", "archive", "store", "spec", "wasm"},
    "wasmplugin": {"base", "oci", "spec"},
    "transfer": {"base", "oci", "archive", "store", "http", "registry", "spec", "wasm", "plugin"},
    "server": {"base", "oci", "archive", "store"},
    "catalog": {"base", "oci", "archive", "store", "spec", "wasm", "plugin", "wasmplugin",
                "transfer", "server"},
    "cli": {"base", "oci", "archive", "store", "http", "registry", "spec", "wasm", "plugin",
            "wasmplugin", "transfer", "server", "catalog"},
}
# Files held to fewer layers than their own: the copy engine reaches registries only through
# store::Target and its capabilities (store/capabilities.h), never through registry/.
# Keys and includes are paths below src/plugctl/.
NARROWER = {
    "transfer/copy.h": {"base", "oci", "store"},
    "transfer/copy.cc": {"base", "oci", "store"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"plugctl/([a-z_]+)/')

root = pathlib.Path(__file__).resolve().parent.parent / "src" / "plugctl"
errors = []
for path in sorted(root.rglob("*")):
    if path.suffix not in (".h", ".cc"):
        continue
    layer = path.relative_to(root).parts[0]
    if layer not in ALLOWED:
        errors.append(f"{path}: unknown layer '{layer}' (add it to scripts/check_layers.py)")
        continue
    narrower = NARROWER.get(path.relative_to(root).as_posix())
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = INCLUDE.match(line)
        if not match:
            continue
        included = match.group(1)
        if narrower is not None:
            # Within its own layer a narrower file may include only other narrower files.
            target = line.split('"plugctl/', 1)[1].split('"', 1)[0]
            if included not in narrower and target not in NARROWER:
                errors.append(f"{path}:{number}: must include only {sorted(narrower)}, not "
                              f"'{target}'")
        elif included != layer and included not in ALLOWED[layer]:
            errors.append(f"{path}:{number}: layer '{layer}' must not include '{included}'")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
