#include "plugctl/plugin/extract.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/base/io.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/store/content.h"

namespace plugctl::plugin {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kWasmName = "plugin.wasm";
// Same bound as the gateway (go-containerregistry follows nested indexes a few levels at most).
constexpr int kMaxIndexDepth = 4;
// Enough to see "ustar" at offset 257 of an uncompressed tar.
constexpr size_t kSniffBytes = 512;
// Tar entries named per layer in the "what the image holds" listing.
constexpr size_t kListedEntries = 12;
// Blobs read during extraction are kept for the gateway check up to this total.
constexpr uint64_t kCacheBudget = 512ull * 1024 * 1024;

// ---- names ---------------------------------------------------------------------------------

bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Splits "ll" / "ll-RR" (separator '-' or, when `allow_underscore`, '_') into its parts.
bool SplitLanguage(std::string_view lang, bool allow_underscore, std::string_view* primary,
                   std::string_view* region) {
  size_t sep = lang.find_first_of(allow_underscore ? "-_" : "-");
  *primary = lang.substr(0, sep);
  *region = sep == std::string_view::npos ? std::string_view() : lang.substr(sep + 1);
  if (primary->size() < 2 || primary->size() > 3 ||
      !std::all_of(primary->begin(), primary->end(), IsAlpha)) {
    return false;
  }
  if (sep == std::string_view::npos) return true;
  return region->size() >= 2 && region->size() <= 8 &&
         std::all_of(region->begin(), region->end(), IsAlnum);
}

bool IsReadmeName(std::string_view name) {
  if (name == "README.md") return true;
  if (!name.starts_with("README_") || !name.ends_with(".md")) return false;
  std::string_view lang = name.substr(7, name.size() - 7 - 3);
  std::string_view primary;
  std::string_view region;
  return SplitLanguage(lang, false, &primary, &region);
}

// Go's path/filepath.Base on a slash path, as the gateway applies it to tar entries.
std::string_view Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && oci::MediaTypeEquals(s.substr(0, prefix.size()), prefix);
}
bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         oci::MediaTypeEquals(s.substr(s.size() - suffix.size()), suffix);
}

// OCI and Docker layer types that hold a tar (plain, gzip, zstd, foreign, non-distributable).
bool IsTarLayerType(std::string_view media_type) {
  std::string mt = Lower(media_type);
  return (mt.starts_with("application/vnd.oci.image.layer.") ||
          mt.starts_with("application/vnd.docker.image.rootfs.")) &&
         mt.find(".tar") != std::string::npos;
}

std::string Quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

// ---- streams -------------------------------------------------------------------------------

enum class Sniffed { kWasm, kGzip, kZstd, kTar, kOther };

Sniffed Sniff(std::string_view p) {
  if (wasm::HasWasmMagic(p)) return Sniffed::kWasm;
  if (p.size() >= 2 && p[0] == '\x1f' && p[1] == '\x8b') return Sniffed::kGzip;
  if (p.size() >= 4 && p.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
    return Sniffed::kZstd;
  }
  if (p.size() >= 262 && p.substr(257, 5) == "ustar") return Sniffed::kTar;
  return Sniffed::kOther;
}
bool IsArchive(Sniffed s) {
  return s == Sniffed::kGzip || s == Sniffed::kZstd || s == Sniffed::kTar;
}

using ProgressFn = std::function<void(uint64_t)>;

// One layer, verified against its descriptor while read; the first error of the verified stream
// is kept so callers can tell a damaged layer (kDataLoss from here) from a malformed tar inside a
// genuine one.
class VerifiedLayerReader : public Reader {
 public:
  VerifiedLayerReader(std::unique_ptr<Reader> raw, const oci::Descriptor& desc, std::string what,
                      ProgressFn progress)
      : raw_(std::move(raw)),
        verifying_(*raw_, desc, std::move(what)),
        progress_(std::move(progress)) {}

