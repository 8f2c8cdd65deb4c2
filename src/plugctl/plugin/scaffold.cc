#include "plugctl/plugin/scaffold.h"

#include <cstdint>

#include <sys/stat.h>

#include "plugctl/base/file.h"

namespace plugctl::plugin {
namespace {

namespace fs = std::filesystem;

// A pass-through proxy-wasm module (see scaffold.h), assembled by hand:
//   types () -> (), (i32) -> i32, (i32 i32) -> (), (i32 i32) -> i32; one memory of one page;
//   proxy_abi_version_0_2_1 {}, proxy_on_memory_allocate(n) grows memory by ceil(n / 64 KiB)
//   pages and returns the old end, proxy_on_context_create {}, proxy_on_vm_start and
//   proxy_on_configure return 1 (accepted). Checked with wabt's wasm-validate.
constexpr uint8_t kPlaceholderWasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x14, 0x04, 0x60, 0x00, 0x00, 0x60, 0x01,
    0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x06,
    0x05, 0x00, 0x01, 0x02, 0x03, 0x03, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x82, 0x01, 0x06, 0x06,
    0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x17, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x61,
    0x62, 0x69, 0x5f, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x5f, 0x30, 0x5f, 0x32, 0x5f, 0x31,
    0x00, 0x00, 0x18, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x6d, 0x65, 0x6d, 0x6f,
    0x72, 0x79, 0x5f, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x61, 0x74, 0x65, 0x00, 0x01, 0x17, 0x70, 0x72,
    0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x78, 0x74, 0x5f, 0x63,
    0x72, 0x65, 0x61, 0x74, 0x65, 0x00, 0x02, 0x11, 0x70, 0x72, 0x6f, 0x78, 0x79, 0x5f, 0x6f, 0x6e,
    0x5f, 0x76, 0x6d, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x03, 0x12, 0x70, 0x72, 0x6f, 0x78,
    0x79, 0x5f, 0x6f, 0x6e, 0x5f, 0x63, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x75, 0x72, 0x65, 0x00, 0x04,
    0x0a, 0x23, 0x05, 0x02, 0x00, 0x0b, 0x11, 0x00, 0x20, 0x00, 0x41, 0xff, 0xff, 0x03, 0x6a, 0x41,
    0x10, 0x76, 0x40, 0x00, 0x41, 0x10, 0x74, 0x0b, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x41, 0x01, 0x0b,
    0x04, 0x00, 0x41, 0x01, 0x0b,
};

constexpr std::string_view kSpecYaml =
    R"yaml(# Plugin metadata (Higress Wasm image spec): `plugctl validate .` checks it, `plugctl build`
# records info.name, info.title and info.version on the image.
apiVersion: 1.0.0
info:
  category: custom
  name: @NAME@
  title: @TITLE@
  x-title-i18n:
    zh-CN: @TITLE@
  description: Logs its configuration and lets every request through (a starting point).
  x-description-i18n:
    zh-CN: 记录插件配置并放行所有请求（新插件的起点）。
    en-US: Logs its configuration and lets every request through (a starting point).
  version: 0.1.0
  contact:
    name: "@NAME@ authors"
  gatewayMinVersion: "1.0.0"
spec:
  phase: UNSPECIFIED_PHASE
  priority: 100
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        message:
          type: string
          title: 日志消息
          x-title-i18n:
            en-US: Log message
          description: 配置加载时写入网关日志的消息
          x-description-i18n:
            en-US: Message written to the gateway log when the configuration loads
          maxLength: 255
          default: hello
          x-scope: ANY
        enabled:
          type: boolean
          title: 启用
          x-title-i18n:
            en-US: Enabled
          description: 是否启用插件
          x-description-i18n:
            en-US: Whether the plugin is enabled
          default: true
          x-scope: GLOBAL
      example:
        message: hello
        enabled: true
)yaml";

constexpr std::string_view kReadme = R"md(# @NAME@

记录插件配置并放行所有请求。这是 `plugctl init` 生成的起点：一个用 C 语言编写、不依赖 libc 的
proxy-wasm（ABI 0.2.1）插件。

English: [README_EN.md](README_EN.md)

