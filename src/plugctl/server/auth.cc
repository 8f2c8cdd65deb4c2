#include "plugctl/server/auth.h"

#include <crypt.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/reference.h"

namespace plugctl::server {

namespace {

constexpr size_t kMaxUntrusted = 8 * 1024;
constexpr size_t kMaxScopes = 64;
constexpr size_t kMaxCacheEntries = 4096;
constexpr size_t kKeyBytes = 32;
constexpr size_t kMaxHtpasswdBytes = 16 * 1024 * 1024;
constexpr size_t kMaxAccessFileBytes = 1024 * 1024;
constexpr unsigned kActionAll = kActionPull | kActionPush | kActionDelete;
constexpr std::chrono::seconds kRecheckInterval{1};

// --- encodings -------------------------------------------------------------------------------

constexpr std::string_view kBase64Std =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(acc << (6 - bits)) & 0x3f]);
  return out;
}

// Standard alphabet with optional padding (HTTP Basic), or the URL alphabet without it (tokens).
std::optional<std::string> Base64Decode(std::string_view text, bool url) {
  if (!url) {
    if (text.size() % 4 == 0) {
      for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i) text.remove_suffix(1);
    }
  }
  if (text.size() % 4 == 1) return std::nullopt;
  std::string_view alphabet = url ? kBase64Url : kBase64Std;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    size_t v = alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
           &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// --- scopes and names ------------------------------------------------------------------------

bool ValidRepositoryName(std::string_view name) { return oci::IsValidRepositoryName(name); }

std::optional<unsigned> ActionBit(std::string_view name) {
  if (name == "pull") return kActionPull;
  if (name == "push") return kActionPush;
  if (name == "delete") return kActionDelete;
  if (name == "*") return kActionAll;
  return std::nullopt;
}

std::vector<std::string> ActionNames(unsigned actions) {
  std::vector<std::string> names;
  if (actions & kActionPull) names.emplace_back("pull");
  if (actions & kActionPush) names.emplace_back("push");
  if (actions & kActionDelete) names.emplace_back("delete");
  return names;
}

// --- time ------------------------------------------------------------------------------------

std::string Rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00Z";
  std::array<char, 32> buf{};
  size_t n = strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

// --- htpasswd --------------------------------------------------------------------------------

struct Htpasswd {
  std::map<std::string, std::string, std::less<>> hashes;  // user → bcrypt hash
};

// What identifies one version of a file without reading it.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_sec = 0;
  int64_t mtime_nsec = 0;
  bool operator==(const FileStamp&) const = default;
};

Result<FileStamp> StampOf(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return MakeError(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal, "{}: {}",
                     path.string(), std::strerror(errno));
  }
  return FileStamp{st.st_dev, st.st_ino, st.st_size, static_cast<int64_t>(st.st_mtim.tv_sec),
                   static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

bool IsBcrypt(std::string_view hash) {
  // "$2y$NN$" + 22 salt + 31 hash characters.
  return hash.size() == 60 &&
         (hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$"));
}

Result<Htpasswd> ParseHtpasswd(const fs::path& path, std::string_view text) {
  Htpasswd out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return MakeError(ErrorCode::kInvalidArgument, "{}:{}: expected \"user:hash\"", path.string(),
                       line_no);
    }
    std::string user(line.substr(0, colon));
    std::string_view hash = line.substr(colon + 1);
    if (!IsBcrypt(hash)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}:{}: user \"{}\" has no bcrypt hash (only $2y$/$2b$/$2a$, as "
                       "`htpasswd -B` writes, are accepted)",
                       path.string(), line_no, PrintableForMessage(user, 64));
    }
    if (user == "anonymous" || user == "*") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}:{}: user name \"{}\" is reserved for the access file", path.string(),
                       line_no, user);
    }
    if (!out.hashes.emplace(user, std::string(hash)).second) {
      return MakeError(ErrorCode::kInvalidArgument, "{}:{}: user \"{}\" appears twice",
                       path.string(), line_no, PrintableForMessage(user, 64));
    }
  }
  return out;
}

