#include "plugctl/server/registry_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <span>
#include <utility>

#include <openssl/rand.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/oci/reference.h"
#include "plugctl/store/oci_layout.h"

namespace plugctl::server {
namespace {

constexpr std::string_view kStateDir = ".plugctl";
constexpr std::string_view kUploadsDir = "uploads";
constexpr std::string_view kRepositoriesDir = "repositories";
constexpr std::string_view kLinksDir = "_links";
constexpr std::string_view kUploadData = "data";
constexpr std::string_view kUploadRepository = "repo";
constexpr std::string_view kIndexFile = "index.json";
constexpr size_t kUploadIdHexDigits = 32;
constexpr std::chrono::seconds kIndexCheckInterval{1};

tl::unexpected<ApiError> UploadUnknown(std::string_view id) {
  return MakeApiError(ApiCode::kBlobUploadUnknown,
                      fmt::format("upload \"{}\" not found", PrintableForMessage(id, 64)));
}

tl::unexpected<ApiError> Internal(const Error& error) {
  return MakeApiError(ApiCode::kInternal, error.message());
}

std::string ErrnoText(int err) { return std::strerror(err); }

bool IsValidRepository(std::string_view name) { return oci::IsValidRepositoryName(name); }

bool IsUploadId(std::string_view id) {
  if (id.size() != kUploadIdHexDigits) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// docker's rule (oci/reference.h): a first component with '.' or ':' or equal to "localhost".
bool LooksLikeHost(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost";
}

struct MappedName {
  std::string repository;
  std::string tag;
  bool had_host = false;
};

// An index.json name → repository and tag (the banner's mapping); nullopt when it maps to none.
std::optional<MappedName> MapRefName(std::string_view name, const std::string& default_repo) {
  if (name.empty() || name.find('@') != std::string_view::npos) return std::nullopt;
  MappedName out;
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  std::string_view repo;
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    repo = name.substr(0, colon);
    out.tag = std::string(name.substr(colon + 1));
  } else if (slash == std::string_view::npos) {
    repo = default_repo;
    out.tag = std::string(name);
  } else {
    return std::nullopt;  // a name without a tag
  }
  size_t first_slash = repo.find('/');
  if (first_slash != std::string_view::npos && LooksLikeHost(repo.substr(0, first_slash))) {
    repo.remove_prefix(first_slash + 1);
    out.had_host = true;
  }
  out.repository = std::string(repo);
  if (!IsValidRepository(out.repository) || !oci::ValidateTag(out.tag)) return std::nullopt;
  return out;
}

std::string AnnotationOf(const oci::Descriptor& d, std::string_view key) {
  auto it = d.annotations.find(std::string(key));
  return it == d.annotations.end() ? std::string() : it->second;
}

// The name an entry is served under: its ref name, or its containerd image name when it has no
// ref name or only a plain tag (docker save writes "1.0" beside "docker.io/library/x:1.0").
std::string EntryName(const oci::Descriptor& d) {
  std::string ref = AnnotationOf(d, oci::kAnnotationRefName);
  std::string containerd = AnnotationOf(d, oci::kAnnotationContainerdImageName);
  if (!containerd.empty() && (ref.empty() || ref.find_first_of(":/") == std::string::npos)) {
    return containerd;
  }
  return ref;
}

// The repository an entry without a name belongs to ("" when none).
std::string UntaggedRepository(const oci::Descriptor& d) {
  if (!EntryName(d).empty()) return "";
  std::string repo = AnnotationOf(d, kRepositoryAnnotation);
  return IsValidRepository(repo) ? repo : "";
}

// The ref name the store writes for a new tag; it maps back to (repo, tag).
std::string RefNameFor(const std::string& repo, const std::string& tag) {
  size_t slash = repo.find('/');
  if (slash != std::string::npos && LooksLikeHost(std::string_view(repo).substr(0, slash))) {
    return "localhost/" + repo + ":" + tag;
  }
  return repo + ":" + tag;
}

struct IndexStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const IndexStamp&) const = default;
};

IndexStamp StampOf(const fs::path& path) {
  IndexStamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  return s;
}

bool IsRegularFile(const fs::path& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Marks an existing blob as just written: gc keeps blobs younger than its grace period, and a
// push that found its blob already stored (an old orphan) is as much in flight as one that
// wrote it. Best effort: a failure only shortens the protection.
void TouchBlob(const fs::path& path) { ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

// What parsing a repository's manifests tells: everything they reach, and their subjects.
struct RepoDerived {
  std::map<oci::Digest, oci::Descriptor> reachable;
  std::multimap<oci::Digest, oci::Descriptor> referrers;  // subject → referrer
};

struct RepoView {
  std::map<std::string, oci::Descriptor> tags;
  // The plugins.properties key a tag's entry carries (oci::kAnnotationPluginName), by tag.
  std::map<std::string, std::string> listed_names;
  // Every manifest with an entry in this repository, tagged or not.
  std::map<oci::Digest, oci::Descriptor> manifests;
};

// An immutable snapshot of index.json as repositories and tags.
struct View {
  IndexStamp stamp;
  uint64_t generation = 0;
  std::map<std::string, RepoView> repos;
  std::vector<std::string> warnings;
  // Filled lazily (parsing manifests is for blob reads and referrers, not the manifest path).
  mutable std::mutex derived_mu;
  mutable std::map<std::string, std::shared_ptr<const RepoDerived>> derived;
};

oci::Descriptor EntryDescriptor(const oci::Descriptor& d) {
  oci::Descriptor out;
  out.media_type = d.media_type;
  out.digest = d.digest;
  out.size = d.size;
  out.artifact_type = d.artifact_type;
  return out;
}

std::shared_ptr<View> BuildView(const std::vector<oci::Descriptor>& entries,
                                const std::string& default_repo, const IndexStamp& stamp) {
  auto view = std::make_shared<View>();
  view->stamp = stamp;
  struct Candidate {
    std::string name;
    bool had_host;
    const oci::Descriptor* desc;
  };
  std::map<std::pair<std::string, std::string>, std::vector<Candidate>> candidates;
  for (const oci::Descriptor& d : entries) {
    std::string name = EntryName(d);
    if (name.empty()) {
      std::string repo = UntaggedRepository(d);
      if (repo.empty()) {
        view->warnings.push_back(fmt::format(
            "index.json: entry {} has no ref name or repository; ignored", d.digest.ToString()));
        continue;
      }
      view->repos[repo].manifests.emplace(d.digest, EntryDescriptor(d));
      continue;
    }
    std::optional<MappedName> mapped = MapRefName(name, default_repo);
    if (!mapped) {
      view->warnings.push_back(
          fmt::format("index.json: \"{}\" ({}) maps to no repository and tag; ignored",
                      PrintableForMessage(name), d.digest.ToString()));
      continue;
    }
    candidates[{mapped->repository, mapped->tag}].push_back({name, mapped->had_host, &d});
  }
  for (auto& [key, list] : candidates) {
    std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
      if (a.had_host != b.had_host) return !a.had_host;
      return a.name < b.name;
    });
    const Candidate& winner = list.front();
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i].name == winner.name && list[i].desc->digest == winner.desc->digest) continue;
      view->warnings.push_back(
          fmt::format("index.json: \"{}\" ({}) and \"{}\" ({}) both map to {}:{}; serving \"{}\"",
                      PrintableForMessage(winner.name), winner.desc->digest.ToString(),
                      PrintableForMessage(list[i].name), list[i].desc->digest.ToString(), key.first,
                      key.second, PrintableForMessage(winner.name)));
    }
    RepoView& repo = view->repos[key.first];
    repo.tags[key.second] = EntryDescriptor(*winner.desc);
    if (auto listed = winner.desc->annotations.find(std::string(oci::kAnnotationPluginName));
        listed != winner.desc->annotations.end()) {
      repo.listed_names[key.second] = listed->second;
    }
    repo.manifests.emplace(winner.desc->digest, EntryDescriptor(*winner.desc));
  }
  return view;
}

