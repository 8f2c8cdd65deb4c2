#include "plugctl/transfer/mirror_list.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/yaml.h>

#include "plugctl/oci/digest.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/spec/schema_regex.h"
#include "plugctl/transfer/semver.h"

namespace plugctl::transfer {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
// `newest` above this is surely a typo (no repository has a million versions).
constexpr uint64_t kMaxNewest = 1'000'000;

// Values are echoed in messages, which must stay on one line and short.
std::string Printable(std::string_view text, size_t max_chars = 200) {
  return PrintableForMessage(text, max_chars);
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\f\v";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

MirrorSource SourceOf(const oci::Reference& ref) {
  MirrorSource source;
  source.repository.registry = ref.registry;
  source.repository.repository = ref.repository;
  return source;
}

// A tag ("1.0.0") or a digest ("sha256:…", canonical form) from a tags list; the problem
// otherwise.
Result<std::string> ParseTagOrDigest(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    PLUGCTL_ASSIGN_OR_RETURN(oci::Digest digest, oci::Digest::Parse(text));
    return digest.ToString();
  }
  PLUGCTL_RETURN_IF_ERROR(oci::ValidateTag(text));
  return std::string(text);
}

// Collects the sources of one list: counts entries against the limit, merges entries for the
// same repository with the same patterns, drops references already taken, and words errors.
class ListBuilder {
 public:
  explicit ListBuilder(std::string_view file) : file_(file) {}

  std::string Origin(int line) const {
    return line > 0 ? fmt::format("{}:{}", file_, line) : file_;
  }

  // "file:line: what", on one line.
  tl::unexpected<Error> Fail(int line, std::string_view what,
                             ErrorCode code = ErrorCode::kInvalidArgument) const {
    return tl::unexpected(Error(code, Printable(fmt::format("{}: {}", Origin(line), what), 1024)));
  }

  Status Add(MirrorSource source, int line) {
    entries_ += source.refs.size() + (source.NeedsTagList() ? 1 : 0);
    if (entries_ > kMaxMirrorListEntries) {
      return Fail(line, fmt::format("more than {} images in one list", kMaxMirrorListEntries),
                  ErrorCode::kResourceExhausted);
    }
    std::string name = source.repository.Name();
    std::vector<std::string> refs;
    for (std::string& ref : source.refs) {
      // An image is mirrored once however many entries name it under one key; two
      // plugins.properties keys naming one image each keep it (the console asks by key). An
      // entry without a key adds nothing to an image already listed.
      std::string image = fmt::format("{}@{}", name, ref);
      bool known = refs_seen_.contains(image);
      if (source.name.empty() ? !known : keyed_seen_.insert(image + "\n" + source.name).second) {
        refs_seen_.insert(std::move(image));
        refs.push_back(std::move(ref));
      }
    }
    source.refs = std::move(refs);
    if (source.refs.empty() && !source.NeedsTagList()) return OkStatus();

    // The plugins.properties key is part of the identity: one repository listed under two keys
    // (basic-auth=…:1.0.0, basic-auth-2=…:2.0.0) keeps each tag under its own key.
    std::string key =
        fmt::format("{}\n{}\n{}\n{}\n{}\n{}", name, source.tag_regex.value_or("\x01"),
                    source.semver.value_or("\x01"), source.all_tags, source.newest, source.name);
    auto [it, inserted] = by_key_.try_emplace(std::move(key), sources_.size());
    if (inserted) {
      source.origin = Origin(line);
      sources_.push_back(std::move(source));
      return OkStatus();
    }
    MirrorSource& merged = sources_[it->second];
    for (std::string& ref : source.refs) merged.refs.push_back(std::move(ref));
    return OkStatus();
  }

  Result<std::vector<MirrorSource>> Finish() {
    if (sources_.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: no images in the list", file_);
    }
    return std::move(sources_);
  }