Result<std::pair<Htpasswd, FileStamp>> LoadHtpasswd(const fs::path& path) {
  PLUGCTL_ASSIGN_OR_RETURN(FileStamp stamp, StampOf(path));
  PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(path, kMaxHtpasswdBytes));
  PLUGCTL_ASSIGN_OR_RETURN(Htpasswd users, ParseHtpasswd(path, text));
  return std::make_pair(std::move(users), stamp);
}

// Whether bcrypt(password, hash's salt and cost) == hash.
bool BcryptMatches(std::string_view password, const std::string& hash) {
  // crypt reads C strings: a NUL inside would cut the password short.
  if (password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_rn wants; ~32 KiB
  std::string phrase(password);
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  OPENSSL_cleanse(phrase.data(), phrase.size());
  bool ok = out != nullptr && out[0] != '*' && ConstantTimeEqual(out, hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

// --- access file -----------------------------------------------------------------------------

struct Rule {
  std::string user;
  std::vector<std::string> patterns;
  unsigned actions = kActionNone;
};

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

// A scalar or a sequence of scalars, as strings.
Result<std::vector<std::string>> StringList(const fs::path& path, size_t rule_no,
                                            std::string_view key, const YAML::Node& node) {
  std::vector<std::string> out;
  auto bad = [&](const YAML::Node& where) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}:{}: rule {}: \"{}\" must be a string or a list of strings", path.string(),
                     LineOf(where), rule_no, key);
  };
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) return bad(item);
      out.push_back(item.Scalar());
    }
  } else {
    return bad(node);
  }
  for (const std::string& s : out) {
    if (s.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}:{}: rule {}: empty entry in \"{}\"",
                       path.string(), LineOf(node), rule_no, key);
    }
  }
  return out;
}

Result<std::vector<Rule>> ParseAccessRules(const fs::path& path, const YAML::Node& root) {
  std::vector<Rule> rules;
  if (root.IsNull()) return rules;  // an empty file: nobody may do anything
  if (!root.IsSequence()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}:{}: expected a list of rules", path.string(),
                     LineOf(root));
  }
  size_t rule_no = 0;
  for (const YAML::Node& item : root) {
    ++rule_no;
    if (!item.IsMap()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}:{}: rule {}: expected a map with user, repositories and actions",
                       path.string(), LineOf(item), rule_no);
    }
    Rule rule;
    bool has_user = false, has_repositories = false, has_actions = false;
    for (const auto& entry : item) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      std::string name = key.IsScalar() ? key.Scalar() : "";
      if (name == "user") {
        if (!value.IsScalar() || value.Scalar().empty()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "{}:{}: rule {}: \"user\" must be a non-empty string", path.string(),
                           LineOf(value), rule_no);
        }
        rule.user = value.Scalar();
        has_user = true;
      } else if (name == "repositories") {
        PLUGCTL_ASSIGN_OR_RETURN(rule.patterns, StringList(path, rule_no, name, value));
        has_repositories = true;
      } else if (name == "actions") {
        PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> actions,
                                 StringList(path, rule_no, name, value));
        for (const std::string& action : actions) {
          std::optional<unsigned> bit = ActionBit(action);
          if (!bit) {
            return MakeError(ErrorCode::kInvalidArgument,
                             "{}:{}: rule {}: unknown action \"{}\" (pull, push, delete or \"*\")",
                             path.string(), LineOf(value), rule_no,
                             PrintableForMessage(action, 64));
          }
          rule.actions |= *bit;
        }
        has_actions = true;
      } else {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{}:{}: rule {}: unknown key \"{}\" (user, repositories, actions)",
                         path.string(), LineOf(key), rule_no, PrintableForMessage(name, 64));
      }
    }
    if (!has_user || !has_repositories || !has_actions) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}:{}: rule {}: needs user, repositories and actions", path.string(),
                       LineOf(item), rule_no);
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

Result<std::vector<Rule>> LoadAccessFile(const fs::path& path) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(path, kMaxAccessFileBytes));
  // yaml-cpp reports through exceptions; none leaves this function.
  try {
    return ParseAccessRules(path, YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "{}:{}: {}", path.string(), e.mark.line + 1,
                     e.msg);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}", path.string(), e.what());
  }
}

// --- the token key ---------------------------------------------------------------------------

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return MakeError(ErrorCode::kInternal, "no random bytes from OpenSSL");
  }
  return out;
}

