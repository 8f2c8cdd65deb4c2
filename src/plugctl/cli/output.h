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
#include <string>

#include <nlohmann/json.hpp>

#include "plugctl/transfer/copy.h"

namespace plugctl::cli {

enum class OutputFormat { kText, kJson };

// "1.5 MiB"
std::string HumanBytes(uint64_t bytes);
// "sha256:0123456789ab" (first 12 hex digits), for tables.
std::string ShortDigest(const oci::Digest& digest);

void PrintJson(const nlohmann::ordered_json& json);

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