 private:
  std::string file_;
  size_t entries_ = 0;
  std::vector<MirrorSource> sources_;
  std::unordered_map<std::string, size_t> by_key_;
  std::unordered_set<std::string> refs_seen_;   // "repository@ref"
  std::unordered_set<std::string> keyed_seen_;  // "repository@ref\nkey"
};

// ---- plugins.properties and plain lists ----

Result<std::vector<MirrorSource>> ParseLines(std::string_view text, std::string_view file) {
  ListBuilder builder(file);
  // Higress reads the file as a java.util.Properties map, where a repeated name silently
  // replaces the earlier line; here that is an error rather than a guess.
  std::unordered_map<std::string, std::pair<int, std::string>> names;
  int line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;

    std::string_view name;
    std::string_view value = line;
    if (size_t eq = line.find('='); eq != std::string_view::npos) {
      name = Trim(line.substr(0, eq));
      value = Trim(line.substr(eq + 1));
      if (name.empty()) {
        return builder.Fail(line_number, fmt::format("no name before '=': \"{}\"", line));
      }
      if (value.empty()) {
        return builder.Fail(line_number, fmt::format("no image after \"{}=\"", name));
      }
    }
    Result<oci::Reference> ref = oci::Reference::Parse(value);
    if (!ref) return builder.Fail(line_number, ref.error().message());
    if (!name.empty()) {
      auto [it, inserted] = names.try_emplace(std::string(name), line_number, ref->ToString());
      if (!inserted && it->second.second != ref->ToString()) {
        return builder.Fail(line_number,
                            fmt::format("name \"{}\" is also on line {} with another image: \"{}\"",
                                        name, it->second.first, value));
      }
    }
    MirrorSource source = SourceOf(*ref);
    source.refs.push_back(ref->TagOrDigest());
    source.name = std::string(name);
    PLUGCTL_RETURN_IF_ERROR(builder.Add(std::move(source), line_number));
  }
  return builder.Finish();
}

// ---- YAML ----

int LineOf(const YAML::Node& node, int fallback) {
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string KeyOf(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : "null"; }

// The text of a scalar value; an error naming `what` otherwise.
Result<std::string> ScalarOf(const ListBuilder& b, const YAML::Node& node, std::string_view what,
                             int line) {
  if (!node.IsScalar()) return b.Fail(line, fmt::format("{} must be a string", what));
  return node.Scalar();
}

// Calls visit(key, key_line, value) for every pair of a map, refusing repeated keys (which
// YAML forbids and which would otherwise hide an entry).
template <typename Visit>
Status ForEachPair(const ListBuilder& b, const YAML::Node& map, Visit visit) {
  std::unordered_map<std::string, int> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string key = KeyOf(it->first);
    int line = LineOf(it->first, 0);
    auto [previous, inserted] = seen.try_emplace(key, line);
    if (!inserted) {
      return b.Fail(line, fmt::format("duplicate key \"{}\" (also on line {})", Printable(key),
                                      previous->second));
    }
    PLUGCTL_RETURN_IF_ERROR(visit(key, line, it->second));
  }
  return OkStatus();
}

// A repository named without tag or digest (patterns and tag lists apply to it).
Result<oci::Reference> ParseRepository(const ListBuilder& b, std::string_view text, int line) {
  Result<oci::Reference> ref = oci::Reference::Parse(text);
  if (!ref) return b.Fail(line, ref.error().message());
  if (!ref->tag.empty() || ref->digest) {
    return b.Fail(line, fmt::format("repository \"{}\" names a tag or digest; list those under "
                                    "its tags instead",
                                    Printable(text)));
  }
  return ref;
}

Status CheckRegex(const ListBuilder& b, const std::string& pattern, int line) {
  Result<spec::EcmaRegex> re = spec::EcmaRegex::Compile(pattern);
  if (!re) {
    return b.Fail(line,
                  fmt::format("tag regex \"{}\": {}", Printable(pattern), re.error().message()),
                  re.error().code());
  }
  return OkStatus();
}

Status CheckSemver(const ListBuilder& b, const std::string& range, int line) {
  Result<SemverRange> r = SemverRange::Parse(range);
  if (!r) return b.Fail(line, r.error().message(), r.error().code());
  return OkStatus();
}

