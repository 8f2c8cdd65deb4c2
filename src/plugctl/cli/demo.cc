#include "plugctl/cli/demo.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/cli/output.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/content.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {
namespace {

// A minimal valid module with what a proxy-wasm host requires: an ABI version
// export, an allocator export, proxy_on_context_create (without it the host never creates a
// context, and the gateway check warns) and a memory.
std::string SampleWasm() {
  // clang-format off
  const unsigned char bytes[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,              // magic, version 1
      0x01, 0x0e, 0x03, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f,  // types: ()->(), (i32)->i32,
      0x60, 0x02, 0x7f, 0x7f, 0x00,                                //   (i32, i32)->()
      0x03, 0x04, 0x03, 0x00, 0x01, 0x02,                          // functions 0, 1 and 2
      0x05, 0x03, 0x01, 0x00, 0x01,                                // memory: min 1 page
      0x07, 0x59, 0x04,                                            // exports, 4 entries
      0x17, 'p', 'r', 'o', 'x', 'y', '_', 'a', 'b', 'i', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n',
      '_', '0', '_', '2', '_', '1', 0x00, 0x00,  // func 0
      0x18, 'p', 'r', 'o', 'x', 'y', '_', 'o', 'n', '_', 'm', 'e', 'm', 'o', 'r', 'y', '_', 'a',
      'l', 'l', 'o', 'c', 'a', 't', 'e', 0x00, 0x01,  // func 1
      0x17, 'p', 'r', 'o', 'x', 'y', '_', 'o', 'n', '_', 'c', 'o', 'n', 't', 'e', 'x', 't', '_',
      'c', 'r', 'e', 'a', 't', 'e', 0x00, 0x02,  // func 2
      0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,  // memory 0
      0x0a, 0x0c, 0x03, 0x02, 0x00, 0x0b, 0x04, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x00, 0x0b,  // code
  };
  // clang-format on
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

constexpr std::string_view kSpecYaml = R"(apiVersion: 1.0.0
info:
  category: custom
  name: hello-world/v1
  title: Hello World
  description: A sample plugin written by plugctl demo.
  version: 1.0.0
  contact:
    name: plugctl
spec:
  phase: UNSPECIFIED_PHASE
  priority: 10
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        header:
          type: string
          title: Response header to add
      example:
        header: "x-hello: world"
)";

constexpr std::string_view kReadme =
    "# hello-world\n\nA sample plugin image written by `plugctl demo`.\n";

Result<std::string> TarOf(std::string_view name, std::string_view content,
                          archive::Compression compression) {
  StringWriter out;
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Create(out, {.compression = compression}));
  PLUGCTL_RETURN_IF_ERROR(tar->AddFile(name, content));
  PLUGCTL_RETURN_IF_ERROR(tar->Finish());
  return out.Take();
}

oci::Descriptor Titled(oci::Descriptor desc, std::string title) {
  desc.annotations[std::string(oci::kAnnotationTitle)] = std::move(title);
  return desc;
}

// The Higress image spec shape: one file per layer, plugin.wasm (tar+gzip) last.
Result<oci::Descriptor> PutCompatImage(store::MemoryTarget& mem, const std::string& plugin_tgz) {
  oci::ImageManifestSpec spec;
  spec.config = mem.Put(oci::kUnknownConfig, "{}");
  spec.layers.push_back(Titled(mem.Put(oci::kWasmDoc, std::string(kReadme)), "README.md"));
  spec.layers.push_back(Titled(mem.Put(oci::kWasmSpec, std::string(kSpecYaml)), "spec.yaml"));
  spec.layers.push_back(Titled(mem.Put(oci::kOciLayerTarGzip, plugin_tgz), "plugin.tar.gz"));
  spec.annotations[std::string(oci::kAnnotationTitle)] = "hello-world";
  spec.annotations[std::string(oci::kAnnotationVersion)] = "1.0.0";
  return mem.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
}

// What `FROM scratch` + `COPY plugin.wasm` gives: Docker schema2, one layer.
Result<oci::Descriptor> PutDockerImage(store::MemoryTarget& mem, const std::string& plugin_tar,
                                       const std::string& plugin_tgz) {
  nlohmann::ordered_json config;
  config["architecture"] = "amd64";
  config["os"] = "linux";
  config["config"] = nlohmann::ordered_json::object();
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", {oci::Digest::Of(plugin_tar).ToString()}}};
  config["history"] = {{{"created_by", "plugctl demo: COPY plugin.wasm /"}}};
  oci::ImageManifestSpec spec;
  spec.media_type = std::string(oci::kDockerManifest);
  spec.config = mem.Put(oci::kDockerConfig, config.dump());
  spec.layers.push_back(mem.Put(oci::kDockerLayerTarGzip, plugin_tgz));
  return mem.Put(oci::kDockerManifest, oci::BuildImageManifest(spec));
}

