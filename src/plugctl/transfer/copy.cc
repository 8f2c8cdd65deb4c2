#include "plugctl/transfer/copy.h"

#include <mutex>
#include <set>

#include "plugctl/base/parallel.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/store/capabilities.h"
#include "plugctl/store/content.h"

namespace plugctl::transfer {
namespace {

struct ManifestNode {
  oci::Descriptor desc;
  std::string raw;
};

// The image graph: manifests in post-order (children first) and unique blobs.
struct Graph {
  std::vector<ManifestNode> manifests;
  std::vector<oci::Descriptor> blobs;
  std::set<oci::Digest> seen;
};

Status Walk(store::Target& src, const oci::Descriptor& desc, int depth, const CopyOptions& options,
            Graph& graph) {
  if (graph.seen.contains(desc.digest)) return OkStatus();
  if (depth > options.max_index_depth) {
    return MakeError(ErrorCode::kResourceExhausted, "index nesting deeper than {} at {}",
                     options.max_index_depth, desc.digest.ToString());
  }
  if (graph.manifests.size() >= options.max_manifests) {
    return MakeError(ErrorCode::kResourceExhausted, "image graph has more than {} manifests",
                     options.max_manifests);
  }
  graph.seen.insert(desc.digest);
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(src, desc));
  auto add_blob = [&](const oci::Descriptor& blob) {
    if (graph.seen.insert(blob.digest).second) graph.blobs.push_back(blob);
  };
  if (manifest.is_index()) {
    for (const oci::Descriptor& child : manifest.manifests) {
      if (oci::IsManifestOrIndexType(child.media_type)) {
        PLUGCTL_RETURN_IF_ERROR(Walk(src, child, depth + 1, options, graph));
      } else {
        // Artifacts may list non-manifest content in an index; copy it as a blob.
        add_blob(child);
      }
    }
  } else {
    add_blob(*manifest.config);
    for (const oci::Descriptor& layer : manifest.layers) add_blob(layer);
  }
  graph.manifests.push_back(ManifestNode{desc, std::move(manifest.raw)});
  return OkStatus();
}

// Reports bytes as they stream and stops early once another transfer failed.
class ProgressReader : public Reader {
 public:
  ProgressReader(Reader& inner, const oci::Descriptor& desc, const CopyOptions& options,
                 const Cancellation& cancellation)
      : inner_(inner), desc_(desc), options_(options), cancellation_(cancellation) {}

  Result<size_t> Read(std::span<char> out) override {
    if (cancellation_.cancelled()) {
      return MakeError(ErrorCode::kCancelled, "cancelled after another transfer failed");
    }
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, inner_.Read(out));
    bytes_ += n;
    if (n > 0 && options_.progress) {
      options_.progress(
          ProgressEvent{.kind = ProgressEvent::Kind::kBytes, .descriptor = &desc_, .bytes = n});
    }
    return n;
  }

  uint64_t bytes() const { return bytes_; }

 private:
  Reader& inner_;
  const oci::Descriptor& desc_;
  const CopyOptions& options_;
  const Cancellation& cancellation_;
  uint64_t bytes_ = 0;
};

class BlobCopier {
 public:
  BlobCopier(store::Target& src, store::Target& dst, const CopyOptions& options, CopyResult& result)
      : src_(src), dst_(dst), options_(options), result_(result) {}

  // The first failure cancels the rest.
  Status Run(const std::vector<oci::Descriptor>& blobs) {
    return RunParallel(blobs.size(), options_.concurrency,
                       [&](size_t i, const Cancellation& cancellation) {
                         return CopyOne(blobs[i], cancellation);
                       });
  }

 private:
  Status CopyOne(const oci::Descriptor& desc, const Cancellation& cancellation) {
    auto context = [&](const Error& e) {
      return tl::unexpected(
          e.WithContext(fmt::format("copy {} ({}) from {} to {}", desc.digest.ToString(),
                                    desc.media_type, src_.Describe(), dst_.Describe())));
    };
    auto exists = dst_.Exists(desc);
    if (!exists) return context(exists.error());
    if (*exists) {
      Report(ProgressEvent::Kind::kSkipped, desc);
      std::lock_guard lock(mu_);
      ++result_.blobs_skipped;
      return OkStatus();
    }
    Report(ProgressEvent::Kind::kStarted, desc);
    auto mounted = TryMount(desc);
    if (!mounted) return context(mounted.error());
    if (*mounted) {
      Report(ProgressEvent::Kind::kFinished, desc);
      std::lock_guard lock(mu_);
      ++result_.blobs_mounted;
      return OkStatus();
    }
    // A transfer that fails transiently (a registry restarting, a reset the
    // session could not resume) starts over from the source.
    for (int attempt = 1;; ++attempt) {
      auto raw = src_.Fetch(desc);
      Status pushed = raw ? OkStatus() : Status(tl::unexpected(raw.error()));
      uint64_t bytes = 0;
      if (pushed) {
        // Verifying outermost lets the destination see it and not hash the bytes again.
        ProgressReader progress(**raw, desc, options_, cancellation);
        oci::VerifyingReader verifying(progress, desc, "source content");
        pushed = dst_.Push(desc, verifying);
        bytes = progress.bytes();
      }
      if (pushed) {
        Report(ProgressEvent::Kind::kFinished, desc);
        std::lock_guard lock(mu_);
        ++result_.blobs_copied;
        result_.bytes_copied += bytes;
        return OkStatus();
      }
      if (pushed.error().code() != ErrorCode::kUnavailable || attempt >= options_.blob_attempts ||
          cancellation.cancelled()) {
        return context(pushed.error());
      }
    }
  }