Result<std::vector<std::string>> ParseTagList(const ListBuilder& b, const YAML::Node& list,
                                              int line) {
  std::vector<std::string> refs;
  if (list.IsNull()) return refs;
  if (!list.IsSequence()) return b.Fail(line, "tags must be a list of tags and digests");
  for (const YAML::Node& item : list) {
    int item_line = LineOf(item, line);
    PLUGCTL_ASSIGN_OR_RETURN(std::string text, ScalarOf(b, item, "a tag", item_line));
    Result<std::string> ref = ParseTagOrDigest(text);
    if (!ref) return b.Fail(item_line, ref.error().message());
    refs.push_back(std::move(*ref));
  }
  return refs;
}

// images: [reference | {repository, tags, tag-regex, semver, newest}]
Status ReadPlugctlEntry(ListBuilder& b, const YAML::Node& item, int line) {
  if (item.IsScalar()) {
    Result<MirrorSource> source = ParseMirrorReference(item.Scalar(), b.Origin(line));
    if (!source) return tl::unexpected(source.error());
    return b.Add(std::move(*source), line);
  }
  if (!item.IsMap()) {
    return b.Fail(line, "an image must be a reference or a map with `repository`");
  }
  std::optional<oci::Reference> repository;
  MirrorSource source;
  int newest_line = line;
  // Not inside PLUGCTL_RETURN_IF_ERROR: the lambda uses it too (-Wshadow).
  Status fields = ForEachPair(
      b, item, [&](const std::string& key, int key_line, const YAML::Node& value) -> Status {
        if (key == "repository") {
          PLUGCTL_ASSIGN_OR_RETURN(std::string text, ScalarOf(b, value, "repository", key_line));
          PLUGCTL_ASSIGN_OR_RETURN(repository, ParseRepository(b, text, key_line));
        } else if (key == "tags") {
          PLUGCTL_ASSIGN_OR_RETURN(source.refs, ParseTagList(b, value, key_line));
        } else if (key == "tag-regex") {
          PLUGCTL_ASSIGN_OR_RETURN(std::string pattern, ScalarOf(b, value, "tag-regex", key_line));
          PLUGCTL_RETURN_IF_ERROR(CheckRegex(b, pattern, key_line));
          source.tag_regex = std::move(pattern);
        } else if (key == "semver") {
          PLUGCTL_ASSIGN_OR_RETURN(std::string range, ScalarOf(b, value, "semver", key_line));
          PLUGCTL_RETURN_IF_ERROR(CheckSemver(b, range, key_line));
          source.semver = std::move(range);
        } else if (key == "newest") {
          PLUGCTL_ASSIGN_OR_RETURN(std::string text, ScalarOf(b, value, "newest", key_line));
          uint64_t n = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
          if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
              n > kMaxNewest) {
            return b.Fail(key_line, fmt::format("newest must be a number from 0 to {}: \"{}\"",
                                                kMaxNewest, Printable(text)));
          }
          source.newest = static_cast<size_t>(n);
          newest_line = key_line;
        } else {
          return b.Fail(key_line,
                        fmt::format("unknown key \"{}\" (an image has repository, tags, tag-regex, "
                                    "semver, newest)",
                                    Printable(key)));
        }
        return OkStatus();
      });
  if (!fields) return fields;
  if (!repository) return b.Fail(line, "image has no `repository`");
  if (source.newest > 0 && !source.tag_regex && !source.semver) {
    return b.Fail(newest_line, "newest needs tag-regex or semver to choose versions from");
  }
  if (source.refs.empty() && !source.NeedsTagList()) {
    return b.Fail(line, fmt::format("image \"{}\" selects nothing: add tags, tag-regex or semver",
                                    repository->Name()));
  }
  MirrorSource base = SourceOf(*repository);
  source.repository = std::move(base.repository);
  return b.Add(std::move(source), line);
}

Status ReadPlugctl(ListBuilder& b, const YAML::Node& root) {
  return ForEachPair(
      b, root, [&](const std::string& key, int line, const YAML::Node& images) -> Status {
        if (key != "images") {
          return b.Fail(line, fmt::format("unknown key \"{}\" (a plugctl list has only `images`)",
                                          Printable(key)));
        }
        if (images.IsNull()) return OkStatus();
        if (!images.IsSequence()) return b.Fail(line, "images must be a list");
        for (const YAML::Node& item : images) {
          PLUGCTL_RETURN_IF_ERROR(ReadPlugctlEntry(b, item, LineOf(item, line)));
        }
        return OkStatus();
      });
}