  Result<size_t> Read(std::span<char> out) override {
    if (error_) return tl::unexpected(*error_);
    auto n = verifying_.Read(out);
    if (!n) {
      error_ = n.error();
      return n;
    }
    if (*n > 0 && progress_) progress_(*n);
    return n;
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  std::unique_ptr<Reader> raw_;
  oci::VerifyingReader verifying_;
  ProgressFn progress_;
  std::optional<Error> error_;
};

// A VerifiedLayerReader whose first bytes are read ahead (to sniff the content) and handed out
// again.
class LayerStream : public Reader {
 public:
  LayerStream(std::unique_ptr<Reader> raw, const oci::Descriptor& desc, std::string what,
              ProgressFn progress)
      : verified_(std::move(raw), desc, std::move(what), std::move(progress)),
        replay_(std::in_place, std::string(), verified_) {}

  Result<size_t> Read(std::span<char> out) override { return replay_->Read(out); }

  // Reads up to `n` bytes ahead (fewer only at the end of the layer); call before Read.
  Status Prime(size_t n) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string prefix, ReadUpTo(verified_, n));
    replay_.emplace(std::move(prefix), verified_);
    return OkStatus();
  }

  // Reads the rest of the layer so that its size and digest are checked.
  Status Drain() {
    std::string buffer(kCopyBufferSize, '\0');
    for (;;) {
      PLUGCTL_ASSIGN_OR_RETURN(size_t n,
                               verified_.Read(std::span<char>(buffer.data(), buffer.size())));
      if (n == 0) return OkStatus();
    }
  }

  const std::string& prefix() const { return replay_->prefix(); }
  const std::optional<Error>& error() const { return verified_.error(); }

 private:
  VerifiedLayerReader verified_;
  std::optional<ReplayReader> replay_;
};

// Hashes and counts what it writes to a staged file, keeping the first bytes.
class StagingSink : public Writer {
 public:
  StagingSink(Writer& out, uint64_t limit, std::string what)
      : out_(out), limit_(limit), what_(std::move(what)) {}

  Status Write(std::string_view data) override {
    if (size_ + data.size() > limit_) {
      return MakeError(ErrorCode::kResourceExhausted, "{} is larger than {} bytes", what_, limit_);
    }
    if (head_.size() < 8) head_.append(data.substr(0, 8 - head_.size()));
    hasher_.Update(data);
    size_ += data.size();
    return out_.Write(data);
  }

  uint64_t size() const { return size_; }
  const std::string& head() const { return head_; }
  oci::Digest Finish() { return hasher_.Finish(); }

 private:
  Writer& out_;
  uint64_t limit_;
  std::string what_;
  oci::Hasher hasher_;
  uint64_t size_ = 0;
  std::string head_;
};

// ---- a target that remembers what was read -------------------------------------------------

// Keeps the blobs read completely through it, so the gateway check that follows the extraction
// does not fetch them again. What it hands out from memory is verified again by its readers.
class CachingTarget : public store::Target {
 public:
  explicit CachingTarget(store::Target& inner) : inner_(inner) {}

  std::string Describe() const override { return inner_.Describe(); }
  Result<oci::Descriptor> Resolve(std::string_view reference) override {
    return inner_.Resolve(reference);
  }
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override {
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(desc.digest);
      if (it != cache_.end()) return std::unique_ptr<Reader>(new StringReader(it->second));
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Reader> raw, inner_.Fetch(desc));
    if (desc.size < 0 || !Reserve(static_cast<uint64_t>(desc.size))) return raw;
    return std::unique_ptr<Reader>(new TeeReader(std::move(raw), desc, this));
  }
  Result<bool> Exists(const oci::Descriptor& desc) override { return inner_.Exists(desc); }
  Status Push(const oci::Descriptor&, Reader&) override {
    return MakeError(ErrorCode::kUnimplemented, "read-only");
  }
  Status Tag(const oci::Descriptor&, std::string_view) override {
    return MakeError(ErrorCode::kUnimplemented, "read-only");
  }
  Result<std::vector<std::string>> Tags() override { return inner_.Tags(); }
  Status Commit() override { return OkStatus(); }

 private:
  class TeeReader : public Reader {
   public:
    TeeReader(std::unique_ptr<Reader> inner, const oci::Descriptor& desc, CachingTarget* owner)
        : inner_(std::move(inner)),
          digest_(desc.digest),
          size_(static_cast<uint64_t>(desc.size)),
          owner_(owner) {}
    ~TeeReader() override {
      if (!stored_) owner_->Release(size_);
    }
    Result<size_t> Read(std::span<char> out) override {
      PLUGCTL_ASSIGN_OR_RETURN(size_t n, inner_->Read(out));
      if (n > 0 && !overflow_) {
        if (buffer_.size() + n > size_) {
          overflow_ = true;
          buffer_.clear();
        } else {
          buffer_.append(out.data(), n);
        }
      }
      if (n == 0 && !overflow_ && !stored_ && buffer_.size() == size_) {
        stored_ = owner_->Store(digest_, std::move(buffer_));
      }
      return n;
    }

   private:
    std::unique_ptr<Reader> inner_;
    oci::Digest digest_;
    uint64_t size_;
    CachingTarget* owner_;
    std::string buffer_;
    bool overflow_ = false;
    bool stored_ = false;
  };

  bool Reserve(uint64_t n) {
    std::lock_guard lock(mu_);
    if (used_ + n > kCacheBudget) return false;
    used_ += n;
    return true;
  }
  void Release(uint64_t n) {
    std::lock_guard lock(mu_);
    used_ -= n;
  }
  // Takes over the reservation made for the blob; false if another reader stored it first.
  bool Store(const oci::Digest& digest, std::string bytes) {
    std::lock_guard lock(mu_);
    return cache_.emplace(digest, std::move(bytes)).second;
  }

  store::Target& inner_;
  std::mutex mu_;
  std::map<oci::Digest, std::string> cache_;
  uint64_t used_ = 0;
};