// Which entries of index.json belong to `repo` with `digest` (tagged or not).
bool EntryInRepository(const oci::Descriptor& d, const std::string& repo,
                       const std::string& default_repo) {
  std::string name = EntryName(d);
  if (name.empty()) return UntaggedRepository(d) == repo;
  std::optional<MappedName> mapped = MapRefName(name, default_repo);
  return mapped && mapped->repository == repo;
}

Status FsyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return MakeError(ErrorCode::kInternal, "open {}: {}", dir.string(), ErrnoText(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return MakeError(ErrorCode::kInternal, "fsync {}: {}", dir.string(), ErrnoText(err));
  return OkStatus();
}

Status WriteAllFd(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError(ErrorCode::kInternal, "write {}: {}", path.string(), ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// Feeds the first `length` bytes of `path` to `hasher` (an upload after a restart or a failed
// chunk, or finished with another algorithm).
Status HashFilePrefix(const fs::path& path, uint64_t length, oci::Hasher& hasher) {
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
  std::string buffer(kCopyBufferSize, '\0');
  uint64_t left = length;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader->Read(std::span<char>(buffer.data(), want)));
    if (n == 0) {
      return MakeError(ErrorCode::kDataLoss, "{}: shorter than its {} bytes", path.string(),
                       length);
    }
    hasher.Update(std::string_view(buffer.data(), n));
    left -= n;
  }
  return OkStatus();
}

Result<std::string> NewUploadId() {
  unsigned char bytes[kUploadIdHexDigits / 2];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return MakeError(ErrorCode::kInternal, "RAND_bytes failed");
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

// Everything `roots` reach (not through subjects): the gc's mark phase and a repository's
// membership. Unreadable or unparsable manifests reach nothing more.
void Reach(const fs::path& dir, const std::vector<oci::Descriptor>& roots,
           std::map<oci::Digest, oci::Descriptor>& reached,
           std::multimap<oci::Digest, oci::Descriptor>* referrers) {
  std::deque<std::pair<oci::Descriptor, bool>> queue;  // (manifest, is a root)
  for (const oci::Descriptor& root : roots) {
    if (reached.emplace(root.digest, root).second) queue.emplace_back(root, true);
  }
  while (!queue.empty()) {
    auto [desc, is_root] = std::move(queue.front());
    queue.pop_front();
    fs::path path = dir / "blobs" / std::string(desc.digest.algorithm_name()) / desc.digest.hex();
    Result<std::string> raw = ReadFileBounded(path, oci::kMaxManifestBytes);
    if (!raw) continue;
    // The entry's media type helps OCI bodies without "mediaType"; a wrong one must not hide
    // what the body references.
    Result<oci::Manifest> m = oci::Manifest::Parse(*raw, desc.media_type);
    if (!m) m = oci::Manifest::Parse(std::move(*raw));
    if (!m) continue;
    if (m->config) reached.emplace(m->config->digest, *m->config);
    for (const oci::Descriptor& layer : m->layers) reached.emplace(layer.digest, layer);
    for (const oci::Descriptor& child : m->manifests) {
      if (reached.emplace(child.digest, child).second) queue.emplace_back(child, false);
    }
    if (referrers && is_root && m->subject) {
      referrers->emplace(m->subject->digest, m->ReferrerDescriptor(desc.digest));
    }
  }
}

struct Upload {
  std::mutex mu;
  std::string id;
  std::string repository;
  uint64_t offset = 0;
  // sha256 of bytes [0, offset); null after a restart or a failed chunk (then re-hashed from
  // the file when next needed).
  std::unique_ptr<oci::Hasher> hasher;
  Clock::TimePoint touched;
  bool gone = false;  // finished, cancelled or reclaimed: the id is dead
};

}  // namespace

ApiStatus ValidateRepositoryName(std::string_view name) {
  if (!IsValidRepository(name)) {
    return MakeApiError(ApiCode::kNameInvalid,
                        fmt::format("invalid repository name \"{}\"", PrintableForMessage(name)));
  }
  return {};
}

BlobFile::BlobFile(BlobFile&& other) noexcept
    : digest(std::move(other.digest)), size(other.size), fd(std::exchange(other.fd, -1)) {}

BlobFile& BlobFile::operator=(BlobFile&& other) noexcept {
  if (this != &other) {
    if (fd >= 0) ::close(fd);
    digest = std::move(other.digest);
    size = other.size;
    fd = std::exchange(other.fd, -1);
  }
  return *this;
}

BlobFile::~BlobFile() {
  if (fd >= 0) ::close(fd);
}

struct RegistryStore::Impl {
  fs::path dir;
  StoreOptions options;
  std::shared_ptr<Clock> real_clock;
  Clock* clock = nullptr;
  std::unique_ptr<store::OciLayoutTarget> layout;

  // Guards view and the manifest cache.
  mutable std::shared_mutex mu;
  std::shared_ptr<const View> view;
  struct CacheEntry {
    std::shared_ptr<const std::string> bytes;
    mutable std::atomic<uint64_t> last_use{0};
  };
  std::map<oci::Digest, CacheEntry> cache;
  size_t cache_bytes = 0;
  mutable std::atomic<uint64_t> use_counter{0};

  // Why the last reload failed ("" when it did not); guarded by mu.
  std::string reload_error;

  // One reload or index.json edit at a time (in this process; the layout lock covers others).
  std::mutex reload_mu;
  std::atomic<int64_t> next_check{0};
  std::atomic<uint64_t> generations{0};

  std::mutex uploads_mu;
  std::map<std::string, std::shared_ptr<Upload>> uploads;

  fs::path IndexPath() const { return dir / kIndexFile; }
  fs::path BlobPath(const oci::Digest& d) const { return layout->BlobPath(d); }
  fs::path UploadsRoot() const { return dir / kStateDir / kUploadsDir; }
  fs::path UploadDir(const std::string& id) const { return UploadsRoot() / id; }
  fs::path RepoDir(const std::string& repo) const {
    return dir / kStateDir / kRepositoriesDir / repo;
  }
  fs::path LinkPath(const std::string& repo, const oci::Digest& d) const {
    return RepoDir(repo) / kLinksDir / std::string(d.algorithm_name()) / d.hex();
  }

  std::shared_ptr<const View> CurrentView() const {
    std::shared_lock lock(mu);
    return view;
  }

  // Reads index.json into a new view. The caller holds reload_mu.
  Status ReloadLocked() {
    IndexStamp stamp = StampOf(IndexPath());
    Result<std::vector<oci::Descriptor>> entries = layout->Entries();
    if (!entries) {
      std::unique_lock lock(mu);
      reload_error = entries.error().message();
      return tl::unexpected(entries.error());
    }
    std::shared_ptr<View> fresh = BuildView(*entries, options.default_repository, stamp);
    fresh->generation = generations.fetch_add(1) + 1;
    std::shared_ptr<const View> old = CurrentView();
    {
      // What a repository's manifests reach depends only on which manifests they are (content
      // addressed), so repositories an edit did not touch keep what was parsed for them.
      std::lock_guard derived_lock(old->derived_mu);
      for (const auto& [name, derived] : old->derived) {
        auto before = old->repos.find(name);
        auto after = fresh->repos.find(name);
        bool same_roots =
            before != old->repos.end() && after != fresh->repos.end() &&
            std::equal(before->second.manifests.begin(), before->second.manifests.end(),
                       after->second.manifests.begin(), after->second.manifests.end(),
                       [](const auto& x, const auto& y) { return x.first == y.first; });
        if (same_roots) fresh->derived.emplace(name, derived);
      }
    }
    std::unique_lock lock(mu);
    view = std::move(fresh);
    reload_error.clear();
    return OkStatus();
  }

  // Notices writes of other processes, checking index.json at most once per interval. A
  // failed reload (an external writer broke index.json) keeps serving the last good view.
  void MaybeReload() {
    int64_t now = clock->Now().time_since_epoch().count();
    if (now < next_check.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(reload_mu, std::try_to_lock);
    if (!lock.owns_lock()) return;  // another thread is checking or editing
    next_check.store(
        now + std::chrono::duration_cast<Clock::TimePoint::duration>(kIndexCheckInterval).count(),
        std::memory_order_relaxed);
    if (StampOf(IndexPath()) == CurrentView()->stamp) return;
    (void)ReloadLocked();
  }

  std::shared_ptr<const RepoDerived> Derived(const View& v, const std::string& repo) const {
    std::lock_guard lock(v.derived_mu);
    auto it = v.derived.find(repo);
    if (it != v.derived.end()) return it->second;
    auto derived = std::make_shared<RepoDerived>();
    auto r = v.repos.find(repo);
    if (r != v.repos.end()) {
      std::vector<oci::Descriptor> roots;
      for (const auto& [digest, desc] : r->second.manifests) roots.push_back(desc);
      Reach(dir, roots, derived->reachable, &derived->referrers);
    }
    v.derived.emplace(repo, derived);
    return derived;
  }

  bool RepositoryExists(const View& v, const std::string& repo) const {
    if (v.repos.count(repo) != 0) return true;
    std::error_code ec;
    return fs::is_directory(RepoDir(repo) / kLinksDir, ec);
  }

  bool HasLink(const std::string& repo, const oci::Digest& d) const {
    return IsRegularFile(LinkPath(repo, d));
  }

  // Whether `d` is in `repo` (banner: a link, an entry, or reachable from an entry).
  bool IsMember(const View& v, const std::string& repo, const oci::Digest& d) const {
    auto r = v.repos.find(repo);
    if (r != v.repos.end() && r->second.manifests.count(d) != 0) return true;
    if (HasLink(repo, d)) return true;
    if (r == v.repos.end()) return false;
    return Derived(v, repo)->reachable.count(d) != 0;
  }

  Status WriteLink(const std::string& repo, const oci::Digest& d) {
    fs::path path = LinkPath(repo, d);
    PLUGCTL_RETURN_IF_ERROR(CreateDirectories(path.parent_path()));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return MakeError(ErrorCode::kInternal, "create {}: {}", path.string(), ErrnoText(errno));
    }
    ::close(fd);
    return OkStatus();
  }

  std::shared_ptr<const std::string> CachedBytes(const oci::Digest& d) const {
    std::shared_lock lock(mu);
    auto it = cache.find(d);
    if (it == cache.end()) return nullptr;
    it->second.last_use.store(++use_counter, std::memory_order_relaxed);
    return it->second.bytes;
  }

  void CacheInsert(const oci::Digest& d, std::shared_ptr<const std::string> bytes) {
    if (bytes->size() > options.manifest_cache_bytes) return;
    std::unique_lock lock(mu);
    auto [it, inserted] = cache.try_emplace(d);
    if (!inserted) return;
    it->second.bytes = bytes;
    it->second.last_use.store(++use_counter, std::memory_order_relaxed);
    cache_bytes += bytes->size();
    if (cache_bytes <= options.manifest_cache_bytes) return;
    // Over budget: drop the least recently used down to three quarters, so eviction is rare.
    std::vector<std::pair<uint64_t, oci::Digest>> order;
    for (const auto& [digest, entry] : cache) order.emplace_back(entry.last_use.load(), digest);
    std::sort(order.begin(), order.end());
    for (const auto& [use, digest] : order) {
      if (cache_bytes <= options.manifest_cache_bytes / 4 * 3) break;
      auto victim = cache.find(digest);
      cache_bytes -= victim->second.bytes->size();
      cache.erase(victim);
    }
  }

  // The manifest's bytes, from the cache or (verified) from its blob. `keep`: false when the
  // digest may not name a manifest at all (it is cached once it parsed as one).
  ApiResult<std::shared_ptr<const std::string>> ManifestBytes(const oci::Digest& d,
                                                              bool keep = true) {
    if (auto bytes = CachedBytes(d)) return bytes;
    fs::path path = BlobPath(d);
    Result<std::string> raw = ReadFileBounded(path, oci::kMaxManifestBytes);
    if (!raw) {
      if (raw.error().code() == ErrorCode::kNotFound) {
        return MakeApiError(ApiCode::kManifestUnknown,
                            fmt::format("manifest {} is not stored", d.ToString()));
      }
      return Internal(raw.error());
    }
    if (oci::Digest::Of(*raw, d.algorithm()) != d) {
      return MakeApiError(ApiCode::kInternal,
                          fmt::format("{}: content does not match its digest", path.string()));
    }
    auto bytes = std::make_shared<const std::string>(std::move(*raw));
    if (keep) CacheInsert(d, bytes);
    return bytes;
  }

  // Changes index.json through the layout (under its lock) and reloads the view.
  Status Edit(const std::function<Result<store::OciLayoutTarget::EntryEdit>(
                  const std::vector<oci::Descriptor>&)>& edit) {
    std::lock_guard lock(reload_mu);
    Status st = layout->EditEntries(edit);
    Status reloaded = ReloadLocked();
    PLUGCTL_RETURN_IF_ERROR(st);
    return reloaded;
  }

  // Uploads ------------------------------------------------------------------------------

  ApiResult<std::shared_ptr<Upload>> NewUpload(const std::string& repo) {
    Result<std::string> id = NewUploadId();
    if (!id) return Internal(id.error());
    fs::path updir = UploadDir(*id);
    if (Status st = CreateDirectories(updir); !st) return Internal(st.error());
    if (Status st = WriteFileAtomic(updir / kUploadRepository, repo); !st) {
      (void)RemoveAll(updir);
      return Internal(st.error());
    }
    int fd = ::open((updir / kUploadData).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::string msg =
          fmt::format("create {}: {}", (updir / kUploadData).string(), ErrnoText(errno));
      (void)RemoveAll(updir);
      return MakeApiError(ApiCode::kInternal, msg);
    }
    ::close(fd);
    auto upload = std::make_shared<Upload>();
    upload->id = *id;
    upload->repository = repo;
    upload->hasher = std::make_unique<oci::Hasher>();
    upload->touched = clock->Now();
    std::lock_guard lock(uploads_mu);
    uploads[*id] = upload;
    return upload;
  }

  // An upload of `repo` by id: in memory, or left on disk by an earlier process.
  ApiResult<std::shared_ptr<Upload>> FindUpload(const std::string& repo, std::string_view id) {
    auto unknown = [&] { return UploadUnknown(id); };
    if (!IsUploadId(id)) return unknown();
    std::lock_guard lock(uploads_mu);
    auto it = uploads.find(std::string(id));
    if (it != uploads.end()) {
      if (it->second->repository != repo) return unknown();
      return it->second;
    }
    fs::path updir = UploadDir(std::string(id));
    Result<std::string> owner =
        ReadFileBounded(updir / kUploadRepository, 256);  // a name is ≤ 255 bytes
    if (!owner || *owner != repo) return unknown();
    Result<uint64_t> size = FileSize(updir / kUploadData);
    if (!size) return unknown();
    auto upload = std::make_shared<Upload>();
    upload->id = std::string(id);
    upload->repository = repo;
    upload->offset = *size;
    upload->touched = clock->Now();
    uploads[upload->id] = upload;
    return upload;
  }

  // Removes an upload whose mutex the caller holds.
  void DiscardLocked(Upload& upload) {
    upload.gone = true;
    (void)RemoveAll(UploadDir(upload.id));
    std::lock_guard lock(uploads_mu);
    auto it = uploads.find(upload.id);
    if (it != uploads.end() && it->second.get() == &upload) uploads.erase(it);
  }

  ApiStatus EnsureHasher(Upload& upload) {
    if (upload.hasher) return {};
    // Re-hashing into a fresh Hasher needs the bytes again: Hasher cannot be copied or resumed.
    auto hasher = std::make_unique<oci::Hasher>();
    if (Status st = HashFilePrefix(UploadDir(upload.id) / kUploadData, upload.offset, *hasher);
        !st) {
      return Internal(st.error());
    }
    upload.hasher = std::move(hasher);
    return {};
  }

  // Appends `body` to an upload whose mutex the caller holds. On failure the upload stays at
  // its previous offset.
  ApiStatus AppendLocked(Upload& upload, std::optional<ChunkRange> range, Reader& body) {
    std::optional<uint64_t> expected;
    if (range) {
      if (range->start != upload.offset || range->end < range->start) {
        return MakeApiError(
            ApiCode::kBlobUploadInvalid,
            fmt::format("chunk range {}-{} does not continue the upload at offset {}", range->start,
                        range->end, upload.offset),
            416);
      }
      expected = range->end - range->start + 1;
    }
    if (ApiStatus st = EnsureHasher(upload); !st) return st;
    fs::path data = UploadDir(upload.id) / kUploadData;
    int fd = ::open(data.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return MakeApiError(ApiCode::kInternal,
                          fmt::format("open {}: {}", data.string(), ErrnoText(errno)));
    }
    // Cut what a failed earlier chunk (or a crash) may have left past the offset.
    if (::ftruncate(fd, static_cast<off_t>(upload.offset)) != 0 ||
        ::lseek(fd, static_cast<off_t>(upload.offset), SEEK_SET) < 0) {
      std::string msg = fmt::format("seek {}: {}", data.string(), ErrnoText(errno));
      ::close(fd);
      return MakeApiError(ApiCode::kInternal, msg);
    }
    std::string buffer(kCopyBufferSize, '\0');
    uint64_t written = 0;
    std::optional<ApiError> failure;
    for (;;) {
      Result<size_t> n = body.Read(std::span<char>(buffer.data(), buffer.size()));
      if (!n) {
        failure = ApiError{n.error().code() == ErrorCode::kResourceExhausted
                               ? ApiCode::kTooLarge
                               : ApiCode::kBlobUploadInvalid,
                           fmt::format("reading the upload body: {}", n.error().message())};
        break;
      }
      if (*n == 0) break;
      if (expected && written + *n > *expected) {
        failure = ApiError{ApiCode::kSizeInvalid,
                           fmt::format("chunk is longer than its range's {} bytes", *expected)};
        break;
      }
      std::string_view chunk(buffer.data(), *n);
      if (Status st = WriteAllFd(fd, chunk, data); !st) {
        failure = ApiError{ApiCode::kInternal, st.error().message()};
        break;
      }
      upload.hasher->Update(chunk);
      written += *n;
    }
    if (!failure && expected && written != *expected) {
      failure = ApiError{ApiCode::kSizeInvalid,
                         fmt::format("chunk has {} bytes, its range {}", written, *expected)};
    }
    if (failure) {
      // The hasher saw bytes that are being taken back.
      if (::ftruncate(fd, static_cast<off_t>(upload.offset)) != 0) {
        failure->message += fmt::format("; truncate {}: {}", data.string(), ErrnoText(errno));
      }
      ::close(fd);
      upload.hasher.reset();
      return tl::unexpected(std::move(*failure));
    }
    ::close(fd);
    upload.offset += written;
    upload.touched = clock->Now();
    return {};
  }

  // Verifies a complete upload (mutex held) and moves it into blobs/; the upload is gone after,
  // whatever the outcome.
  ApiResult<oci::Descriptor> FinishLocked(Upload& upload, const oci::Digest& digest,
                                          std::optional<uint64_t> length) {
    struct Discard {
      Impl* impl;
      Upload& upload;
      ~Discard() { impl->DiscardLocked(upload); }
    } discard{this, upload};
    if (length && *length != upload.offset) {
      return MakeApiError(
          ApiCode::kSizeInvalid,
          fmt::format("upload has {} bytes, not the {} declared", upload.offset, *length));
    }
    fs::path data = UploadDir(upload.id) / kUploadData;
    oci::Digest actual = digest;
    if (digest.algorithm() == oci::DigestAlgorithm::kSha256) {
      if (ApiStatus st = EnsureHasher(upload); !st) return tl::unexpected(st.error());
      actual = upload.hasher->Finish();
      upload.hasher.reset();
    } else {
      oci::Hasher hasher(digest.algorithm());
      if (Status st = HashFilePrefix(data, upload.offset, hasher); !st) return Internal(st.error());
      actual = hasher.Finish();
    }
    if (actual != digest) {
      return MakeApiError(
          ApiCode::kDigestInvalid,
          fmt::format("upload hashes to {}, not {}", actual.ToString(), digest.ToString()));
    }
    fs::path blob = BlobPath(digest);
    if (IsRegularFile(blob)) {
      TouchBlob(blob);
    } else {
      int fd = ::open(data.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::fsync(fd) != 0) {
        std::string msg = fmt::format("fsync {}: {}", data.string(), ErrnoText(errno));
        if (fd >= 0) ::close(fd);
        return MakeApiError(ApiCode::kInternal, msg);
      }
      ::close(fd);
      if (Status st = CreateDirectories(blob.parent_path()); !st) return Internal(st.error());
      if (::rename(data.c_str(), blob.c_str()) != 0) {
        return MakeApiError(ApiCode::kInternal, fmt::format("rename {} to {}: {}", data.string(),
                                                            blob.string(), ErrnoText(errno)));
      }
      if (Status st = FsyncDirectory(blob.parent_path()); !st) return Internal(st.error());
    }
    if (Status st = WriteLink(upload.repository, digest); !st) return Internal(st.error());
    oci::Descriptor desc;
    desc.media_type = "application/octet-stream";
    desc.digest = digest;
    desc.size = static_cast<int64_t>(upload.offset);
    return desc;
  }

  size_t Reclaim() {
    const Clock::TimePoint now = clock->Now();
    std::vector<std::shared_ptr<Upload>> candidates;
    {
      std::lock_guard lock(uploads_mu);
      for (const auto& [id, upload] : uploads) candidates.push_back(upload);
    }
    size_t removed = 0;
    for (const auto& upload : candidates) {
      std::unique_lock lock(upload->mu, std::try_to_lock);
      if (!lock.owns_lock() || upload->gone) continue;  // in use: not stale
      if (now - upload->touched < options.stale_upload_age) continue;
      DiscardLocked(*upload);
      ++removed;
    }
    return removed;
  }

  // At Open: uploads of earlier processes become known, aged by their file times; the stale
  // ones (and foreign junk) go.
  void LoadUploads() {
    std::error_code ec;
    const auto sys_now = fs::file_time_type::clock::now();
    const Clock::TimePoint now = clock->Now();
    for (fs::directory_iterator it(UploadsRoot(), ec), end; !ec && it != end; it.increment(ec)) {
      std::string id = it->path().filename().string();
      if (!IsUploadId(id)) continue;
      std::error_code ec2;
      auto mtime = fs::last_write_time(it->path() / kUploadData, ec2);
      Result<std::string> repo = ReadFileBounded(it->path() / kUploadRepository, 512);
      Result<uint64_t> size = FileSize(it->path() / kUploadData);
      if (ec2 || !repo || !IsValidRepository(*repo) || !size) {
        (void)RemoveAll(it->path());  // an upload interrupted while being created
        continue;
      }
      auto age = std::chrono::duration_cast<std::chrono::seconds>(sys_now - mtime);
      if (age >= options.stale_upload_age) {
        (void)RemoveAll(it->path());
        continue;
      }
      auto upload = std::make_shared<Upload>();
      upload->id = id;
      upload->repository = *repo;
      upload->offset = *size;
      upload->touched = now - std::max(age, std::chrono::seconds(0));
      std::lock_guard lock(uploads_mu);
      uploads[id] = upload;
    }
  }
};

namespace {

struct ParsedReference {
  std::optional<oci::Digest> digest;
  std::string tag;
};

// A manifest reference: a digest when it has ':' (DIGEST_INVALID if malformed), else a tag
// (`bad_tag` if invalid).
ApiResult<ParsedReference> ParseReference(std::string_view reference, ApiCode bad_tag) {
  ParsedReference out;
  if (reference.find(':') != std::string_view::npos) {
    Result<oci::Digest> d = oci::Digest::Parse(reference);
    if (!d) return MakeApiError(ApiCode::kDigestInvalid, d.error().message());
    out.digest = std::move(*d);
    return out;
  }
  if (Status st = oci::ValidateTag(reference); !st) {
    return MakeApiError(bad_tag, st.error().message());
  }
  out.tag = std::string(reference);
  return out;
}

ApiResult<oci::Digest> ParseDigest(std::string_view text) {
  Result<oci::Digest> d = oci::Digest::Parse(text);
  if (!d) return MakeApiError(ApiCode::kDigestInvalid, d.error().message());
  return std::move(*d);
}

}  // namespace

RegistryStore::RegistryStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryStore::~RegistryStore() = default;

Result<std::unique_ptr<RegistryStore>> RegistryStore::Open(const fs::path& dir,
                                                           const StoreOptions& options) {
  if (!IsValidRepository(options.default_repository)) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid default repository \"{}\"",
                     PrintableForMessage(options.default_repository));
  }
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  if (options.clock == nullptr) {
    impl->real_clock = Clock::Real();
    impl->clock = impl->real_clock.get();
  } else {
    impl->clock = options.clock;
  }
  PLUGCTL_ASSIGN_OR_RETURN(impl->layout,
                           store::OciLayoutTarget::Open(dir, {.create = options.create}));
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(impl->UploadsRoot()));
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir / kStateDir / kRepositoriesDir));
  IndexStamp stamp = StampOf(impl->IndexPath());
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, impl->layout->Entries());
  for (const oci::Descriptor& d : entries) {
    if (!IsRegularFile(impl->BlobPath(d.digest))) {
      return MakeError(ErrorCode::kDataLoss, "{} names {}, but its blob is missing",
                       impl->IndexPath().string(), d.digest.ToString());
    }
  }
  impl->view = BuildView(entries, options.default_repository, stamp);
  impl->next_check = (impl->clock->Now() + kIndexCheckInterval).time_since_epoch().count();
  impl->LoadUploads();
  return std::unique_ptr<RegistryStore>(new RegistryStore(std::move(impl)));
}

