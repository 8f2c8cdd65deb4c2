// plugctl/cli/output.h — how commands talk to people and scripts.
//
// Text goes to stdout for results and stderr for progress and errors; with
// --format json a command prints exactly one JSON document on stdout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "plugctl/transfer/copy.h"

namespace plugctl::cli {

enum class OutputFormat { kText, kJson };

// "1.5 MiB"
std::string HumanBytes(uint64_t bytes);

// "1 blob", "3 blobs", "0 blobs": a count with its noun in agreement. `plural` defaults to
// `singular` + "s".
std::string Count(uint64_t n, std::string_view singular, std::string_view plural = {});
// "sha256:0123456789ab" (first 12 hex digits), for tables.
std::string ShortDigest(const oci::Digest& digest);

void PrintJson(const nlohmann::ordered_json& json);
// Whether PrintJson has printed a document in this process: a command that reported its
// results (mirror's per-image report) before failing carries its error inside that report, and
// a second document would break scripts reading stdout as one JSON value.
bool JsonPrinted();

// Untrusted text (tags, media types, annotations, file names, spec strings, error messages)
// made safe for a terminal and for line-oriented logs: C0 controls and DEL become C escapes
// (`\n`, `\r`, `\t`, `\x1b`), bytes that are not valid UTF-8 become `\xHH`, and C1 controls,
// Unicode line/paragraph separators, bidi controls and the BOM become `\uXXXX`. Valid printable
// UTF-8 is unchanged. JSON output needs none of this (nlohmann escapes it).
std::string EscapeForText(std::string_view text);
// The items escaped, joined with ", ".
std::string EscapeJoin(const std::vector<std::string>& items);

namespace internal {
template <typename T>
decltype(auto) EscapedArg(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_same_v<std::remove_cvref_t<T>, std::nullptr_t>) {
    return EscapeForText(std::string_view(value));
  } else {
    return (value);
  }
}
}  // namespace internal

// The one way text output is written: every string argument goes through EscapeForText, so
// only the format string itself (plugctl's own text) can put a newline or an escape sequence
// on the terminal. Non-string arguments (numbers) are formatted as they are.
//   Print(std::cout, "Tag: {}\n", tag);
template <typename... Args>
void Print(std::ostream& out, fmt::format_string<Args...> format, Args&&... args) {
  auto escaped = std::make_tuple(internal::EscapedArg(args)...);
  out << std::apply(
      [&](const auto&... e) {
        return fmt::vformat(fmt::string_view(format), fmt::make_format_args(e...));
      },
      escaped);
}

// A one-line progress bar on stderr when it is a terminal; silent otherwise.
// Thread-safe: its callback is called from the copy engine's workers.
class ProgressBar {
 public:
  // `label` prefixes the line, e.g. "copy basic-auth:1.0.0".
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();

  transfer::ProgressCallback Callback();
  // For many copies behind one bar (mirror): each copy's plan adds to the totals instead of
  // replacing them.
  void AccumulatePlans() { accumulate_ = true; }
  // Clears the line.
  void Finish();

 private:
  void OnEvent(const transfer::ProgressEvent& event);
  void Render(bool force);

  std::string label_;
  bool enabled_;
  std::mutex mu_;
  uint64_t total_bytes_ = 0;
  uint64_t total_blobs_ = 0;
  uint64_t done_bytes_ = 0;
  uint64_t done_blobs_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_render_;
  bool drawn_ = false;
  bool accumulate_ = false;
};

// Whether stderr is a terminal (progress bars) and stdout (colors, tables).
bool StderrIsTerminal();

}  // namespace plugctl::cli