// ---- the output directory ------------------------------------------------------------------

bool PathExists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// ---- the extraction ------------------------------------------------------------------------

enum class Role {
  kSkip,
  kRawWasm,     // wasm media type: the whole layer is plugin.wasm
  kFile,        // metadata media type: the whole layer is `name`
  kTitledWasm,  // titled plugin.wasm: raw wasm or an archive, decided by its bytes
  kTitledFile,  // titled with a metadata name: the file itself, or an archive holding files
  kTar,         // a tar layer type
};

struct LayerPlan {
  Role role = Role::kSkip;
  std::string name;
};

struct Staged {
  std::unique_ptr<AtomicFileWriter> writer;
  ExtractedFile info;
};

struct StageOutcome {
  bool staged = false;
  // The source failed while being read (the layer stream or the tar inside it).
  std::optional<Error> source_error;
};

class Extractor {
 public:
  Extractor(store::Target& target, fs::path out_dir, const ExtractOptions& options)
      : target_(target), out_dir_(std::move(out_dir)), options_(options) {}

  Result<ExtractResult> Run(const oci::Descriptor& root) {
    if (out_dir_.empty()) return MakeError(ErrorCode::kInvalidArgument, "no output directory");
    if (!options_.force && PathExists(out_dir_ / kWasmName)) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "{} already exists: refusing to overwrite it (use --force)",
                       (out_dir_ / kWasmName).string());
    }
    result_.root = root;
    PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, ResolveImage(root));
    result_.shape = ClassifyManifest(manifest);

    std::vector<LayerPlan> plans;
    uint64_t total = 0;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      plans.push_back(PlanLayer(i, manifest.layers[i]));
      if (plans.back().role != Role::kSkip) total += static_cast<uint64_t>(manifest.layers[i].size);
    }
    summaries_.assign(manifest.layers.size(), {});
    total_ = total;
    if (options_.progress) options_.progress(0, total_);

    PLUGCTL_RETURN_IF_ERROR(dir_.Prepare(out_dir_));
    // The gateway reads the last layer: look there first; the first occurrence of a name wins.
    for (size_t i = manifest.layers.size(); i-- > 0;) {
      if (plans[i].role == Role::kSkip) continue;
      PLUGCTL_RETURN_IF_ERROR(ProcessLayer(i, manifest.layers[i], plans[i]));
    }

    auto wasm = staged_.find(std::string(kWasmName));
    if (wasm == staged_.end()) return NoWasmError(manifest);
    result_.wasm_sha256 = wasm->second.info.sha256;
    result_.wasm_size = wasm->second.info.size;

    std::vector<std::string> existing;
    for (auto& [name, staged] : staged_) {
      staged.info.replaced = PathExists(out_dir_ / name);
      if (staged.info.replaced) existing.push_back(name);
    }
    if (!existing.empty() && !options_.force) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "{} already has {}: refusing to overwrite (use --force)", out_dir_.string(),
                       fmt::join(existing, ", "));
    }
    if (options_.check_gateway) CheckGateway(root);
    PLUGCTL_RETURN_IF_ERROR(CommitAll());
    dir_.Keep();
    return std::move(result_);
  }

 private:
  Result<oci::Manifest> ResolveImage(const oci::Descriptor& root) {
    PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(target_, root));
    oci::Descriptor desc = root;
    for (int depth = 0; manifest.is_index(); ++depth) {
      if (depth == kMaxIndexDepth) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: indexes nested more than {} levels deep",
                         root.digest.ToString(), kMaxIndexDepth);
      }
      const oci::Descriptor* child = nullptr;
      std::vector<std::string> listed;
      for (const oci::Descriptor& d : manifest.manifests) {
        listed.push_back(d.platform ? d.platform->ToString() : "no platform (linux/amd64)");
        if (!child && EffectivePlatform(d).Matches(options_.platform)) child = &d;
      }
      if (!child) {
        return MakeError(
            ErrorCode::kNotFound, "index {} in {} has no {} manifest (it lists: {})",
            manifest.digest.ToString(), target_.Describe(), options_.platform.ToString(),
            listed.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(listed, ", ")));
      }
      result_.platform = EffectivePlatform(*child);
      desc = *child;
      PLUGCTL_ASSIGN_OR_RETURN(manifest, store::FetchManifest(target_, desc));
    }
    result_.manifest = desc;
    return manifest;
  }

  void Note(std::string note) { result_.notes.push_back(std::move(note)); }

  LayerPlan PlanLayer(size_t i, const oci::Descriptor& layer) {
    const std::string& mt = layer.media_type;
    const std::string title = layer.Title();
    if (oci::MediaTypeEquals(mt, oci::kWasmContentLayer) ||
        oci::MediaTypeEquals(mt, oci::kWasmToOciLayer)) {
      return {Role::kRawWasm, std::string(kWasmName)};
    }
    if (oci::MediaTypeEquals(mt, oci::kWasmSpec)) return {Role::kFile, "spec.yaml"};
    if (oci::MediaTypeEquals(mt, oci::kWasmIcon)) return {Role::kFile, "icon.png"};
    const bool titled_readme = IsReadmeName(title);
    if (oci::MediaTypeEquals(mt, oci::kWasmDoc)) {
      return {Role::kFile, titled_readme ? title : "README.md"};
    }
    if (StartsWithNoCase(mt, oci::kWasmDocLangPrefix) &&
        EndsWithNoCase(mt, oci::kWasmDocLangSuffix) &&
        mt.size() > oci::kWasmDocLangPrefix.size() + oci::kWasmDocLangSuffix.size()) {
      if (titled_readme) return {Role::kFile, title};
      std::string_view lang = std::string_view(mt).substr(
          oci::kWasmDocLangPrefix.size(),
          mt.size() - oci::kWasmDocLangPrefix.size() - oci::kWasmDocLangSuffix.size());
      if (auto name = ReadmeNameForLanguage(lang)) return {Role::kFile, *name};
      Note(fmt::format("layers[{}] ({}) skipped: \"{}\" is not a language tag", i, mt, lang));
      return {};
    }
    if (title == kWasmName) return {Role::kTitledWasm, title};
    if (IsPluginFileName(title)) return {Role::kTitledFile, title};
    if (IsTarLayerType(mt)) return {Role::kTar, ""};
    if (!title.empty()) {
      Note(fmt::format("layers[{}] ({}, title {}) skipped: not a plugin file", i, mt,
                       Quoted(title)));
    }
    return {};
  }

  std::string LayerWhat(size_t i, const oci::Descriptor& layer) const {
    return fmt::format("layers[{}] {}", i, layer.digest.ToString());
  }

  Status ProcessLayer(size_t i, const oci::Descriptor& layer, const LayerPlan& plan) {
    const std::string what = LayerWhat(i, layer);
    PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Reader> raw, target_.Fetch(layer));
    LayerStream stream(std::move(raw), layer, what, [this](uint64_t n) { Progress(n); });
    PLUGCTL_RETURN_IF_ERROR(stream.Prime(kSniffBytes));
    const Sniffed sniffed = Sniff(stream.prefix());

    Role role = plan.role;
    if (role == Role::kTitledWasm) {
      if (sniffed == Sniffed::kWasm) {
        role = Role::kRawWasm;
      } else if (IsArchive(sniffed) || IsTarLayerType(layer.media_type)) {
        role = Role::kTar;
      } else {
        rejected_.push_back(
            fmt::format("{} is titled plugin.wasm but is neither wasm nor a tar", what));
        summaries_[i] = "neither wasm nor a tar";
        role = Role::kSkip;
      }
    } else if (role == Role::kTitledFile) {
      role = IsArchive(sniffed) && IsTarLayerType(layer.media_type) ? Role::kTar : Role::kFile;
    } else if (role == Role::kTar && !IsArchive(sniffed) && !layer.Title().empty()) {
      // A file pushed under the default ORAS layer type ("notes.txt"): not ours.
      Note(fmt::format("layers[{}] ({}, title {}) skipped: not a plugin file", i, layer.media_type,
                       Quoted(layer.Title())));
      summaries_[i] = "not a tar";
      role = Role::kSkip;
    }

    switch (role) {
      case Role::kRawWasm:
        summaries_[i] = "raw wasm";
        PLUGCTL_RETURN_IF_ERROR(StageWholeLayer(i, layer, std::string(kWasmName), stream));
        break;
      case Role::kFile:
      case Role::kTitledFile:
        summaries_[i] = plan.name;
        PLUGCTL_RETURN_IF_ERROR(StageWholeLayer(i, layer, plan.name, stream));
        break;
      case Role::kTar:
      case Role::kTitledWasm:
        PLUGCTL_RETURN_IF_ERROR(ProcessTar(i, layer, stream));
        break;
      case Role::kSkip:
        break;
    }
    // Whatever was taken from the layer, the whole layer must match its descriptor.
    return stream.Drain();
  }

  Status StageWholeLayer(size_t i, const oci::Descriptor& layer, const std::string& name,
                         LayerStream& stream) {
    const bool wasm = name == kWasmName;
    const uint64_t limit = wasm ? options_.max_wasm_bytes : options_.max_file_bytes;
    const std::string what = LayerWhat(i, layer);
    if (staged_.contains(name)) {
      Note(fmt::format("{} also holds {}: the one from a later layer is used", what, name));
      return OkStatus();
    }
    if (layer.size < 0 || static_cast<uint64_t>(layer.size) > limit) {
      std::string why = fmt::format("{} ({}) is {} bytes, over the limit of {} bytes", what, name,
                                    layer.size, limit);
      if (wasm) {
        rejected_.push_back(std::move(why));
      } else {
        Note(why + "; skipped");
      }
      return OkStatus();
    }
    ExtractedFile info{.name = name, .layer_index = i, .layer = layer};
    PLUGCTL_ASSIGN_OR_RETURN(StageOutcome outcome, Stage(stream, std::move(info), limit, what));
    if (outcome.source_error) return tl::unexpected(*outcome.source_error);
    return OkStatus();
  }

  Status ProcessTar(size_t i, const oci::Descriptor& layer, LayerStream& stream) {
    const std::string what = LayerWhat(i, layer);
    std::vector<std::string> listed;
    uint64_t entries = 0;
    auto finish_summary = [&] {
      summaries_[i] = fmt::format("tar, {} entries{}{}{}", entries, listed.empty() ? "" : ": ",
                                  fmt::join(listed, ", "), entries > listed.size() ? ", …" : "");
    };
    // A tar problem inside a layer whose bytes are genuine is a note; a damaged layer an error.
    auto tar_problem = [&](const Error& error) -> Status {
      if (stream.error()) return tl::unexpected(*stream.error());
      PLUGCTL_RETURN_IF_ERROR(stream.Drain());
      Note(fmt::format("{} ({}): cannot read it as a tar: {}", what, layer.media_type,
                       error.message()));
      finish_summary();
      summaries_[i] += " (unreadable tar)";
      return OkStatus();
    };
    auto tar = archive::TarReader::Open(stream, what);
    if (!tar) return tar_problem(tar.error());
    for (;;) {
      auto next = (*tar)->Next();
      if (!next) return tar_problem(next.error());
      if (!next->has_value()) break;
      const archive::TarEntry& e = **next;
      ++entries;
      if (listed.size() < kListedEntries) listed.push_back(e.path);
      PLUGCTL_ASSIGN_OR_RETURN(std::optional<Error> source_error,
                               TarEntry(i, layer, e, (*tar)->data()));
      if (source_error) return tar_problem(*source_error);
    }
    finish_summary();
    return OkStatus();
  }

  // Handles one tar entry. Returns the error of reading the entry's data (a tar or layer
  // problem, which the caller sorts out); other failures (writing) are errors.
  Result<std::optional<Error>> TarEntry(size_t i, const oci::Descriptor& layer,
                                        const archive::TarEntry& e, Reader& data) {
    const std::string what = fmt::format("{} entry {}", LayerWhat(i, layer), Quoted(e.path));
    std::string name;
    if (Basename(e.path) == kWasmName) {
      if (staged_.contains(std::string(kWasmName))) return std::optional<Error>();
      if (e.type != archive::EntryType::kFile) {
        rejected_.push_back(
            fmt::format("{} is a {}, not a regular file", what, archive::EntryTypeName(e.type)));
        return std::optional<Error>();
      }
      if (!archive::SanitizeEntryPath(e.path)) {
        Note(
            fmt::format("{} has an unsafe path; only its basename is used (as the gateway does): "
                        "written as {}",
                        what, (out_dir_ / kWasmName).string()));
      }
      name = kWasmName;
    } else {
      auto clean = archive::SanitizeEntryPath(e.path);
      std::string_view base = Basename(e.path);
      if (!IsPluginFileName(base)) return std::optional<Error>();
      if (!clean) {
        Note(fmt::format("{} skipped: unsafe path", what));
        return std::optional<Error>();
      }
      // Only top-level files: a README.md deep in a base image's tree is not the plugin's.
      if (*clean != base || staged_.contains(*clean)) return std::optional<Error>();
      if (e.type != archive::EntryType::kFile) {
        Note(fmt::format("{} skipped: a {}, not a regular file", what,
                         archive::EntryTypeName(e.type)));
        return std::optional<Error>();
      }
      name = *clean;
    }
    const bool wasm = name == kWasmName;
    const uint64_t limit = wasm ? options_.max_wasm_bytes : options_.max_file_bytes;
    if (e.size > limit) {
      std::string why =
          fmt::format("{} is {} bytes, over the limit of {} bytes", what, e.size, limit);
      if (wasm) {
        rejected_.push_back(std::move(why));
      } else {
        Note(why + "; skipped");
      }
      return std::optional<Error>();
    }
    ExtractedFile info{.name = name, .layer_index = i, .layer = layer, .entry = e.path};
    PLUGCTL_ASSIGN_OR_RETURN(StageOutcome outcome, Stage(data, std::move(info), limit, what));
    return outcome.source_error;
  }

  // Streams `source` into a temporary file in the output directory, renamed in CommitAll.
  // plugin.wasm that does not start with "\0asm" is dropped (a rejected candidate).
  Result<StageOutcome> Stage(Reader& source, ExtractedFile info, uint64_t limit,
                             const std::string& what) {
    StageOutcome outcome;
    // Names come from the allow-list only; never a path from the image.
    if (!IsPluginFileName(info.name)) {
      return MakeError(ErrorCode::kInternal, "refusing to write {}", Quoted(info.name));
    }
    PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(out_dir_ / info.name));
    StagingSink sink(*writer, limit, what);
    std::string buffer(kCopyBufferSize, '\0');
    for (;;) {
      auto n = source.Read(std::span<char>(buffer.data(), buffer.size()));
      if (!n) {
        outcome.source_error = n.error();
        return outcome;
      }
      if (*n == 0) break;
      PLUGCTL_RETURN_IF_ERROR(sink.Write(std::string_view(buffer.data(), *n)));
    }
    if (info.name == kWasmName && (sink.size() < 8 || !wasm::HasWasmMagic(sink.head()))) {
      rejected_.push_back(fmt::format("{} does not start with \\0asm: not a wasm module", what));
      return outcome;
    }
    info.size = sink.size();
    info.sha256 = sink.Finish();
    std::string name = info.name;
    staged_.emplace(std::move(name), Staged{std::move(writer), std::move(info)});
    outcome.staged = true;
    return outcome;
  }

  void Progress(uint64_t n) {
    done_ += n;
    if (options_.progress) options_.progress(done_, total_);
  }

  tl::unexpected<Error> NoWasmError(const oci::Manifest& manifest) const {
    std::vector<std::string> held;
    if (manifest.config) held.push_back(fmt::format("config {}", manifest.config->media_type));
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      const oci::Descriptor& l = manifest.layers[i];
      std::string title = l.Title();
      held.push_back(fmt::format("layers[{}] {} ({} bytes{}{})", i, l.media_type, l.size,
                                 title.empty() ? "" : ", title " + Quoted(title),
                                 summaries_[i].empty() ? ", not read" : ", " + summaries_[i]));
    }
    if (manifest.layers.empty()) held.push_back("no layers");
    std::string where =
        fmt::format("{} (manifest {})", target_.Describe(), result_.manifest.digest.ToString());
    if (!rejected_.empty()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "no usable plugin.wasm in {}: {}; the image holds: {}", where,
                       fmt::join(rejected_, "; "), fmt::join(held, "; "));
    }
    return MakeError(ErrorCode::kNotFound,
                     "no plugin.wasm in {}: no wasm layer and no tar entry named plugin.wasm; the "
                     "image holds: {}",
                     where, fmt::join(held, "; "));
  }

  void CheckGateway(const oci::Descriptor& root) {
    LoadOptions load;
    load.max_wasm_bytes = options_.max_wasm_bytes;
    auto report = CheckGatewayLoadability(target_, root, load);
    if (!report) {
      Note("could not decide whether the gateway would load the image: " +
           report.error().message());
      return;
    }
    if (report->loadable && report->manifest && report->wasm_sha256 &&
        report->manifest->digest == result_.manifest.digest &&
        *report->wasm_sha256 != result_.wasm_sha256) {
      Note(fmt::format("the gateway would load a different plugin.wasm (sha256 {}) from {}",
                       report->wasm_sha256->hex(),
                       report->layer ? report->layer->digest.ToString() : "another layer"));
    }
    result_.gateway = std::move(*report);
  }

  Status CommitAll() {
    // plugin.wasm last: a directory that has it is complete.
    std::vector<Staged*> order;
    for (auto& [name, staged] : staged_) {
      if (name != kWasmName) order.push_back(&staged);
    }
    order.push_back(&staged_.at(std::string(kWasmName)));
    std::vector<fs::path> committed;
    for (Staged* s : order) {
      auto status = s->writer->Commit();
      if (!status) {
        // Take back the files this call added (replaced ones cannot be restored).
        for (const fs::path& p : committed) {
          std::error_code ec;
          fs::remove(p, ec);
        }
        return status;
      }
      if (!s->info.replaced) committed.push_back(out_dir_ / s->info.name);
    }
    result_.files.push_back(staged_.at(std::string(kWasmName)).info);
    for (auto& [name, staged] : staged_) {
      if (name != kWasmName) result_.files.push_back(staged.info);
    }
    return OkStatus();
  }

  CachingTarget target_;
  fs::path out_dir_;
  const ExtractOptions& options_;
  CreatedDirectory dir_;
  ExtractResult result_;
  std::map<std::string, Staged> staged_;
  // Why plugin.wasm candidates were not used.
  std::vector<std::string> rejected_;
  // Per layer: what reading it showed ("tar, 3 entries: …"); empty when not read.
  std::vector<std::string> summaries_;
  uint64_t done_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

bool IsPluginFileName(std::string_view name) {
  return name == kWasmName || name == "spec.yaml" || name == "icon.png" || IsReadmeName(name);
}

std::optional<std::string> ReadmeNameForLanguage(std::string_view lang) {
  std::string_view primary;
  std::string_view region;
  if (!SplitLanguage(lang, true, &primary, &region)) return std::nullopt;
  if (region.empty()) return "README_" + Upper(primary) + ".md";
  return "README_" + Lower(primary) + "-" + Upper(region) + ".md";
}

Result<ExtractResult> ExtractPlugin(store::Target& target, const oci::Descriptor& root,
                                    const std::filesystem::path& out_dir,
                                    const ExtractOptions& options) {
  Extractor extractor(target, out_dir, options);
  return extractor.Run(root);
}

}  // namespace plugctl::plugin