Result<std::string> ReadKey(const fs::path& path) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string key, ReadFileBounded(path, 4096));
  if (key.size() != kKeyBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: a token key is {} raw bytes, this file has {} (remove it to make a "
                     "new one)",
                     path.string(), kKeyBytes, key.size());
  }
  return key;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return MakeError(ErrorCode::kInternal, "write: {}", std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// The key in `path`, made when missing. The new key is written 0600 to a private temporary
// file and hard-linked into place, so the key is never readable by others, never seen half
// written, and two servers starting together agree on one key (link fails for the loser,
// which reads the winner's).
Result<std::string> LoadOrCreateKey(const fs::path& path) {
  if (path.empty()) return RandomBytes(kKeyBytes);
  Result<std::string> existing = ReadKey(path);
  if (existing || existing.error().code() != ErrorCode::kNotFound) return existing;

  PLUGCTL_ASSIGN_OR_RETURN(std::string key, RandomBytes(kKeyBytes));
  PLUGCTL_ASSIGN_OR_RETURN(std::string suffix, RandomBytes(8));
  fs::path temp = path;
  temp += fmt::format(".tmp-p{}-{}", ::getpid(), Base64UrlEncode(suffix));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kInternal, "create {}: {}", temp.string(), std::strerror(errno));
  }
  Status written = WriteAll(fd, key);
  if (written && ::fsync(fd) != 0) {
    written = MakeError(ErrorCode::kInternal, "fsync: {}", std::strerror(errno));
  }
  ::close(fd);
  int link_errno = 0;
  if (written && ::link(temp.c_str(), path.c_str()) != 0) link_errno = errno;
  ::unlink(temp.c_str());
  if (!written) return tl::unexpected(written.error().WithContext(temp.string()));
  if (link_errno == EEXIST) return ReadKey(path);
  if (link_errno != 0) {
    return MakeError(ErrorCode::kInternal, "create {}: {}", path.string(),
                     std::strerror(link_errno));
  }
  return key;
}

// --- tokens ----------------------------------------------------------------------------------

struct TokenClaims {
  std::string subject;
  std::map<std::string, unsigned, std::less<>> access;  // repository → actions
};

}  // namespace

std::optional<Scope> ParseScope(std::string_view text) {
  if (text.size() > kMaxUntrusted) return std::nullopt;
  // Scopes travel space-joined: one with a space or a control character is two or garbage.
  for (char c : text) {
    if (c <= ' ' || c >= 0x7f) return std::nullopt;
  }
  size_t first = text.find(':');
  size_t last = text.rfind(':');
  if (first == std::string_view::npos || first == last) return std::nullopt;
  if (text.substr(0, first) != "repository") return std::nullopt;
  Scope scope;
  scope.repository = std::string(text.substr(first + 1, last - first - 1));
  if (!ValidRepositoryName(scope.repository)) return std::nullopt;
  std::string_view actions = text.substr(last + 1);
  while (!actions.empty()) {
    size_t comma = actions.find(',');
    std::string_view action = actions.substr(0, comma);
    if (std::optional<unsigned> bit = ActionBit(action)) scope.actions |= *bit;
    actions = comma == std::string_view::npos ? std::string_view() : actions.substr(comma + 1);
  }
  return scope;
}

std::string FormatScope(const Scope& scope) {
  return fmt::format("repository:{}:{}", scope.repository,
                     fmt::join(ActionNames(scope.actions), ","));
}

bool RepositoryGlobMatch(std::string_view pattern, std::string_view name) {
  if (pattern.size() > kMaxUntrusted || name.size() > kMaxUntrusted) return false;
  // reach[j]: the pattern so far can match name[0, j). One pass over the name per pattern
  // element keeps hostile patterns such as "*a*a*a*…b" linear per element.
  const size_t n = name.size();
  std::vector<char> reach(n + 1, 0), next(n + 1, 0);
  reach[0] = 1;
  size_t p = 0;
  while (p < pattern.size()) {
    if (pattern[p] == '*') {
      size_t stars = 0;
      while (p < pattern.size() && pattern[p] == '*') ++p, ++stars;
      bool any = false;
      for (size_t j = 0; j <= n; ++j) {
        // A single * may not run over a '/': a '/' just before j cuts off every earlier start.
        if (stars == 1 && j > 0 && name[j - 1] == '/') any = false;
        any = any || reach[j];
        next[j] = any;
      }
    } else {
      const char c = pattern[p++];
      next[0] = 0;
      for (size_t j = 1; j <= n; ++j) next[j] = reach[j - 1] && name[j - 1] == c;
    }
    reach.swap(next);
    if (std::find(reach.begin(), reach.end(), 1) == reach.end()) return false;
  }
  return reach[n] != 0;
}