std::vector<std::string> RegistryStore::Warnings() const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::string> out = impl_->view->warnings;
  if (!impl_->reload_error.empty()) {
    out.push_back("index.json changed but cannot be read; serving its last good state: " +
                  impl_->reload_error);
  }
  return out;
}

TaggedEntries RegistryStore::Tagged() {
  impl_->MaybeReload();
  auto view = impl_->CurrentView();
  TaggedEntries out;
  out.generation = view->generation;
  for (const auto& [name, repo] : view->repos) {
    for (const auto& [tag, desc] : repo.tags) {
      auto listed = repo.listed_names.find(tag);
      out.entries.push_back(
          {.repository = name,
           .tag = tag,
           .desc = desc,
           .listed_name = listed == repo.listed_names.end() ? std::string() : listed->second});
    }
  }
  return out;
}

uint64_t RegistryStore::Generation() {
  impl_->MaybeReload();
  return impl_->CurrentView()->generation;
}

std::vector<std::string> RegistryStore::Repositories() {
  impl_->MaybeReload();
  std::vector<std::string> out;
  // Held in a local: a range-for over a member of a temporary shared_ptr's object keeps only
  // the member's reference, and a concurrent reload could free the view mid-loop.
  std::shared_ptr<const View> view = impl_->CurrentView();
  for (const auto& [name, repo] : view->repos) out.push_back(name);
  return out;  // std::map: sorted
}