  // Blobs moving between repositories of one registry are mounted, not copied (the destination
  // declines, sending nothing, when the source is elsewhere).
  Result<bool> TryMount(const oci::Descriptor& desc) {
    store::Mounter* from = src_.mounter();
    store::Mounter* to = dst_.mounter();
    if (from == nullptr || to == nullptr) return false;
    return to->MountFrom(desc, from->mount_source());
  }

  void Report(ProgressEvent::Kind kind, const oci::Descriptor& desc) {
    if (options_.progress) options_.progress(ProgressEvent{.kind = kind, .descriptor = &desc});
  }

  store::Target& src_;
  store::Target& dst_;
  const CopyOptions& options_;
  CopyResult& result_;
  std::mutex mu_;  // guards result_
};

}  // namespace

Result<CopyResult> CopyGraph(store::Target& src, const oci::Descriptor& root, store::Target& dst,
                             const CopyOptions& options) {
  if (!oci::IsManifestOrIndexType(root.media_type)) {
    return MakeError(ErrorCode::kFailedPrecondition, "{} in {} is a {}, not a manifest or index",
                     root.digest.ToString(), src.Describe(), root.media_type);
  }
  Graph graph;
  PLUGCTL_RETURN_IF_ERROR(Walk(src, root, 0, options, graph));

  CopyResult result;
  result.root = root;
  result.manifests = graph.manifests.size();
  if (options.progress) {
    uint64_t total_bytes = 0;
    for (const auto& blob : graph.blobs) total_bytes += static_cast<uint64_t>(blob.size);
    options.progress(ProgressEvent{.kind = ProgressEvent::Kind::kPlanned,
                                   .total_blobs = graph.blobs.size(),
                                   .total_bytes = total_bytes});
  }
  BlobCopier copier(src, dst, options, result);
  PLUGCTL_RETURN_IF_ERROR(copier.Run(graph.blobs));

  // A registry stores a manifest PUT by tag under its digest too: the root goes up by its first
  // tag in one request instead of HEAD + PUT by digest + PUT by tag.
  store::TagPusher* tag_pusher = dst.tag_pusher();
  const bool root_by_tag = tag_pusher != nullptr && !options.tags.empty();

  // Post-order: a manifest is stored only once everything it names is.
  for (ManifestNode& node : graph.manifests) {
    if (root_by_tag && &node == &graph.manifests.back()) {
      StringReader reader(std::move(node.raw));
      Status pushed = tag_pusher->PushTagged(node.desc, reader, options.tags.front());
      if (!pushed) {
        return tl::unexpected(pushed.error().WithContext(
            fmt::format("push manifest {} as {} to {}", node.desc.digest.ToString(),
                        options.tags.front(), dst.Describe())));
      }
      continue;
    }
    PLUGCTL_ASSIGN_OR_RETURN(bool exists, dst.Exists(node.desc));
    if (exists) continue;
    StringReader reader(std::move(node.raw));
    Status pushed = dst.Push(node.desc, reader);
    if (!pushed) {
      return tl::unexpected(pushed.error().WithContext(
          fmt::format("push manifest {} to {}", node.desc.digest.ToString(), dst.Describe())));
    }
  }
  for (size_t i = root_by_tag ? 1 : 0; i < options.tags.size(); ++i) {
    const std::string& tag = options.tags[i];
    Status tagged = dst.Tag(root, tag);
    if (!tagged) {
      return tl::unexpected(
          tagged.error().WithContext(fmt::format("tag {} in {}", tag, dst.Describe())));
    }
  }
  return result;
}

Result<CopyResult> CopyImage(store::Target& src, std::string_view src_reference, store::Target& dst,
                             const CopyOptions& options) {
  auto root = src.Resolve(src_reference);
  if (!root) {
    return tl::unexpected(root.error().WithContext(
        fmt::format("resolve \"{}\" in {}", src_reference, src.Describe())));
  }
  return CopyGraph(src, *root, dst, options);
}

}  // namespace plugctl::transfer
