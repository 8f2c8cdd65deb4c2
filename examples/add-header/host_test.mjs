// A minimal proxy-wasm host (ABI 0.2.1) in Node's WebAssembly, enough to drive add-header the
// way Envoy/Istio/Higress do: create the root context, configure it, create an HTTP context,
// call proxy_on_response_headers and record what the plugin asked the host to do.
//
//   node host_test.mjs build/dev/examples/add-header/plugin.wasm
import { readFileSync } from 'node:fs';

const kBufferPluginConfiguration = 7;
const kMapResponseHeaders = 2;
const kResultOk = 0;
const kResultNotFound = 1;

const bytes = readFileSync(process.argv[2]);
const module = await WebAssembly.compile(bytes);

// One fresh VM per case, as the host creates one per plugin instance.
async function vm() {
  const state = { config: '', logs: [], added: [] };
  let exports;
  const mem = () => exports.memory.buffer;  // re-read: memory.grow detaches old buffers
  const str = (p, n) => new TextDecoder().decode(new Uint8Array(mem(), p, n));
  const env = {
    proxy_log(level, p, n) {
      state.logs.push([level, str(p, n)]);
      return kResultOk;
    },
    proxy_get_buffer_bytes(type, start, length, ret_data, ret_size) {
      if (type !== kBufferPluginConfiguration) return kResultNotFound;
      const data = new TextEncoder().encode(state.config).subarray(start, start + length);
      const p = exports.proxy_on_memory_allocate(data.length);
      if (p === 0) throw new Error('plugin could not allocate ' + data.length + ' bytes');
      new Uint8Array(mem(), p, data.length).set(data);
      const view = new DataView(mem());
      view.setUint32(ret_data, p, true);
      view.setUint32(ret_size, data.length, true);
      return kResultOk;
    },
    proxy_add_header_map_value(map, kp, kn, vp, vn) {
      state.added.push([map, str(kp, kn), str(vp, vn)]);
      return kResultOk;
    },
  };
  const instance = await WebAssembly.instantiate(module, { env });
  exports = instance.exports;
  state.exports = exports;
  state.configure = (config) => {
    state.config = config;
    return exports.proxy_on_configure(1, new TextEncoder().encode(config).length);
  };
  state.response = () => {
    exports.proxy_on_context_create(2, 1);
    const action = exports.proxy_on_response_headers(2, 3, 0);
    exports.proxy_on_done(2);
    exports.proxy_on_delete(2);
    return action;
  };
  exports.proxy_abi_version_0_2_1();
  exports.proxy_on_context_create(1, 0);
  if (exports.proxy_on_vm_start(1, 0) !== 1) throw new Error('vm start failed');
  return state;
}

let passed = 0;
let failed = 0;
async function check(name, body) {
  try {
    await body();
    passed++;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
function eq(got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`got ${g}, want ${w}`);
}

await check('adds the configured header', async () => {
  const p = await vm();
  eq(p.configure('{"header": "x-hello", "value": "world"}'), 1);
  eq(p.response(), 0);
  eq(p.added, [[kMapResponseHeaders, 'x-hello', 'world']]);
  eq(p.logs.at(-1), [2, 'add-header: adding x-hello: world']);
});

await check('lower-cases the name, unescapes, skips other keys', async () => {
  const p = await vm();
  const config = '{ "other": {"a": [1, -2.5e3, {"b": null}], "c": true}, "header":"X-Team",\n' +
                 '  "value": "a \\"b\\" \\u0041\\/c", "_rules_": [] }';
  eq(p.configure(config), 1);
  p.response();
  eq(p.added, [[kMapResponseHeaders, 'x-team', 'a "b" A/c']]);
});

await check('value defaults to empty', async () => {
  const p = await vm();
  eq(p.configure('{"header":"x-flag"}'), 1);
  p.response();
  eq(p.added, [[kMapResponseHeaders, 'x-flag', '']]);
});

await check('no configuration: adds nothing', async () => {
  const p = await vm();
  eq(p.configure(''), 1);
  p.response();
  eq(p.added, []);
});

for (const [name, config] of [
  ['not JSON', 'header: x'],
  ['no header', '{"value":"v"}'],
  ['header not a string', '{"header": 5}'],
  ['empty header', '{"header": ""}'],
  ['bad header name', '{"header": "x hello"}'],
  ['CR LF in value', '{"header": "x-a", "value": "a\\r\\nb"}'],
  ['value too long', `{"header": "x-a", "value": "${'v'.repeat(300)}"}`],
  ['trailing garbage', '{"header": "x-a"} x'],
  ['unterminated', '{"header": "x-a"'],
  ['too deep', '{"a":' + '['.repeat(40) + ']'.repeat(40) + ', "header": "x"}'],
]) {
  await check(`rejects ${name}`, async () => {
    const p = await vm();
    eq(p.configure(config), 0);
    eq(p.logs.at(-1)[0], 4);
    p.response();
    eq(p.added, []);
  });
}

await check('reconfiguring does not leak memory', async () => {
  const p = await vm();
  const big = `{"header": "x-a", "pad": "${'p'.repeat(100000)}"}`;
  for (let i = 0; i < 200; i++) eq(p.configure(big), 1);
  // 200 configurations of 100 kB each would need 300+ pages without rewinding.
  if (p.exports.memory.buffer.byteLength > 16 * 65536) {
    throw new Error(`memory grew to ${p.exports.memory.buffer.byteLength} bytes`);
  }
  eq(p.configure('{"header": "x-last", "value": "1"}'), 1);
  p.response();
  eq(p.added, [[kMapResponseHeaders, 'x-last', '1']]);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