ApiResult<std::vector<std::string>> RegistryStore::Tags(std::string_view repository) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  impl_->MaybeReload();
  auto view = impl_->CurrentView();
  auto it = view->repos.find(std::string(repository));
  if (it == view->repos.end()) {
    return MakeApiError(ApiCode::kNameUnknown, fmt::format("repository {} not found", repository));
  }
  std::vector<std::string> tags;
  for (const auto& [tag, desc] : it->second.tags) tags.push_back(tag);
  return tags;
}

ApiResult<ManifestRef> RegistryStore::GetManifest(std::string_view repository,
                                                  std::string_view reference) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto ref = ParseReference(reference, ApiCode::kManifestUnknown);
  if (!ref) return tl::unexpected(ref.error());
  impl_->MaybeReload();
  const std::string repo(repository);
  auto view = impl_->CurrentView();
  auto unknown = [&]() -> tl::unexpected<ApiError> {
    if (!impl_->RepositoryExists(*view, repo)) {
      return MakeApiError(ApiCode::kNameUnknown, fmt::format("repository {} not found", repo));
    }
    return MakeApiError(
        ApiCode::kManifestUnknown,
        fmt::format("manifest {} not found in {}", PrintableForMessage(reference, 128), repo));
  };
  auto r = view->repos.find(repo);
  oci::Descriptor desc;
  if (!ref->digest) {
    if (r == view->repos.end()) return unknown();
    auto t = r->second.tags.find(ref->tag);
    if (t == r->second.tags.end()) return unknown();
    desc = t->second;
  } else if (r != view->repos.end() && r->second.manifests.count(*ref->digest) != 0) {
    desc = r->second.manifests.at(*ref->digest);
  } else {
    // Not an entry of the repository: a child of one of its indexes, or pushed by digest and
    // since untagged. Off the hot path, so the media type may cost a parse.
    if (!impl_->IsMember(*view, repo, *ref->digest)) return unknown();
    auto bytes = impl_->ManifestBytes(*ref->digest, /*keep=*/false);
    if (!bytes) return unknown();
    Result<oci::Manifest> m = oci::Manifest::Parse(**bytes);
    if (!m) return unknown();  // a blob, not a manifest
    desc = m->ToDescriptor();
    desc.digest = *ref->digest;  // may be sha512
    desc.artifact_type = m->artifact_type;
    impl_->CacheInsert(desc.digest, *bytes);
  }
  auto bytes = impl_->ManifestBytes(desc.digest);
  if (!bytes) {
    if (bytes.error().code == ApiCode::kManifestUnknown) return unknown();
    return tl::unexpected(bytes.error());
  }
  desc.size = static_cast<int64_t>((*bytes)->size());
  return ManifestRef{std::move(desc), std::move(*bytes)};
}

