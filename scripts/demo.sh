#!/usr/bin/env bash
# The main job on its embedded default — no registry or network needed:
# installs what is needed, builds plugctl and the example proxy-wasm plugin
# (C, compiled with clang --target=wasm32 + lld), validates it, packages it
# reproducibly into a local OCI layout, and shows what `inspect` says.
# Usage: bash scripts/demo.sh [DIR]   (default DIR: ./plugctl-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plugctl example_add_header
P=./build/release/plugctl
E=./build/release/examples/add-header
OUT="${1:-plugctl-demo}"

echo "== plugctl validate $E"
$P validate "$E"
echo
echo "== plugctl build $E -t oci:$OUT/layout:add-header:1.0.0 (reproducible)"
$P build "$E" -t "oci:$OUT/layout:add-header:1.0.0" -t "oci-archive:$OUT/add-header.tar:1.0.0"
echo
echo "== plugctl inspect oci:$OUT/layout:add-header:1.0.0"
$P inspect "oci:$OUT/layout:add-header:1.0.0"

echo
echo "== plugctl serve $OUT/registry (an OCI registry on a free loopback port)"
rm -rf "$OUT/registry"
$P serve "$OUT/registry" --listen 127.0.0.1:0 2> "$OUT/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
HOST=""
for _ in $(seq 1 100); do
  HOST=$(sed -n 's|.*listening on http://\([0-9.:]*\) .*|\1|p' "$OUT/serve.log" | head -n 1)
  [ -n "$HOST" ] && break
  sleep 0.1
done
[ -n "$HOST" ] || { cat "$OUT/serve.log" >&2; echo "plugctl serve did not start" >&2; exit 1; }
echo "== plugctl copy oci:$OUT/layout:add-header:1.0.0 $HOST/plugins/add-header:1.0.0"
$P copy "oci:$OUT/layout:add-header:1.0.0" "$HOST/plugins/add-header:1.0.0"
echo "== plugctl pull $HOST/plugins/add-header:1.0.0 -o $OUT/pulled"
$P pull "$HOST/plugins/add-header:1.0.0" -o "$OUT/pulled" --force
pushed=$($P resolve "oci:$OUT/layout:add-header:1.0.0")
served=$($P resolve "$HOST/plugins/add-header:1.0.0")
echo "layout digest: $pushed"
echo "served digest: $served"
[ "$pushed" = "$served" ] || { echo "digests differ" >&2; exit 1; }
cmp "$E/plugin.wasm" "$OUT/pulled/plugin.wasm" 2>/dev/null && echo "plugin.wasm pulled back unchanged"
echo "== the same plugin over plain HTTP (Higress plugin-server layout): http://$HOST/plugins/add-header/1.0.0/"
curl -sSf "http://$HOST/plugins/add-header/1.0.0/metadata.txt"
curl -sSf -o "$OUT/downloaded.wasm" "http://$HOST/plugins/add-header/1.0.0/plugin.wasm"
cmp "$E/plugin.wasm" "$OUT/downloaded.wasm" && echo "plugin.wasm downloaded unchanged"
$P wasmplugin "$HOST/plugins/add-header:1.0.0" --plain-http --url-prefix "http://$HOST/plugins"
echo "== catalog page: http://$HOST/"
kill -TERM $SERVE
wait $SERVE || true
trap - EXIT
echo "== plugctl serve stopped; its log is $OUT/serve.log"