bool LooksLikeRegistryHost(std::string_view key) {
  return key.find_first_of(".:") != std::string_view::npos || key == "localhost" ||
         key.substr(0, key.find('/')) == "localhost";
}

// skopeo sync: {registry: {images, images-by-tag-regex, images-by-semver, ...}}.
Status ReadSkopeoRegistry(ListBuilder& b, const std::string& registry, const YAML::Node& config,
                          int registry_line) {
  if (!config.IsMap()) {
    return b.Fail(registry_line,
                  fmt::format("registry \"{}\" must map to images, images-by-tag-regex or "
                              "images-by-semver",
                              Printable(registry)));
  }
  auto repo_ref = [&](const std::string& repo) { return fmt::format("{}/{}", registry, repo); };
  return ForEachPair(
      b, config, [&](const std::string& key, int line, const YAML::Node& value) -> Status {
        if (key == "tls-verify") {
          if (value.IsScalar() &&
              (value.Scalar() == "true" || value.Scalar() == "True" || value.Scalar() == "TRUE")) {
            return OkStatus();  // the default; nothing to turn off
          }
          return b.Fail(line,
                        "tls-verify is not read from lists: pass --insecure for this registry");
        }
        if (key == "cert-dir") {
          return b.Fail(line, "cert-dir is not read from lists: pass --ca-file instead");
        }
        if (key == "credentials") {
          return b.Fail(line, fmt::format("credentials are not read from lists: run `plugctl login "
                                          "{}` instead",
                                          Printable(registry)));
        }
        bool by_tags = key == "images";
        bool by_regex = key == "images-by-tag-regex";
        bool by_semver = key == "images-by-semver";
        if (!by_tags && !by_regex && !by_semver) {
          return b.Fail(line, fmt::format("unknown key \"{}\" (skopeo sync registries have images, "
                                          "images-by-tag-regex, images-by-semver)",
                                          Printable(key)));
        }
        if (value.IsNull()) return OkStatus();
        if (!value.IsMap()) return b.Fail(line, fmt::format("{} must map repositories", key));
        return ForEachPair(
            b, value,
            [&](const std::string& repo, int repo_line, const YAML::Node& selector) -> Status {
              if (by_tags) {
                Result<oci::Reference> ref = oci::Reference::Parse(repo_ref(repo));
                if (!ref) return b.Fail(repo_line, ref.error().message());
                PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> refs,
                                         ParseTagList(b, selector, repo_line));
                MirrorSource source = SourceOf(*ref);
                if (!ref->tag.empty() || ref->digest) {
                  // skopeo: a repository written with its tag takes that image alone.
                  if (!refs.empty()) {
                    return b.Fail(repo_line,
                                  fmt::format("\"{}\" names a tag or digest, so its list must "
                                              "be empty",
                                              Printable(repo)));
                  }
                  source.refs.push_back(ref->TagOrDigest());
                } else if (refs.empty()) {
                  source.all_tags = true;  // skopeo: an empty list means every tag
                } else {
                  source.refs = std::move(refs);
                }
                return b.Add(std::move(source), repo_line);
              }
              PLUGCTL_ASSIGN_OR_RETURN(oci::Reference ref,
                                       ParseRepository(b, repo_ref(repo), repo_line));
              std::string what =
                  fmt::format("the {} of \"{}\"", by_regex ? "regex" : "range", repo);
              PLUGCTL_ASSIGN_OR_RETURN(std::string pattern, ScalarOf(b, selector, what, repo_line));
              MirrorSource source = SourceOf(ref);
              if (by_regex) {
                PLUGCTL_RETURN_IF_ERROR(CheckRegex(b, pattern, repo_line));
                source.tag_regex = std::move(pattern);
              } else {
                PLUGCTL_RETURN_IF_ERROR(CheckSemver(b, pattern, repo_line));
                source.semver = std::move(pattern);
              }
              return b.Add(std::move(source), repo_line);
            });
      });
}