struct Written {
  std::string label;
  std::string location;
  oci::Descriptor root;
};

Result<Written> CopyTo(store::Target& src, const oci::Descriptor& root, std::string_view label,
                       const std::string& location_text, const std::string& tag) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(location_text));
  PLUGCTL_ASSIGN_OR_RETURN(auto dst, transfer::OpenLocation(loc, transfer::AccessMode::kWrite));
  PLUGCTL_RETURN_IF_ERROR(transfer::CopyGraph(src, root, *dst, {.tags = {tag}}));
  PLUGCTL_RETURN_IF_ERROR(dst->Commit());
  // Read it back through a fresh handle, as another process would.
  PLUGCTL_ASSIGN_OR_RETURN(auto reread, transfer::OpenLocation(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor got, reread->Resolve(loc.ResolveRef()));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(*reread, got));
  for (const auto& layer : manifest.layers) {
    PLUGCTL_RETURN_IF_ERROR(store::FetchBlob(*reread, layer, 64 << 20));
  }
  if (got.digest != root.digest) {
    return MakeError(ErrorCode::kDataLoss, "{}: read back {}, wrote {}", location_text,
                     got.digest.ToString(), root.digest.ToString());
  }
  return Written{std::string(label), location_text, got};
}

}  // namespace

Status RunDemo(const std::filesystem::path& dir, bool json) {
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir));
  const std::string wasm = SampleWasm();
  PLUGCTL_ASSIGN_OR_RETURN(std::string plugin_tar,
                           TarOf("plugin.wasm", wasm, archive::Compression::kNone));
  PLUGCTL_ASSIGN_OR_RETURN(std::string plugin_tgz,
                           TarOf("plugin.wasm", wasm, archive::Compression::kGzip));

  store::MemoryTarget mem("demo");
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor compat, PutCompatImage(mem, plugin_tgz));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor docker, PutDockerImage(mem, plugin_tar, plugin_tgz));

  const std::string layout = "oci:" + (dir / "layout").string();
  std::vector<Written> written;
  PLUGCTL_ASSIGN_OR_RETURN(auto w1, CopyTo(mem, compat, "OCI layout (Higress image spec)",
                                           layout + ":hello-world:1.0.0", "hello-world:1.0.0"));
  written.push_back(w1);
  PLUGCTL_ASSIGN_OR_RETURN(
      auto w2, CopyTo(mem, docker, "OCI layout (docker FROM scratch shape)",
                      layout + ":hello-world:1.0.0-docker", "hello-world:1.0.0-docker"));
  written.push_back(w2);

  // From the layout on disk to the two archive kinds.
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location layout_loc, transfer::ParseLocation(layout));
  PLUGCTL_ASSIGN_OR_RETURN(auto layout_target,
                           transfer::OpenLocation(layout_loc, transfer::AccessMode::kRead));
  std::string oci_archive = "oci-archive:" + (dir / "hello-world.oci.tar").string();
  PLUGCTL_ASSIGN_OR_RETURN(
      auto w3, CopyTo(*layout_target, compat, "OCI archive", oci_archive + ":1.0.0", "1.0.0"));
  written.push_back(w3);
  std::string docker_archive = "docker-archive:" + (dir / "hello-world.docker.tar").string();
  PLUGCTL_ASSIGN_OR_RETURN(auto w4, CopyTo(*layout_target, docker, "docker archive (docker load)",
                                           docker_archive + ":plugctl-demo/hello-world:1.0.0",
                                           "plugctl-demo/hello-world:1.0.0"));
  written.push_back(w4);

  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& w : written) {
      out.push_back({{"what", w.label},
                     {"location", w.location},
                     {"digest", w.root.digest.ToString()},
                     {"mediaType", w.root.media_type}});
    }
    PrintJson({{"images", out}, {"wasmSha256", oci::Digest::Of(wasm).ToString()}});
    return OkStatus();
  }
  std::cout << "plugctl demo: wrote a sample plugin image, copied it between local targets and\n"
               "read every copy back; digests are preserved across all of them.\n\n";
  for (const auto& w : written) {
    Print(std::cout, "  {:<40} {}\n  {:<40} {}\n", w.label, w.location, "",
          w.root.digest.ToString());
  }
  Print(std::cout, "\n  plugin.wasm sha256: {}\n\nNext: plugctl inspect {}\n",
        oci::Digest::Of(wasm).hex(), written[0].location);
  return OkStatus();
}

}  // namespace plugctl::cli