ApiResult<PutManifestResult> RegistryStore::PutManifest(std::string_view repository,
                                                        std::string_view reference,
                                                        std::string_view content_type,
                                                        std::string body) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto ref = ParseReference(reference, ApiCode::kManifestInvalid);
  if (!ref) return tl::unexpected(ref.error());
  if (body.size() > oci::kMaxManifestBytes) {
    return MakeApiError(ApiCode::kTooLarge,
                        fmt::format("manifest of {} bytes is over the limit of {} bytes",
                                    body.size(), oci::kMaxManifestBytes));
  }
  if (ref->digest && oci::Digest::Of(body, ref->digest->algorithm()) != *ref->digest) {
    return MakeApiError(ApiCode::kDigestInvalid,
                        fmt::format("manifest does not hash to {}", ref->digest->ToString()));
  }
  Result<oci::Manifest> parsed = oci::Manifest::Parse(body, content_type);
  if (!parsed) return MakeApiError(ApiCode::kManifestInvalid, parsed.error().message());
  const oci::Manifest& m = *parsed;
  const std::string repo(repository);
  impl_->MaybeReload();
  auto view = impl_->CurrentView();

  std::vector<oci::Descriptor> referenced;
  if (m.config) referenced.push_back(*m.config);
  referenced.insert(referenced.end(), m.layers.begin(), m.layers.end());
  referenced.insert(referenced.end(), m.manifests.begin(), m.manifests.end());
  for (const oci::Descriptor& d : referenced) {
    if (!impl_->IsMember(*view, repo, d.digest) || !IsRegularFile(impl_->BlobPath(d.digest))) {
      return MakeApiError(ApiCode::kManifestBlobUnknown,
                          fmt::format("{} is not in {}", d.digest.ToString(), repo));
    }
  }

  oci::Descriptor desc = m.ToDescriptor();
  desc.artifact_type = m.artifact_type;
  // Pushed by a sha512 digest: stored and listed under it, so GETs by that digest find it.
  if (ref->digest) desc.digest = *ref->digest;
  {
    TouchBlob(impl_->BlobPath(desc.digest));  // Push skips a stored blob without touching it
    StringReader reader(body);
    if (Status st = impl_->layout->Push(desc, reader); !st) return Internal(st.error());
  }
  if (Status st = impl_->WriteLink(repo, desc.digest); !st) return Internal(st.error());

  const std::string default_repo = impl_->options.default_repository;
  auto edit = [&](const std::vector<oci::Descriptor>& entries)
      -> Result<store::OciLayoutTarget::EntryEdit> {
    // gc decides under the layout lock, so a blob checked here stays until the entry is written.
    for (const oci::Descriptor& d : referenced) {
      if (!IsRegularFile(impl_->BlobPath(d.digest))) {
        return MakeError(ErrorCode::kNotFound, "{} was removed", d.digest.ToString());
      }
    }
    store::OciLayoutTarget::EntryEdit change;
    if (ref->digest) {
      for (const oci::Descriptor& e : entries) {
        if (e.digest == desc.digest && EntryInRepository(e, repo, default_repo)) return change;
      }
      oci::Descriptor entry = EntryDescriptor(desc);
      entry.annotations[std::string(kRepositoryAnnotation)] = repo;
      change.add.push_back(std::move(entry));
      return change;
    }
    std::vector<std::string> names;
    bool unchanged = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      const oci::Descriptor& e = entries[i];
      std::string name = EntryName(e);
      if (name.empty()) {
        // The manifest's untagged entry: the tag now keeps it in the repository.
        if (e.digest == desc.digest && UntaggedRepository(e) == repo) change.remove.push_back(i);
        continue;
      }
      std::optional<MappedName> mapped = MapRefName(name, default_repo);
      if (mapped && mapped->repository == repo && mapped->tag == ref->tag) {
        change.remove.push_back(i);
        names.push_back(name);
        unchanged = e.digest == desc.digest;
      }
    }
    if (names.size() == 1 && unchanged && change.remove.size() == 1) {
      return store::OciLayoutTarget::EntryEdit{};
    }
    oci::Descriptor entry = EntryDescriptor(desc);
    entry.annotations[std::string(oci::kAnnotationRefName)] =
        names.size() == 1 ? names.front() : RefNameFor(repo, ref->tag);
    change.add.push_back(std::move(entry));
    return change;
  };
  if (Status st = impl_->Edit(edit); !st) {
    if (st.error().code() == ErrorCode::kNotFound) {
      return MakeApiError(ApiCode::kManifestBlobUnknown, st.error().message());
    }
    return Internal(st.error());
  }
  impl_->CacheInsert(desc.digest, std::make_shared<const std::string>(std::move(body)));
  PutManifestResult result;
  result.desc = desc;
  if (m.subject) result.subject = m.subject->digest;
  return result;
}