Status ReadSkopeo(ListBuilder& b, const YAML::Node& root) {
  return ForEachPair(
      b, root, [&](const std::string& key, int line, const YAML::Node& value) -> Status {
        if (!LooksLikeRegistryHost(key)) {
          return b.Fail(line, fmt::format("\"{}\" is not a registry host (a skopeo sync list maps "
                                          "registries like quay.io to their images)",
                                          Printable(key)));
        }
        return ReadSkopeoRegistry(b, key, value, line);
      });
}

// True if a line shows YAML structure ("key:", "key: value", "- item", "{"), which no line of
// a properties file or reference list has: a reference has no spaces and never ends in ':'.
bool LooksLikeYaml(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    if (line.back() == ':' || line.find(": ") != std::string_view::npos ||
        line.find(":\t") != std::string_view::npos || line.front() == '-' || line.front() == '{' ||
        line.front() == '[' || line == "---") {
      return true;
    }
  }
  return false;
}

enum class YamlKind { kNone, kPlugctl, kSkopeo };

YamlKind KindOf(const YAML::Node& root) {
  if (!root.IsMap()) return YamlKind::kNone;
  bool hosts = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = KeyOf(it->first);
    if (key == "images") return YamlKind::kPlugctl;
    hosts = hosts || LooksLikeRegistryHost(key);
  }
  return hosts ? YamlKind::kSkopeo : YamlKind::kNone;
}

}  // namespace

Result<std::vector<MirrorSource>> ParseMirrorList(std::string_view text,
                                                  std::string_view file_name) {
  if (text.size() > kMaxMirrorListBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "{}: list is {} bytes, more than the limit of {}", file_name, text.size(),
                     kMaxMirrorListBytes);
  }
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    text.remove_prefix(kByteOrderMark.size());
  }
  const bool yaml_like = LooksLikeYaml(text);
  // LoadYaml first: it enforces the limits (depth, alias expansion, UTF-8) that yaml-cpp's own
  // node builder lacks; only then is the text loaded as nodes, which keep scalars as written
  // (tags: [1.10] is the tag "1.10", not the number 1.1).
  spec::YamlLoadResult checked =
      spec::LoadYaml(text, spec::YamlLimits{.max_bytes = kMaxMirrorListBytes});
  if (checked.error) {
    if (!yaml_like) return ParseLines(text, file_name);
    ListBuilder b(file_name);
    return b.Fail(checked.error_line, checked.error->message(), checked.error->code());
  }
  if (checked.documents.size() > 1 && yaml_like) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: expected one YAML document, found {} (separated by ---)", file_name,
                     checked.documents.size());
  }
  if (checked.documents.size() != 1 || !checked.documents.front().value.is_object()) {
    if (yaml_like && checked.documents.size() == 1 && checked.documents.front().value.is_array()) {
      ListBuilder b(file_name);
      return b.Fail(1, "a YAML list is a map: `images:` followed by the images");
    }
    return ParseLines(text, file_name);
  }
  checked.documents.clear();

  try {
    YAML::Node root = YAML::Load(std::string(text));
    ListBuilder builder(file_name);
    switch (KindOf(root)) {
      case YamlKind::kPlugctl:
        PLUGCTL_RETURN_IF_ERROR(ReadPlugctl(builder, root));
        return builder.Finish();
      case YamlKind::kSkopeo:
        PLUGCTL_RETURN_IF_ERROR(ReadSkopeo(builder, root));
        return builder.Finish();
      case YamlKind::kNone:
        break;
    }
    if (root.begin() == root.end()) return builder.Finish();  // {}: no images
    std::string first_key = KeyOf(root.begin()->first);
    return builder.Fail(LineOf(root.begin()->first, 1),
                        fmt::format("unknown key \"{}\": a YAML list has `images:` (plugctl) or "
                                    "registry hosts (skopeo sync) at the top",
                                    Printable(first_key)));
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    return ListBuilder(file_name).Fail(line, fmt::format("invalid YAML: {}", e.msg));
  } catch (const std::exception& e) {
    return ListBuilder(file_name).Fail(0, fmt::format("invalid YAML: {}", e.what()));
  }
}

