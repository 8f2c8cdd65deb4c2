// add-header: a proxy-wasm (ABI 0.2.1) plugin in plain C that adds one response header taken
// from its configuration, e.g. {"header": "x-hello", "value": "world"}.
//
// Built without a libc: clang --target=wasm32 -nostdlib -ffreestanding -fno-builtin, linked by
// wasm-ld with --no-entry (see CMakeLists.txt). Everything the module needs is below: the host
// imports, a bump allocator, memcpy/memset and a small JSON reader.
//
// Host call sequence (proxy-wasm-cpp-host in Envoy, Istio and Higress):
//   proxy_on_context_create(root_id, 0)      the root context (one per plugin configuration)
//   proxy_on_vm_start / proxy_on_configure    the configuration is read with
//                                             proxy_get_buffer_bytes(PluginConfiguration, …)
//   proxy_on_context_create(http_id, root_id) one per HTTP stream
//   proxy_on_response_headers(http_id, …)     adds the header (proxy_add_header_map_value)
//   proxy_on_done / proxy_on_delete           per context

typedef __SIZE_TYPE__ size_t;
typedef unsigned int u32;
typedef int i32;

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

// ---- Host functions (proxy-wasm ABI 0.2.1) ----
enum { kLogDebug = 1, kLogInfo = 2, kLogWarn = 3, kLogError = 4 };
enum { kBufferPluginConfiguration = 7 };
enum { kMapResponseHeaders = 2 };
enum { kResultOk = 0 };
enum { kActionContinue = 0 };

IMPORT(proxy_log) i32 proxy_log(i32 level, const char* message, size_t size);
IMPORT(proxy_get_buffer_bytes)
i32 proxy_get_buffer_bytes(i32 buffer_type, u32 start, u32 length, const char** data, size_t* size);
IMPORT(proxy_add_header_map_value)
i32 proxy_add_header_map_value(i32 map_type, const char* key, size_t key_size, const char* value,
                               size_t value_size);

// ---- What a C compiler may call even without a libc ----
void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  unsigned char* d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

static size_t str_len(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

// ---- Memory: a bump allocator over the linear memory after the data and stack ----
extern unsigned char __heap_base;
static size_t heap_top = 0;

static void* bump_alloc(size_t size) {
  if (heap_top == 0) heap_top = (size_t)&__heap_base;
  size_t start = (heap_top + 7) & ~(size_t)7;
  if (size > 0x7fffffff - start) return 0;
  size_t end = start + size;
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end > have) {
    size_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
  }
  heap_top = end;
  return (void*)start;
}

// The host asks for memory to hand data to the plugin (buffers, header values).
EXPORT(proxy_on_memory_allocate) void* proxy_on_memory_allocate(size_t size) {
  return bump_alloc(size);
}

// ---- Configuration ----
#define MAX_FIELD 256
static char header_name[MAX_FIELD];
static size_t header_name_len = 0;
static char header_value[MAX_FIELD];
static size_t header_value_len = 0;

static void log_str(i32 level, const char* message) { proxy_log(level, message, str_len(message)); }

// A JSON reader just big enough for a flat configuration object: string values are read,
// anything else is skipped (nested up to a small depth).
typedef struct {
  const char* p;
  const char* end;
} Json;

static void skip_space(Json* j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
    ++j->p;
  }
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads a string at j->p into out (up to cap bytes; out may be 0 to skip). 1 on success.
static int read_string(Json* j, char* out, size_t cap, size_t* len) {
  size_t n = 0;
  if (j->p >= j->end || *j->p != '"') return 0;
  ++j->p;
  while (j->p < j->end && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p++;
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (j->p >= j->end) return 0;
      char e = *j->p++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          c = (unsigned char)e;
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        case 'u': {
          // Only ASCII escapes (\u0000-\u007f): header names and values are ASCII anyway.
          if (j->end - j->p < 4) return 0;
          int v = 0;
          for (int i = 0; i < 4; ++i) {
            int d = hex_digit(*j->p++);
            if (d < 0) return 0;
            v = v * 16 + d;
          }
          if (v > 0x7f) return 0;
          c = (unsigned char)v;
          break;
        }
        default:
          return 0;
      }
    }
    if (out) {
      if (n >= cap) return 0;
      out[n] = (char)c;
    }
    ++n;
  }
  if (j->p >= j->end) return 0;
  ++j->p;  // closing quote
  if (len) *len = n;
  return 1;
}

static int skip_value(Json* j, int depth) {
  skip_space(j);
  if (j->p >= j->end || depth > 16) return 0;
  char c = *j->p;
  if (c == '"') return read_string(j, 0, 0, 0);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ++j->p;
    skip_space(j);
    if (j->p < j->end && *j->p == close) {
      ++j->p;
      return 1;
    }
    for (;;) {
      if (c == '{') {
        skip_space(j);
        if (!read_string(j, 0, 0, 0)) return 0;
        skip_space(j);
        if (j->p >= j->end || *j->p++ != ':') return 0;
      }
      if (!skip_value(j, depth + 1)) return 0;
      skip_space(j);
      if (j->p >= j->end) return 0;
      if (*j->p == ',') {
        ++j->p;
        continue;
      }
      if (*j->p++ != close) return 0;
      return 1;
    }
  }
  // Numbers, true, false, null: a run of their characters.
  const char* start = j->p;
  while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'z') ||
                           *j->p == '-' || *j->p == '+' || *j->p == '.' || *j->p == 'E')) {
    ++j->p;
  }
  return j->p > start;
}