ApiStatus RegistryStore::DeleteManifest(std::string_view repository, std::string_view reference) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return st;
  auto ref = ParseReference(reference, ApiCode::kManifestUnknown);
  if (!ref) return tl::unexpected(ref.error());
  const std::string repo(repository);
  const std::string default_repo = impl_->options.default_repository;
  size_t removed = 0;
  Status st = impl_->Edit([&](const std::vector<oci::Descriptor>& entries)
                              -> Result<store::OciLayoutTarget::EntryEdit> {
    store::OciLayoutTarget::EntryEdit change;
    for (size_t i = 0; i < entries.size(); ++i) {
      const oci::Descriptor& e = entries[i];
      bool match = false;
      if (ref->digest) {
        match = e.digest == *ref->digest && EntryInRepository(e, repo, default_repo);
      } else if (std::string name = EntryName(e); !name.empty()) {
        std::optional<MappedName> mapped = MapRefName(name, default_repo);
        match = mapped && mapped->repository == repo && mapped->tag == ref->tag;
      }
      if (match) change.remove.push_back(i);
    }
    removed = change.remove.size();
    return change;
  });
  if (!st) return Internal(st.error());
  bool link_removed = false;
  if (ref->digest && impl_->HasLink(repo, *ref->digest)) {
    // The link goes after the entries (a crash in between leaves a manifest readable by
    // digest, never an entry without its link) — and only when it is a manifest's: a layer's
    // link is DeleteBlob's business.
    bool is_manifest = removed > 0;
    if (!is_manifest) {
      Result<std::string> raw =
          ReadFileBounded(impl_->BlobPath(*ref->digest), oci::kMaxManifestBytes);
      is_manifest = raw && oci::Manifest::Parse(std::move(*raw)).has_value();
    }
    if (is_manifest) {
      std::error_code ec;
      link_removed = fs::remove(impl_->LinkPath(repo, *ref->digest), ec);
      if (ec) {
        return MakeApiError(
            ApiCode::kInternal,
            fmt::format("remove {}: {}", impl_->LinkPath(repo, *ref->digest).string(),
                        ec.message()));
      }
    }
  }
  if (removed == 0 && !link_removed) {
    return MakeApiError(
        ApiCode::kManifestUnknown,
        fmt::format("manifest {} not found in {}", PrintableForMessage(reference, 128), repo));
  }
  return {};
}

