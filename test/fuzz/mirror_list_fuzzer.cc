// Fuzzes the `plugctl mirror` list reader (plugins.properties, plugctl YAML, skopeo sync YAML)
// and the tag selection behind it with arbitrary bytes. Beyond not crashing or hanging: errors
// are one line; every source names a repository without tag or digest and selects something;
// SelectTags returns a sorted subset of the tags it was given; the same bytes read as a semver
// range or version behave consistently.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/transfer/mirror_list.h"
#include "plugctl/transfer/semver.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

const std::vector<std::string>& Tags() {
  static const auto* tags = new std::vector<std::string>{
      "latest",
      "1.0.0",
      "1.0.1",
      "v1.2",
      "2.0.0-rc.1",
      "2.0.0",
      "10.0.0",
      "main",
      "0.0.1",
      "1.0.0-rc.1",
      "1.0.0",
      "bad tag",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
  };
  return *tags;
}

void CheckError(const plugctl::Error& e) {
  Check(!e.message().empty());
  Check(e.message().find('\n') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plugctl::transfer;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  plugctl::Result<std::vector<MirrorSource>> sources = ParseMirrorList(text, "list");
  if (!sources) {
    CheckError(sources.error());
  } else {
    Check(!sources->empty() && sources->size() <= kMaxMirrorListEntries);
    for (const MirrorSource& s : *sources) {
      Check(!s.repository.registry.empty() && !s.repository.repository.empty());
      Check(s.repository.tag.empty() && !s.repository.digest);
      Check(!s.refs.empty() || s.NeedsTagList());
      Check(s.origin.rfind("list:", 0) == 0);
      plugctl::Result<std::vector<std::string>> tags = SelectTags(s, Tags());
      if (!tags) {
        CheckError(tags.error());
        continue;
      }
      Check(s.NeedsTagList() || tags->empty());
      Check(s.newest == 0 || tags->size() <= s.newest);
      for (size_t i = 0; i < tags->size(); ++i) {
        Check(std::find(Tags().begin(), Tags().end(), (*tags)[i]) != Tags().end());
        if (i > 0) {
          std::optional<SemVer> a = SemVer::Parse((*tags)[i - 1]);
          std::optional<SemVer> b = SemVer::Parse((*tags)[i]);
          // Names first (by name), then versions ascending.
          Check(!(a && !b));
          if (a && b) Check(a->Compare(*b) <= 0);
          if (!a && !b) Check((*tags)[i - 1] < (*tags)[i]);
        }
      }
    }
  }

  // The same bytes as a version and as a range.
  if (std::optional<SemVer> v = SemVer::Parse(text)) {
    std::optional<SemVer> again = SemVer::Parse(v->ToString());
    Check(again && again->Compare(*v) == 0 && again->ToString() == v->ToString());
    plugctl::Result<SemverRange> exact = SemverRange::Parse(v->ToString());
    // A version is a range matching itself (a prerelease names its own release).
    if (exact && v->build.empty()) Check(exact->Matches(*v));
  }
  plugctl::Result<SemverRange> range = SemverRange::Parse(text);
  if (!range) {
    CheckError(range.error());
  } else {
    for (const std::string& tag : Tags()) {
      if (std::optional<SemVer> v = SemVer::Parse(tag)) (void)range->Matches(*v);
    }
  }
  return 0;
}
