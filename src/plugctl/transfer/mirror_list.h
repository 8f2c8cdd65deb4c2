// plugctl/transfer/mirror_list.h — the lists `plugctl mirror` reads: which images to mirror.
//
// A list file is one of (detected from its content, never from its name alone):
//
//  1. Higress `plugins.properties`: `name=oci://host/repo:tag` lines (spaces around '=' allowed),
//     `#`/`!` comments, blank lines. Also a plain list: one reference per line (`host/repo:tag`,
//     `oci://…`, `…@sha256:…`). No tag means `latest`; with a tag and a digest the digest
//     decides. A name repeated with another image is an error (Higress would keep the last).
//  2. plugctl YAML:
//       images:
//         - oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0
//         - repository: higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/key-auth
//           tags: [1.0.0, latest, "sha256:…"]   # explicit tags and digests
//           tag-regex: '^1\.0\.'                 # ECMAScript regex over the repository's tags
//           semver: '>=1.0.0 <2.0.0'             # a semver range over the repository's tags
//           newest: 2                            # keep the N highest versions regex/semver chose
//     Scalars are read as written: `tags: [1.10]` is the tag "1.10". `newest` needs tag-regex or
//     semver; an entry must select something (tags or a pattern).
//  3. `skopeo sync` YAML (a map of registry host to):
//       images: {repo: [tag…]}   (an empty list means every tag)
//       images-by-tag-regex: {repo: regex}
//       images-by-semver: {repo: range}
//     A repository written with a tag (`nginx:1.25: []`) takes that image. tls-verify: false,
//     cert-dir and credentials are refused with a message naming the flag or command to use
//     instead (--insecure/--ca-file, plugctl login); tls-verify: true (the default) is accepted.
//
// A YAML document is recognised by its top level being a map with `images` (2) or with keys that
// look like registry hosts (3); anything else is read line by line as (1). Text with YAML
// structure (`key:`, `key: value`, `- item`) that fails to parse is reported as invalid YAML.
// Semver ranges are those of semver.h (Masterminds/npm syntax; prereleases as in npm).
//
// Lists are untrusted input: bounded size (kMaxMirrorListBytes), bounded entry count, every
// reference validated with oci::Reference::Parse; errors are one line naming "file:line" and
// the bad value. Entries naming the same image are merged: one source per repository, pattern
// set (tag_regex, semver, all_tags, newest) and plugins.properties key, each image in the first
// such source naming it; two keys naming one image keep one source each (each key is a name the
// Higress console asks for).
//
//   PLUGCTL_ASSIGN_OR_RETURN(std::vector<MirrorSource> sources,
//                            ParseMirrorList(text, "plugins.properties"));
//   for (auto& s : sources) if (s.NeedsTagList()) { ... SelectTags(s, repo_tags) ... }
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/reference.h"

namespace plugctl::transfer {

inline constexpr size_t kMaxMirrorListBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxMirrorListEntries = 10000;

// One repository of a list and which of its images to take.
struct MirrorSource {
  // registry + repository (tag and digest empty).
  oci::Reference repository;
  // Tags and digests ("sha256:…") named explicitly, in list order, deduplicated.
  std::vector<std::string> refs;
  // Patterns over the repository's tag list (either may be set; a tag must match both).
  std::optional<std::string> tag_regex;
  std::optional<std::string> semver;
  // Every tag of the repository (skopeo sync's empty list).
  bool all_tags = false;
  // Keep only the N highest semver versions among the pattern-selected tags (0: all).
  size_t newest = 0;
  // Where the entry was written: "plugins.properties:14", "list.yaml:7", "argument 2".
  std::string origin;
  // The plugins.properties key ("basic-auth"), empty elsewhere.
  std::string name;

  // True when the repository's tags must be listed (regex, semver, all tags).
  bool NeedsTagList() const { return all_tags || tag_regex || semver; }
};

// Parses a list file's content. `file_name` is used in messages only.
// Errors: kInvalidArgument (syntax, bad reference, bad regex or semver range, unknown YAML keys,
// an entry selecting nothing), kResourceExhausted (over the limits).
[[nodiscard]] Result<std::vector<MirrorSource>> ParseMirrorList(std::string_view text,
                                                                std::string_view file_name);

// A reference given on the command line ("oci://host/repo:tag", "host/repo@sha256:…"); a
// reference without tag or digest means ":latest". `origin` names it in messages.
[[nodiscard]] Result<MirrorSource> ParseMirrorReference(std::string_view text,
                                                        std::string_view origin);

// The tags of `available` that `source`'s patterns select (tag_regex, semver, all_tags,
// newest), sorted by version where they parse as semver (highest last) and by name otherwise;
// explicit refs are NOT included. kInvalidArgument for a bad pattern (naming source.origin).
//   - tag_regex is searched unanchored (as skopeo's MatchString); semver uses SemVer::Parse,
//     so "v1.2" and "1.2" are versions; when patterns are set they decide, all_tags alone
//     takes every tag; no pattern at all selects nothing.
//   - Tags that are not valid OCI tags, and repeats, are dropped (a registry is untrusted too).
//   - Referrer tags (IsReferrerTag) are never selected: they name signatures and attachments,
//     which travel with their subject (MirrorOptions::with_referrers).
//   - newest > 0 keeps only tags that are versions, the `newest` highest of them.
//   - Order: non-version tags by name first, then versions ascending (equal versions by name).
//   - kResourceExhausted (naming the tag) if the regex hits its match limit on some tag.
// Whether `tag` is one a registry without the referrers API holds referrers under:
// "sha256-<64 lowercase hex>" (OCI tag schema, `plugctl attach`), optionally with a ".suffix"
// (cosign's "sha256-<hex>.sig", ".att", ".sbom"); sha512 likewise.
bool IsReferrerTag(std::string_view tag);

[[nodiscard]] Result<std::vector<std::string>> SelectTags(
    const MirrorSource& source, const std::vector<std::string>& available);

}  // namespace plugctl::transfer