ApiResult<std::vector<oci::Descriptor>> RegistryStore::Referrers(std::string_view repository,
                                                                 std::string_view digest,
                                                                 std::string_view artifact_type) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto subject = ParseDigest(digest);
  if (!subject) return tl::unexpected(subject.error());
  impl_->MaybeReload();
  auto view = impl_->CurrentView();
  std::vector<oci::Descriptor> out;
  auto derived = impl_->Derived(*view, std::string(repository));
  auto [begin, end] = derived->referrers.equal_range(*subject);
  for (auto it = begin; it != end; ++it) {
    if (!artifact_type.empty() && !oci::MediaTypeEquals(it->second.artifact_type, artifact_type)) {
      continue;
    }
    out.push_back(it->second);
  }
  std::sort(out.begin(), out.end(),
            [](const oci::Descriptor& a, const oci::Descriptor& b) { return a.digest < b.digest; });
  return out;
}

ApiResult<BlobFile> RegistryStore::OpenBlob(std::string_view repository, std::string_view digest) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto d = ParseDigest(digest);
  if (!d) return tl::unexpected(d.error());
  impl_->MaybeReload();
  auto unknown = [&] {
    return MakeApiError(ApiCode::kBlobUnknown,
                        fmt::format("blob {} not found in {}", d->ToString(), repository));
  };
  if (!impl_->IsMember(*impl_->CurrentView(), std::string(repository), *d)) return unknown();
  fs::path path = impl_->BlobPath(*d);
  BlobFile file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    if (errno == ENOENT) return unknown();
    return MakeApiError(ApiCode::kInternal,
                        fmt::format("open {}: {}", path.string(), ErrnoText(errno)));
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return MakeApiError(ApiCode::kInternal, fmt::format("{} is not a regular file", path.string()));
  }
  file.digest = *d;
  file.size = static_cast<uint64_t>(st.st_size);
  return file;
}

ApiStatus RegistryStore::DeleteBlob(std::string_view repository, std::string_view digest) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return st;
  auto d = ParseDigest(digest);
  if (!d) return tl::unexpected(d.error());
  const std::string repo(repository);
  std::error_code ec;
  if (fs::remove(impl_->LinkPath(repo, *d), ec)) return {};
  if (ec) {
    return MakeApiError(
        ApiCode::kInternal,
        fmt::format("remove {}: {}", impl_->LinkPath(repo, *d).string(), ec.message()));
  }
  impl_->MaybeReload();
  if (impl_->IsMember(*impl_->CurrentView(), repo, *d)) {
    return MakeApiError(ApiCode::kUnsupported,
                        fmt::format("{} is referenced by a manifest of {}; delete the manifest",
                                    d->ToString(), repo));
  }
  return MakeApiError(ApiCode::kBlobUnknown,
                      fmt::format("blob {} not found in {}", d->ToString(), repo));
}