struct Authorizer::Impl {
  AuthOptions options;
  std::shared_ptr<Clock> clock;
  // Unix time = wall_base + (clock->Now() - mono_base).
  int64_t wall_base = 0;
  Clock::TimePoint mono_base;
  std::string key;
  bool has_access_file = false;
  std::vector<Rule> rules;

  mutable std::mutex mu;  // guards the htpasswd state
  std::shared_ptr<const Htpasswd> users;
  FileStamp stamp;
  Clock::TimePoint last_stat;
  std::optional<Error> reload_error;

  std::mutex cache_mu;
  std::unordered_set<std::string> verified;  // SHA-256 keys of good (user, password, hash)

  bool enabled() const { return options.htpasswd_file.has_value(); }

  int64_t UnixNow() const {
    return wall_base +
           std::chrono::duration_cast<std::chrono::seconds>(clock->Now() - mono_base).count();
  }

  std::shared_ptr<const Htpasswd> CurrentUsers() {
    std::lock_guard lock(mu);
    Clock::TimePoint now = clock->Now();
    if (now - last_stat < kRecheckInterval) return users;
    last_stat = now;
    const fs::path& path = *options.htpasswd_file;
    Result<FileStamp> current = StampOf(path);
    if (current && *current == stamp) return users;
    Result<std::pair<Htpasswd, FileStamp>> loaded =
        current ? LoadHtpasswd(path) : tl::unexpected(current.error());
    if (!loaded) {
      // Keeping the old users beats locking everyone out over a half-edited file; remember
      // the stamp only on success, so the next check retries.
      reload_error = loaded.error();
      return users;
    }
    users = std::make_shared<const Htpasswd>(std::move(loaded->first));
    stamp = loaded->second;
    reload_error.reset();
    return users;
  }

  // The user named by "Basic <credentials>", or nullopt.
  std::optional<std::string> VerifyBasic(std::string_view credentials) {
    std::optional<std::string> decoded = Base64Decode(credentials, /*url=*/false);
    if (!decoded) return std::nullopt;
    std::optional<std::string> user = VerifyUserPassword(*decoded);
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return user;
  }

  std::optional<std::string> VerifyUserPassword(std::string_view user_password) {
    size_t colon = user_password.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view user = user_password.substr(0, colon);
    std::string_view password = user_password.substr(colon + 1);
    std::shared_ptr<const Htpasswd> current = CurrentUsers();
    auto it = current->hashes.find(user);
    if (it == current->hashes.end()) {
      // Spend a bcrypt anyway so that response times do not tell which users exist.
      if (!current->hashes.empty()) BcryptMatches(password, current->hashes.begin()->second);
      return std::nullopt;
    }
    const std::string& hash = it->second;
    std::string material;
    material.reserve(user.size() + password.size() + hash.size() + 2);
    material.append(user).push_back('\0');
    material.append(password).push_back('\0');
    material.append(hash);
    std::string cache_key = Sha256(material);
    OPENSSL_cleanse(material.data(), material.size());
    if (cache_key.empty()) return std::nullopt;
    {
      std::lock_guard lock(cache_mu);
      if (verified.contains(cache_key)) return std::string(user);
    }
    if (!BcryptMatches(password, hash)) return std::nullopt;
    std::lock_guard lock(cache_mu);
    if (verified.size() >= kMaxCacheEntries) verified.clear();
    verified.insert(std::move(cache_key));
    return std::string(user);
  }