## 配置字段

| 名称 | 类型 | 必填 | 默认值 | 说明 |
|---|---|---|---|---|
| `message` | string | 否 | `hello` | 配置加载时写入网关日志的消息 |
| `enabled` | boolean | 否 | `true` | 是否启用插件 |

## 配置示例

```yaml
message: hello
enabled: true
```

## 构建

```sh
./build.sh                       # clang --target=wasm32 编译 plugin.c，生成 plugin.wasm
plugctl validate .
plugctl build . -t oci:layout:@NAME@:0.1.0
```

在运行 `./build.sh` 之前，目录中的 plugin.wasm 是一个放行所有请求的占位模块。
)md";

constexpr std::string_view kReadmeEn = R"md(# @NAME@

Logs its configuration and lets every request through. This is the starting point `plugctl init`
wrote: a proxy-wasm (ABI 0.2.1) plugin in plain C, without a libc.

中文: [README.md](README.md)

## Configuration

| Name | Type | Required | Default | Description |
|---|---|---|---|---|
| `message` | string | no | `hello` | Message written to the gateway log when the configuration loads |
| `enabled` | boolean | no | `true` | Whether the plugin is enabled |

## Example

```yaml
message: hello
enabled: true
```

## Build

```sh
./build.sh                       # clang --target=wasm32 compiles plugin.c into plugin.wasm
plugctl validate .
plugctl build . -t oci:layout:@NAME@:0.1.0
```

Until `./build.sh` runs, plugin.wasm is a placeholder module that lets every request through.
)md";

constexpr std::string_view kBuildSh = R"sh(#!/bin/sh
# Compiles plugin.c into plugin.wasm: clang targeting wasm32 without a libc, linked by lld's
# wasm-ld (Debian: apt-get install clang lld). CLANG=clang-14 ./build.sh picks another clang.
set -eu
cd "$(dirname "$0")"
"${CLANG:-clang}" --target=wasm32 -nostdlib -ffreestanding -fno-builtin -O2 \
  -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-debug -o plugin.wasm.tmp plugin.c
mv plugin.wasm.tmp plugin.wasm
echo "built plugin.wasm; next: plugctl validate . && plugctl build . -t oci:layout:@NAME@:0.1.0"
)sh";

constexpr std::string_view kPluginC =
    R"c(// @NAME@: a proxy-wasm (ABI 0.2.1) plugin in plain C, built without a libc by build.sh.
// It logs its configuration once and lets every request through: replace the handlers below.
//
// Host call sequence (Envoy, Istio, Higress): proxy_on_context_create(root_id, 0);
// proxy_on_vm_start; proxy_on_configure (read the configuration with proxy_get_buffer_bytes);
// then per HTTP stream proxy_on_context_create(id, root_id), proxy_on_request_headers, ...

typedef __SIZE_TYPE__ size_t;
typedef unsigned int u32;
typedef int i32;

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

enum { kLogInfo = 2 };
enum { kBufferPluginConfiguration = 7 };
enum { kResultOk = 0 };
enum { kActionContinue = 0 };

IMPORT(proxy_log) i32 proxy_log(i32 level, const char* message, size_t size);
IMPORT(proxy_get_buffer_bytes)
i32 proxy_get_buffer_bytes(i32 buffer_type, u32 start, u32 length, const char** data, size_t* size);

// The host's memory for data it passes in (the configuration): a bump allocator over pages
// grown on demand. Nothing is freed; a plugin that allocates per request needs a real one.
extern unsigned char __heap_base;
static size_t heap_next = 0;

EXPORT(proxy_on_memory_allocate) void* proxy_on_memory_allocate(size_t size) {
  if (heap_next == 0) heap_next = (size_t)&__heap_base;
  size_t start = (heap_next + 15) & ~(size_t)15;
  size_t end = start + size;
  if (end < start) return 0;
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (size_t)-1) {
    return 0;
  }
  heap_next = end;
  return (void*)start;
}

EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

EXPORT(proxy_on_context_create) void proxy_on_context_create(u32 context_id, u32 parent_id) {
  (void)context_id;
  (void)parent_id;
}