static int equals(const char* a, size_t a_len, const char* b) {
  size_t i = 0;
  for (; i < a_len; ++i) {
    if (b[i] != a[i]) return 0;
  }
  return b[i] == '\0';
}

// HTTP header names are tokens (RFC 9110); Envoy wants them lower-case.
static int valid_header_name(char* name, size_t len) {
  if (len == 0) return 0;
  for (size_t i = 0; i < len; ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z')
      name[i] = (char)(c - 'A' + 'a');
    else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
               c == '*' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~')) {
      return 0;
    }
  }
  return 1;
}

static int valid_header_value(const char* value, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)value[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
  }
  return 1;
}

// Parses {"header": "...", "value": "..."}; other keys are ignored. 1 on success.
static int parse_config(const char* data, size_t size) {
  char key[32];
  size_t key_len = 0;
  char name[MAX_FIELD];
  size_t name_len = 0;
  char value[MAX_FIELD];
  size_t value_len = 0;
  int have_name = 0;
  Json j = {data, data + size};
  skip_space(&j);
  if (j.p >= j.end || *j.p++ != '{') return 0;
  skip_space(&j);
  if (j.p < j.end && *j.p == '}') {
    ++j.p;
  } else {
    for (;;) {
      skip_space(&j);
      Json key_start = j;
      if (!read_string(&j, key, sizeof(key), &key_len)) {
        j = key_start;  // a long key is not one of ours: skip it
        if (!read_string(&j, 0, 0, 0)) return 0;
        key_len = 0;
      }
      skip_space(&j);
      if (j.p >= j.end || *j.p++ != ':') return 0;
      skip_space(&j);
      if (equals(key, key_len, "header")) {
        if (!read_string(&j, name, sizeof(name) - 1, &name_len)) return 0;
        have_name = 1;
      } else if (equals(key, key_len, "value")) {
        if (!read_string(&j, value, sizeof(value) - 1, &value_len)) return 0;
      } else if (!skip_value(&j, 0)) {
        return 0;
      }
      skip_space(&j);
      if (j.p >= j.end) return 0;
      if (*j.p == ',') {
        ++j.p;
        continue;
      }
      if (*j.p++ != '}') return 0;
      break;
    }
  }
  skip_space(&j);
  if (j.p != j.end) return 0;
  if (!have_name || !valid_header_name(name, name_len) || !valid_header_value(value, value_len)) {
    return 0;
  }
  memcpy(header_name, name, name_len);
  header_name_len = name_len;
  memcpy(header_value, value, value_len);
  header_value_len = value_len;
  return 1;
}

// ---- Callbacks ----
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

// Returns 1 when the configuration is usable; 0 makes the host reject it.
EXPORT(proxy_on_configure) i32 proxy_on_configure(u32 root_id, size_t configuration_size) {
  (void)root_id;
  if (configuration_size == 0) {
    header_name_len = 0;
    log_str(kLogWarn, "add-header: no configuration, adding nothing");
    return 1;
  }
  // The host copies the configuration into memory it gets from proxy_on_memory_allocate; the
  // copy is only needed here, so the allocator is rewound afterwards.
  size_t mark = heap_top;
  const char* data = 0;
  size_t size = 0;
  i32 ok = proxy_get_buffer_bytes(kBufferPluginConfiguration, 0, configuration_size, &data,
                                  &size) == kResultOk &&
           data != 0 && parse_config(data, size);
  heap_top = mark;
  if (!ok) {
    log_str(kLogError,
            "add-header: configuration must be {\"header\": \"<name>\", \"value\": \"<value>\"}");
    return 0;
  }
  char message[2 * MAX_FIELD + 32];
  size_t n = 0;
  const char* prefix = "add-header: adding ";
  memcpy(message, prefix, str_len(prefix));
  n += str_len(prefix);
  memcpy(message + n, header_name, header_name_len);
  n += header_name_len;
  message[n++] = ':';
  message[n++] = ' ';
  memcpy(message + n, header_value, header_value_len);
  n += header_value_len;
  proxy_log(kLogInfo, message, n);
  return 1;
}

EXPORT(proxy_on_response_headers)
i32 proxy_on_response_headers(u32 context_id, u32 headers, u32 end_of_stream) {
  (void)context_id;
  (void)headers;
  (void)end_of_stream;
  if (header_name_len > 0) {
    proxy_add_header_map_value(kMapResponseHeaders, header_name, header_name_len, header_value,
                               header_value_len);
  }
  return kActionContinue;
}

EXPORT(proxy_on_done) i32 proxy_on_done(u32 context_id) {
  (void)context_id;
  return 1;
}

EXPORT(proxy_on_delete) void proxy_on_delete(u32 context_id) { (void)context_id; }