  // Who sent `authorization` when only Basic (or nothing) is acceptable: "" for anonymous,
  // nullopt for bad credentials.
  std::optional<std::string> Authenticate(std::string_view authorization,
                                          std::optional<TokenClaims>* token) {
    if (!enabled() || authorization.empty()) return std::string();
    if (authorization.size() > kMaxUntrusted) return std::nullopt;
    size_t space = authorization.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    std::string_view scheme = authorization.substr(0, space);
    std::string_view rest = authorization.substr(space + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
    if (rest.empty()) return std::nullopt;
    if (EqualsIgnoreCase(scheme, "basic")) return VerifyBasic(rest);
    if (token != nullptr && EqualsIgnoreCase(scheme, "bearer")) {
      *token = VerifyToken(rest);
      if (!*token) return std::nullopt;
      return (*token)->subject;
    }
    return std::nullopt;
  }

  // What `user` ("" anonymous) may do on `repository` by the configuration.
  unsigned Policy(std::string_view user, std::string_view repository) const {
    const bool anonymous = user.empty();
    const unsigned extra = anonymous && options.anonymous_read ? kActionPull : kActionNone;
    if (!has_access_file) {
      if (!enabled() || !anonymous) return kActionAll;
      return extra;
    }
    for (const Rule& rule : rules) {
      bool user_matches =
          anonymous ? rule.user == "anonymous" : (rule.user == "*" || rule.user == user);
      if (!user_matches) continue;
      for (const std::string& pattern : rule.patterns) {
        if (RepositoryGlobMatch(pattern, repository)) return rule.actions | extra;
      }
    }
    return extra;
  }

  std::string SignToken(const nlohmann::json& claims) const {
    std::string payload = Base64UrlEncode(claims.dump());
    return payload + "." + Base64UrlEncode(HmacSha256(key, payload));
  }

  // The claims of a genuine, unexpired token for this service; nullopt otherwise. The MAC is
  // checked before the JSON is parsed, so only our own output ever reaches the parser.
  std::optional<TokenClaims> VerifyToken(std::string_view token) const {
    if (token.size() > kMaxUntrusted) return std::nullopt;
    size_t dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string_view payload = token.substr(0, dot);
    std::string_view mac = token.substr(dot + 1);
    std::string expected = Base64UrlEncode(HmacSha256(key, payload));
    if (expected.empty() || !ConstantTimeEqual(expected, mac)) return std::nullopt;
    std::optional<std::string> text = Base64Decode(payload, /*url=*/true);
    if (!text) return std::nullopt;
    nlohmann::json claims = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!claims.is_object()) return std::nullopt;
    auto sub = claims.find("sub");
    auto aud = claims.find("aud");
    auto exp = claims.find("exp");
    auto access = claims.find("access");
    if (sub == claims.end() || !sub->is_string() || aud == claims.end() || !aud->is_string() ||
        exp == claims.end() || !exp->is_number_integer() || access == claims.end() ||
        !access->is_array()) {
      return std::nullopt;
    }
    if (aud->get_ref<const std::string&>() != options.service) return std::nullopt;
    if (UnixNow() >= exp->get<int64_t>()) return std::nullopt;
    TokenClaims out;
    out.subject = sub->get<std::string>();
    for (const nlohmann::json& entry : *access) {
      if (!entry.is_object()) return std::nullopt;
      auto repository = entry.find("repository");
      auto actions = entry.find("actions");
      if (repository == entry.end() || !repository->is_string() || actions == entry.end() ||
          !actions->is_array()) {
        return std::nullopt;
      }
      unsigned bits = kActionNone;
      for (const nlohmann::json& action : *actions) {
        if (!action.is_string()) return std::nullopt;
        if (auto bit = ActionBit(action.get_ref<const std::string&>())) bits |= *bit;
      }
      out.access[repository->get<std::string>()] |= bits;
    }
    return out;
  }
};

Result<std::unique_ptr<Authorizer>> Authorizer::Create(const AuthOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = options.clock ? options.clock : Clock::Real();
  impl->mono_base = impl->clock->Now();
  impl->wall_base = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  if (options.htpasswd_file) {
    PLUGCTL_ASSIGN_OR_RETURN(auto loaded, LoadHtpasswd(*options.htpasswd_file));
    impl->users = std::make_shared<const Htpasswd>(std::move(loaded.first));
    impl->stamp = loaded.second;
  } else {
    impl->users = std::make_shared<const Htpasswd>();
  }
  impl->last_stat = impl->mono_base;
  if (options.access_file) {
    PLUGCTL_ASSIGN_OR_RETURN(impl->rules, LoadAccessFile(*options.access_file));
    impl->has_access_file = true;
  }
  PLUGCTL_ASSIGN_OR_RETURN(impl->key, LoadOrCreateKey(options.token_key_file));
  return std::unique_ptr<Authorizer>(new Authorizer(std::move(impl)));
}

