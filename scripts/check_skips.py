#!/usr/bin/env python3
"""Fails when ctest skipped a test that test/ci-skips.txt does not allow.

A skip in CI usually means a peer (skopeo, docker-registry, ../shared) is missing, and a run
that skips it is not a green run. Usage: check_skips.py CTEST_LOG [ALLOW_LIST]
"""
import pathlib
import re
import sys

log = pathlib.Path(sys.argv[1]).read_text(errors="replace")
allow_path = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                          pathlib.Path(__file__).resolve().parent.parent / "test" / "ci-skips.txt")

# "The following tests did not run:" lists "  12 - Suite.Name (Skipped)" (also "(Disabled)").
skipped = re.findall(r"^\s*\d+ - (\S+) \((?:Skipped|Disabled)\)\s*$", log, re.M)

allowed = []
for number, line in enumerate(allow_path.read_text().splitlines(), 1):
    entry = line.split("#", 1)[0].strip()
    if not entry:
        continue
    if "#" not in line:
        print(f"{allow_path}:{number}: every allowed skip needs a '# why' comment", file=sys.stderr)
        sys.exit(1)
    allowed.append(re.compile(entry))

unexpected = [name for name in skipped if not any(p.fullmatch(name) for p in allowed)]
for name in unexpected:
    print(f"check_skips: {name} was skipped and is not allowed to be in CI "
          f"(see {allow_path.name}); the reason is in the ctest log above", file=sys.stderr)
print(f"check_skips: {len(skipped)} skipped, {len(unexpected)} not allowed")
sys.exit(1 if unexpected else 0)