Result<MirrorSource> ParseMirrorReference(std::string_view text, std::string_view origin) {
  Result<oci::Reference> ref = oci::Reference::Parse(text);
  if (!ref) {
    return tl::unexpected(
        Error(ErrorCode::kInvalidArgument,
              Printable(fmt::format("{}: {}", origin, ref.error().message()), 1024)));
  }
  MirrorSource source = SourceOf(*ref);
  // With both a tag and a digest the digest decides, as in docker pull.
  source.refs.push_back(ref->TagOrDigest());
  source.origin = std::string(origin);
  return source;
}

bool IsReferrerTag(std::string_view tag) {
  // "sha256-<64 hex>" (the OCI referrers tag schema) or "sha512-<128 hex>", then optionally
  // cosign's ".sig", ".att", ".sbom" or any other ".suffix".
  for (auto [prefix, hex] : {std::pair{std::string_view("sha256-"), size_t{64}},
                             std::pair{std::string_view("sha512-"), size_t{128}}}) {
    if (!tag.starts_with(prefix) || tag.size() < prefix.size() + hex) continue;
    std::string_view digits = tag.substr(prefix.size(), hex);
    bool all_hex = std::all_of(digits.begin(), digits.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    std::string_view rest = tag.substr(prefix.size() + hex);
    if (all_hex && (rest.empty() || rest.front() == '.')) return true;
  }
  return false;
}

Result<std::vector<std::string>> SelectTags(const MirrorSource& source,
                                            const std::vector<std::string>& available) {
  std::vector<std::string> selected;
  if (!source.NeedsTagList()) return selected;
  std::optional<spec::EcmaRegex> regex;
  if (source.tag_regex) {
    Result<spec::EcmaRegex> compiled = spec::EcmaRegex::Compile(*source.tag_regex);
    if (!compiled) {
      return tl::unexpected(compiled.error().WithContext(
          fmt::format("{}: tag regex \"{}\"", source.origin, Printable(*source.tag_regex))));
    }
    regex = std::move(*compiled);
  }
  std::optional<SemverRange> range;
  if (source.semver) {
    Result<SemverRange> parsed = SemverRange::Parse(*source.semver);
    if (!parsed) return tl::unexpected(parsed.error().WithContext(source.origin));
    range = std::move(*parsed);
  }

  std::vector<std::pair<std::optional<SemVer>, std::string>> chosen;
  std::unordered_set<std::string_view> seen;
  for (const std::string& tag : available) {
    // A registry's tag list is untrusted too: what is not a valid tag cannot be pulled by tag.
    if (!oci::ValidateTag(tag) || !seen.insert(tag).second) continue;
    // Signatures, SBOMs and attached artifacts, not images of the plugin: they travel with
    // their subject (--with-referrers).
    if (IsReferrerTag(tag)) continue;
    if (regex) {
      Result<bool> match = regex->Search(tag);
      if (!match) {
        return tl::unexpected(match.error().WithContext(
            fmt::format("{}: tag regex \"{}\" on tag \"{}\"", source.origin,
                        Printable(*source.tag_regex), tag)));
      }
      if (!*match) continue;
    }
    std::optional<SemVer> version = SemVer::Parse(tag);
    // all_tags alone takes everything; patterns, when set, decide.
    if (range && (!version || !range->Matches(*version))) continue;
    if (source.newest > 0 && !version) continue;  // "the N highest versions": versions only
    chosen.emplace_back(std::move(version), tag);
  }
  // Names first, then versions ascending, so that the highest version is last.
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) {
    if (a.first.has_value() != b.first.has_value()) return !a.first.has_value();
    if (a.first) {
      if (int c = a.first->Compare(*b.first); c != 0) return c < 0;
    }
    return a.second < b.second;
  });
  size_t skip = 0;
  if (source.newest > 0 && chosen.size() > source.newest) skip = chosen.size() - source.newest;
  selected.reserve(chosen.size() - skip);
  for (size_t i = skip; i < chosen.size(); ++i) selected.push_back(std::move(chosen[i].second));
  return selected;
}

}  // namespace plugctl::transfer