EXPORT(proxy_on_vm_start) i32 proxy_on_vm_start(u32 root_id, size_t vm_configuration_size) {
  (void)root_id;
  (void)vm_configuration_size;
  return 1;
}

EXPORT(proxy_on_configure) i32 proxy_on_configure(u32 root_id, size_t configuration_size) {
  (void)root_id;
  const char* data = 0;
  size_t size = 0;
  if (configuration_size > 0 &&
      proxy_get_buffer_bytes(kBufferPluginConfiguration, 0, configuration_size, &data, &size) ==
          kResultOk) {
    proxy_log(kLogInfo, data, size);
  }
  return 1;  // accept the configuration; 0 rejects it
}

EXPORT(proxy_on_request_headers)
i32 proxy_on_request_headers(u32 context_id, u32 headers, u32 end_of_stream) {
  (void)context_id;
  (void)headers;
  (void)end_of_stream;
  return kActionContinue;
}

EXPORT(proxy_on_done) i32 proxy_on_done(u32 context_id) {
  (void)context_id;
  return 1;
}

EXPORT(proxy_on_delete) void proxy_on_delete(u32 context_id) { (void)context_id; }
)c";

std::string Fill(std::string_view text, std::string_view name, std::string_view title) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i).starts_with("@NAME@")) {
      out += name;
      i += 6;
    } else if (text.substr(i).starts_with("@TITLE@")) {
      out += title;
      i += 7;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// "my-plugin" -> "My Plugin".
std::string TitleFor(std::string_view name) {
  std::string out;
  bool start = true;
  for (char c : name) {
    if (c == '-') {
      out += ' ';
      start = true;
    } else {
      out += start && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
      start = false;
    }
  }
  return out;
}

}  // namespace

bool IsValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() < 'a' || name.front() > 'z' ||
      name.back() == '-') {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Result<ScaffoldResult> ScaffoldPlugin(const fs::path& dir, const ScaffoldOptions& options) {
  if (!IsValidPluginName(options.name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "plugin name \"{}\" is not valid: a lowercase letter, then lowercase letters, "
                     "digits and '-', at most 63 characters, not ending in '-'",
                     options.name);
  }
  std::error_code ec;
  if (fs::is_directory(dir, ec) && !options.force) {
    if (fs::directory_iterator(dir, ec) != fs::directory_iterator()) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "{} is not empty: refusing to write a plugin into it (use --force)",
                       dir.string());
    }
    if (ec) return MakeError(ErrorCode::kInternal, "{}: {}", dir.string(), ec.message());
  }
  // Created when missing (and removed again if a file cannot be written); an existing
  // non-directory is refused.
  CreatedDirectory out;
  PLUGCTL_RETURN_IF_ERROR(out.Prepare(dir));
  const std::string title = TitleFor(options.name);
  const std::string wasm(reinterpret_cast<const char*>(kPlaceholderWasm), sizeof(kPlaceholderWasm));
  const std::pair<std::string_view, std::string> files[] = {
      {"spec.yaml", Fill(kSpecYaml, options.name, title)},
      {"README.md", Fill(kReadme, options.name, title)},
      {"README_EN.md", Fill(kReadmeEn, options.name, title)},
      {"plugin.c", Fill(kPluginC, options.name, title)},
      {"build.sh", Fill(kBuildSh, options.name, title)},
      {"plugin.wasm", wasm},
  };
  ScaffoldResult result;
  for (const auto& [name, content] : files) {
    fs::path path = dir / name;
    // Never write through a symlink someone left in the directory (--force).
    if (fs::is_symlink(fs::symlink_status(path, ec))) {
      return MakeError(ErrorCode::kFailedPrecondition, "{} is a symlink: refusing to replace it",
                       path.string());
    }
    PLUGCTL_RETURN_IF_ERROR(WriteFileAtomic(path, content));
    result.files.emplace_back(name);
  }
  if (::chmod((dir / "build.sh").c_str(), 0755) != 0) {
    return MakeError(ErrorCode::kInternal, "chmod {}: failed", (dir / "build.sh").string());
  }
  out.Keep();
  return result;
}

}  // namespace plugctl::plugin