Authorizer::Authorizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Authorizer::~Authorizer() {
  if (impl_) OPENSSL_cleanse(impl_->key.data(), impl_->key.size());
}

bool Authorizer::enabled() const { return impl_->enabled(); }

ApiResult<AuthResult> Authorizer::Check(std::string_view authorization, std::string_view repository,
                                        unsigned wanted) {
  std::optional<TokenClaims> token;
  std::optional<std::string> user = impl_->Authenticate(authorization, &token);
  if (!user) {
    return MakeApiError(ApiCode::kUnauthorized, "authentication required");
  }
  AuthResult result;
  result.user = std::move(*user);
  if (repository.empty()) {
    result.granted = wanted;
  } else if (token) {
    auto it = token->access.find(repository);
    result.granted = it == token->access.end() ? kActionNone : (it->second & wanted);
  } else {
    result.granted = impl_->Policy(result.user, repository) & wanted;
  }
  return result;
}

std::string Authorizer::Challenge(std::string_view realm, std::optional<Scope> scope) const {
  auto quoted = [](std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) continue;
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
    return out;
  };
  std::string out =
      fmt::format("Bearer realm={},service={}", quoted(realm), quoted(impl_->options.service));
  if (scope) out += fmt::format(",scope={}", quoted(FormatScope(*scope)));
  return out;
}

ApiResult<std::string> Authorizer::IssueToken(std::string_view authorization,
                                              const std::vector<std::string>& scopes) {
  std::optional<std::string> user = impl_->Authenticate(authorization, /*token=*/nullptr);
  if (!user) return MakeApiError(ApiCode::kUnauthorized, "authentication required");

  // Requested actions per repository, in the order first asked for.
  std::vector<Scope> requested;
  for (const std::string& parameter : scopes) {
    std::string_view rest = parameter;
    while (!rest.empty()) {
      size_t space = rest.find(' ');
      std::string_view one = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      if (one.empty()) continue;
      std::optional<Scope> scope = ParseScope(one);
      if (!scope) continue;
      auto same = std::find_if(requested.begin(), requested.end(),
                               [&](const Scope& s) { return s.repository == scope->repository; });
      if (same != requested.end()) {
        same->actions |= scope->actions;
        continue;
      }
      if (requested.size() == kMaxScopes) {
        return MakeApiError(ApiCode::kTooLarge, fmt::format("more than {} scopes", kMaxScopes));
      }
      requested.push_back(std::move(*scope));
    }
  }

  nlohmann::json access = nlohmann::json::array();
  for (const Scope& scope : requested) {
    unsigned granted = scope.actions & impl_->Policy(*user, scope.repository);
    if (granted == kActionNone) continue;
    access.push_back({{"repository", scope.repository}, {"actions", ActionNames(granted)}});
  }
  const int64_t now = impl_->UnixNow();
  const int64_t ttl = impl_->options.token_ttl.count();
  nlohmann::json claims = {{"sub", *user},
                           {"aud", impl_->options.service},
                           {"access", std::move(access)},
                           {"iat", now},
                           {"exp", now + ttl}};
  std::string token = impl_->SignToken(claims);
  if (token.size() > kMaxUntrusted) {
    return MakeApiError(ApiCode::kTooLarge, "the requested scopes do not fit in one token");
  }
  nlohmann::json body = {
      {"token", token}, {"access_token", token}, {"expires_in", ttl}, {"issued_at", Rfc3339(now)}};
  return body.dump();
}

std::vector<std::string> Authorizer::FilterPullable(const AuthResult& who,
                                                    const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    if (impl_->Policy(who.user, name) & kActionPull) out.push_back(name);
  }
  return out;
}

std::optional<Error> Authorizer::LastReloadError() const {
  std::lock_guard lock(impl_->mu);
  return impl_->reload_error;
}

}  // namespace plugctl::server
