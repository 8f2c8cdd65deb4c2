// `plugctl build` of a 30 MiB plugin versus the shell pipeline the Higress image spec's build
// instructions use for the plugin layer, `tar -c plugin.wasm | gzip -n`, on the same file.
//
// The module is the smallest proxy-wasm plugin plus one 30 MiB custom section of random bytes
// (so it parses and passes CheckProxyWasm, and gzip cannot shrink it). Both sides read the file
// from the page cache; the pipeline writes to /dev/null, the builder into a store::MemoryTarget
// (what `plugctl build` does before copying to its targets). Real time, since the pipeline runs
// in child processes. After the runs, the ratio builder / pipeline is printed per variant:
// compat does everything the pipeline does plus validation and sha256 of every blob.
//
//   build/release/bench/build_bench [--benchmark_filter=...] [--wasm_mib=N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "support/wasm_builder.h"
#include <benchmark/benchmark.h>

#include "plugctl/base/file.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/store/memory_target.h"

namespace {

using plugctl::TempDir;
namespace plugin = plugctl::plugin;

size_t g_wasm_mib = 30;
std::unique_ptr<TempDir> g_dir;

// A proxy-wasm module of about `bytes` bytes: the required exports, then random data in a
// custom section.
std::string BigModule(size_t bytes) {
  using plugctl::test_support::Section;
  using plugctl::test_support::Str;
  std::string out = plugctl::test_support::ProxyWasmModule(
      {"proxy_abi_version_0_2_1", "proxy_on_memory_allocate", "proxy_on_context_create"});
  std::string payload = Str("bench");
  const size_t random_bytes = bytes > out.size() + 16 ? bytes - out.size() - 16 : 0;
  std::mt19937_64 rng(42);
  payload.reserve(payload.size() + random_bytes + 8);
  while (payload.size() < random_bytes) {
    uint64_t v = rng();
    payload.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  out += Section(0, payload);
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void Setup() {
  auto dir = TempDir::Create("plugctl-build-bench");
  if (!dir) {
    std::cerr << dir.error().message() << "\n";
    std::exit(1);
  }
  g_dir = std::move(*dir);
  WriteFile(g_dir->path() / "plugin.wasm", BigModule(g_wasm_mib << 20));
  WriteFile(g_dir->path() / "README.md", "# bench\n");
  WriteFile(g_dir->path() / "spec.yaml",
            "apiVersion: 1.0.0\ninfo:\n  category: custom\n  name: bench\n  title: Bench\n"
            "  description: benchmark plugin\n  version: 1.0.0\nspec:\n  phase: default\n"
            "  priority: 0\n");
}

void BM_Build(benchmark::State& state, plugin::BuildVariant variant) {
  for (auto _ : state) {
    plugctl::store::MemoryTarget mem;
    auto built = plugin::BuildPluginImage(g_dir->path(), {.variant = variant}, mem);
    if (!built) {
      state.SkipWithError(built.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(built->manifest);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(g_wasm_mib << 20));
}

void BM_TarGzipShell(benchmark::State& state) {
  const std::string cmd =
      "cd '" + g_dir->path().string() + "' && tar -c plugin.wasm | gzip -n > /dev/null";
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) {
      state.SkipWithError("tar | gzip -n failed");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(g_wasm_mib << 20));
}

// Records the real time per iteration of each benchmark, for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (!run.error_occurred && run.iterations > 0 && run.run_type == Run::RT_Iteration) {
        seconds_[run.run_name.function_name] = run.GetAdjustedRealTime() / 1e3;  // ms → s
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  const std::map<std::string, double>& seconds() const { return seconds_; }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--wasm_mib=", 11) == 0)
      g_wasm_mib = std::strtoul(argv[i] + 11, nullptr, 10);
  }
  benchmark::Initialize(&argc, argv);
  Setup();
  for (auto [name, variant] : {std::pair{"BM_BuildCompat", plugin::BuildVariant::kCompat},
                               std::pair{"BM_BuildOci", plugin::BuildVariant::kOci},
                               std::pair{"BM_BuildDocker", plugin::BuildVariant::kDocker}}) {
    benchmark::RegisterBenchmark(name, BM_Build, variant)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(2.0);
  }
  benchmark::RegisterBenchmark("BM_TarGzipShell", BM_TarGzipShell)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(2.0);

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const auto& s = reporter.seconds();
  auto shell = s.find("BM_TarGzipShell");
  if (shell != s.end()) {
    std::printf("\n%zu MiB plugin.wasm; `tar -c plugin.wasm | gzip -n`: %.3f s\n", g_wasm_mib,
                shell->second);
    for (const auto& [name, seconds] : s) {
      if (name == shell->first) continue;
      std::printf("  %-44s %.3f s  ratio %.2f (plugctl / tar|gzip)\n", name.c_str(), seconds,
                  seconds / shell->second);
    }
  }
  benchmark::Shutdown();
  return 0;
}