ApiResult<oci::Descriptor> RegistryStore::PutBlob(std::string_view repository,
                                                  std::string_view digest,
                                                  std::optional<uint64_t> length, Reader& body) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto d = ParseDigest(digest);
  if (!d) return tl::unexpected(d.error());
  auto upload = impl_->NewUpload(std::string(repository));
  if (!upload) return tl::unexpected(upload.error());
  std::lock_guard lock((*upload)->mu);
  if (ApiStatus st = impl_->AppendLocked(**upload, std::nullopt, body); !st) {
    impl_->DiscardLocked(**upload);
    return tl::unexpected(st.error());
  }
  return impl_->FinishLocked(**upload, *d, length);
}

ApiResult<bool> RegistryStore::MountBlob(std::string_view repository, std::string_view from,
                                         std::string_view digest) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto d = ParseDigest(digest);
  if (!d) return tl::unexpected(d.error());
  if (!IsValidRepository(from)) return false;
  impl_->MaybeReload();
  if (!impl_->IsMember(*impl_->CurrentView(), std::string(from), *d) ||
      !IsRegularFile(impl_->BlobPath(*d))) {
    return false;
  }
  TouchBlob(impl_->BlobPath(*d));
  if (Status st = impl_->WriteLink(std::string(repository), *d); !st) return Internal(st.error());
  return true;
}

ApiResult<UploadState> RegistryStore::StartUpload(std::string_view repository) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto upload = impl_->NewUpload(std::string(repository));
  if (!upload) return tl::unexpected(upload.error());
  return UploadState{(*upload)->id, 0};
}

ApiResult<UploadState> RegistryStore::GetUpload(std::string_view repository, std::string_view id) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto upload = impl_->FindUpload(std::string(repository), id);
  if (!upload) return tl::unexpected(upload.error());
  std::lock_guard lock((*upload)->mu);
  if ((*upload)->gone) return UploadUnknown(id);
  return UploadState{(*upload)->id, (*upload)->offset};
}

ApiResult<UploadState> RegistryStore::AppendUpload(std::string_view repository, std::string_view id,
                                                   std::optional<ChunkRange> range, Reader& body) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto upload = impl_->FindUpload(std::string(repository), id);
  if (!upload) return tl::unexpected(upload.error());
  std::lock_guard lock((*upload)->mu);
  if ((*upload)->gone) return UploadUnknown(id);
  if (ApiStatus st = impl_->AppendLocked(**upload, range, body); !st) {
    return tl::unexpected(st.error());
  }
  return UploadState{(*upload)->id, (*upload)->offset};
}

ApiResult<oci::Descriptor> RegistryStore::FinishUpload(std::string_view repository,
                                                       std::string_view id, std::string_view digest,
                                                       Reader& body) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return tl::unexpected(st.error());
  auto d = ParseDigest(digest);
  if (!d) return tl::unexpected(d.error());
  auto upload = impl_->FindUpload(std::string(repository), id);
  if (!upload) return tl::unexpected(upload.error());
  std::lock_guard lock((*upload)->mu);
  if ((*upload)->gone) return UploadUnknown(id);
  if (ApiStatus st = impl_->AppendLocked(**upload, std::nullopt, body); !st) {
    return tl::unexpected(st.error());
  }
  return impl_->FinishLocked(**upload, *d, std::nullopt);
}

ApiStatus RegistryStore::CancelUpload(std::string_view repository, std::string_view id) {
  if (ApiStatus st = ValidateRepositoryName(repository); !st) return st;
  auto upload = impl_->FindUpload(std::string(repository), id);
  if (!upload) return tl::unexpected(upload.error());
  std::lock_guard lock((*upload)->mu);
  if ((*upload)->gone) return UploadUnknown(id);
  impl_->DiscardLocked(**upload);
  return {};
}

size_t RegistryStore::ReclaimStaleUploads() { return impl_->Reclaim(); }

StorageStats RegistryStore::Stats() {
  StorageStats stats;
  if (Result<std::vector<oci::Digest>> blobs = impl_->layout->ListBlobs()) {
    for (const oci::Digest& d : *blobs) {
      if (Result<uint64_t> size = FileSize(impl_->BlobPath(d))) {
        stats.blob_bytes += *size;
        ++stats.blob_count;
      }
    }
  }
  impl_->MaybeReload();
  stats.repositories = impl_->CurrentView()->repos.size();
  std::lock_guard lock(impl_->uploads_mu);
  stats.uploads_in_progress = impl_->uploads.size();
  return stats;
}

Result<GcReport> RegistryStore::CollectGarbage(const fs::path& dir, bool dry_run,
                                               std::chrono::seconds grace) {
  PLUGCTL_ASSIGN_OR_RETURN(auto layout, store::OciLayoutTarget::Open(dir));
  // Writers add entries under this lock after checking their blobs are present, so nothing
  // decided here can be named by an entry written meanwhile.
  PLUGCTL_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir / store::kOciLayoutLockFile));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, layout->Entries());
  std::map<oci::Digest, oci::Descriptor> reached;
  Reach(dir, entries, reached, nullptr);
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Digest> blobs, layout->ListBlobs());
  GcReport report;
  const auto now = fs::file_time_type::clock::now();
  std::set<oci::Digest> removed;
  for (const oci::Digest& d : blobs) {
    if (reached.count(d) != 0) {
      ++report.kept;
      continue;
    }
    fs::path path = layout->BlobPath(d);
    std::error_code ec;
    auto mtime = fs::last_write_time(path, ec);
    if (ec) continue;  // gone meanwhile
    if (now - mtime < grace) {
      ++report.kept;
      continue;
    }
    uint64_t size = FileSize(path).value_or(0);
    if (!dry_run && !fs::remove(path, ec) && ec) {
      return MakeError(ErrorCode::kInternal, "remove {}: {}", path.string(), ec.message());
    }
    report.removed.push_back(d);
    report.removed_bytes += size;
    removed.insert(d);
  }
  if (dry_run) return report;
  // Links to blobs that are gone: below .plugctl/repositories/<repo>/_links/<alg>/<hex>.
  std::error_code ec;
  fs::path repos = dir / kStateDir / kRepositoriesDir;
  if (!fs::is_directory(repos, ec)) return report;  // a layout never served: no links
  for (fs::recursive_directory_iterator it(repos, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != kLinksDir || !it->is_directory(ec)) continue;
    it.disable_recursion_pending();
    for (fs::directory_iterator alg(it->path(), ec), alg_end; !ec && alg != alg_end;
         alg.increment(ec)) {
      std::error_code ec2;
      for (fs::directory_iterator link(alg->path(), ec2), link_end; !ec2 && link != link_end;
           link.increment(ec2)) {
        Result<oci::Digest> d = oci::Digest::Parse(alg->path().filename().string() + ":" +
                                                   link->path().filename().string());
        if (d && (removed.count(*d) != 0 || !IsRegularFile(layout->BlobPath(*d)))) {
          std::error_code ec3;
          fs::remove(link->path(), ec3);
        }
      }
    }
  }
  if (ec) {
    return MakeError(ErrorCode::kInternal, "list {}: {}", repos.string(), ec.message());
  }
  return report;
}

}  // namespace plugctl::server
