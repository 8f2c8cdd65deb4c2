#include "plugctl/oci/reference.h"

#include <vector>

namespace plugctl::oci {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;
// Inputs are echoed in errors; cap them so a hostile string cannot flood logs.
constexpr size_t kMaxShown = 256;

constexpr std::string_view kOciScheme = "oci://";
// Docker's legacy Hub host; docker normalizes it to docker.io.
constexpr std::string_view kLegacyDockerHub = "index.docker.io";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(text[i]) != Lower(prefix[i])) return false;
  }
  return true;
}

std::string Shown(std::string_view text) {
  if (text.size() <= kMaxShown) return std::string(text);
  return fmt::format("{}...", text.substr(0, kMaxShown));
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

// [a-z0-9]+ ( ('.' | '_' | '__' | '-'+) [a-z0-9]+ )*
bool IsValidPathComponent(std::string_view c) {
  size_t i = 0;
  auto alnum_run = [&] {
    size_t start = i;
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// ([a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])
bool IsValidDomainComponent(std::string_view c) {
  if (c.empty() || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

// Validates "host[:port]" where host is a DNS name, an IPv4 address or a
// bracketed IPv6 address. Returns the problem, or "" when valid.
std::string DomainProblem(std::string_view domain) {
  std::string_view host = domain;
  std::string_view port;
  bool has_port = false;
  if (domain.front() == '[') {
    size_t close = domain.find(']');
    if (close == std::string_view::npos) {
      return fmt::format("registry \"{}\" has an unterminated '[' IPv6 address", Shown(domain));
    }
    std::string_view ip = domain.substr(1, close - 1);
    bool ok = ip.find(':') != std::string_view::npos;
    for (char c : ip) ok = ok && (IsHex(c) || c == ':' || c == '.');
    if (!ok) return fmt::format("registry \"{}\" has an invalid IPv6 address", Shown(domain));
    host = domain.substr(0, close + 1);
    std::string_view rest = domain.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return fmt::format("registry \"{}\" has junk after the IPv6 address", Shown(domain));
      }
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    size_t colon = domain.find(':');
    if (colon != std::string_view::npos) {
      host = domain.substr(0, colon);
      port = domain.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return fmt::format("registry \"{}\" has an empty host", Shown(domain));
    for (std::string_view component : Split(host, '.')) {
      if (!IsValidDomainComponent(component)) {
        return fmt::format(
            "registry host \"{}\" is invalid: labels are letters, digits and inner '-', "
            "separated by '.'",
            Shown(host));
      }
    }
  }
  if (has_port) {
    if (port.empty()) return fmt::format("registry \"{}\" has an empty port", Shown(domain));
    bool digits = port.size() <= 5;
    for (char c : port) digits = digits && IsDigit(c);
    int value = 0;
    if (digits) {
      for (char c : port) value = value * 10 + (c - '0');
    }
    if (!digits || value < 1 || value > 65535) {
      return fmt::format("registry \"{}\" has invalid port \"{}\" (want 1-65535)", Shown(domain),
                         port.substr(0, 32));
    }
  }
  return "";
}

// Validates a repository path. Returns the problem, or "" when valid.
std::string RepositoryProblem(std::string_view repository) {
  if (repository.empty()) return "missing repository name";
  for (char c : repository) {
    if (c >= 'A' && c <= 'Z') {
      return fmt::format("repository name \"{}\" must be lowercase", Shown(repository));
    }
  }
  if (repository.back() == '/') {
    return fmt::format("repository name \"{}\" has a trailing '/'", Shown(repository));
  }
  if (repository.front() == '/') {
    return fmt::format("repository name \"{}\" has a leading '/'", Shown(repository));
  }
  for (std::string_view component : Split(repository, '/')) {
    if (component.empty()) {
      return fmt::format("repository name \"{}\" has an empty path component (\"//\")",
                         Shown(repository));
    }
    if (!IsValidPathComponent(component)) {
      return fmt::format(
          "path component \"{}\" is invalid: use [a-z0-9] separated by '.', '_', '__' or '-'",
          Shown(component));
    }
  }
  return "";
}

std::string TagProblem(std::string_view tag) {
  if (tag.empty()) return "tag is empty";
  if (tag.size() > kMaxTagLength) {
    return fmt::format("tag \"{}...\" is longer than {} characters", tag.substr(0, 32),
                       kMaxTagLength);
  }
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  bool ok = word(tag.front());
  for (char c : tag.substr(1)) ok = ok && (word(c) || c == '.' || c == '-');
  if (!ok) {
    return fmt::format("tag \"{}\" has invalid characters (want [A-Za-z0-9_][A-Za-z0-9_.-]*)", tag);
  }
  return "";
}

}  // namespace

Status ValidateTag(std::string_view tag) {
  std::string problem = TagProblem(tag);
  if (!problem.empty()) return MakeError(ErrorCode::kInvalidArgument, "{}", problem);
  return OkStatus();
}

Result<Reference> Reference::Parse(std::string_view text) {
  const std::string shown = Shown(text);
  auto fail = [&](std::string_view problem) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid reference \"{}\": {}", shown, problem);
  };
  if (text.empty()) return fail("empty reference");

  std::string_view rest = text;
  if (StartsWithIgnoreCase(rest, kOciScheme)) {
    rest.remove_prefix(kOciScheme.size());
  } else if (size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    return fail(fmt::format("unsupported scheme \"{}://\" (use oci:// or no scheme)",
                            Shown(rest.substr(0, scheme))));
  }
  if (rest.empty()) return fail("empty reference after oci://");

  Reference ref;
  // The digest goes first: its "sha256:" colon must not be taken for a tag.
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest_text = rest.substr(at + 1);
    if (digest_text.empty()) return fail("empty digest after '@'");
    Result<Digest> digest = Digest::Parse(digest_text);
    if (!digest) return fail(digest.error().message());
    ref.digest = std::move(*digest);
    rest = rest.substr(0, at);
  }

  // A ':' after the last '/' starts the tag; an earlier one is a port.
  size_t last_slash = rest.rfind('/');
  size_t last_colon = rest.rfind(':');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    std::string_view tag = rest.substr(last_colon + 1);
    if (tag.empty()) return fail("empty tag after ':'");
    if (std::string problem = TagProblem(tag); !problem.empty()) return fail(problem);
    ref.tag = std::string(tag);
    rest = rest.substr(0, last_colon);
  }
  if (rest.empty()) return fail("missing repository name");

  std::string_view repository = rest;
  size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        (!first.empty() && first.front() == '[')) {
      if (std::string problem = DomainProblem(first); !problem.empty()) return fail(problem);
      ref.registry = std::string(first);
      repository = rest.substr(first_slash + 1);
    }
  }
  if (ref.registry.empty() || ref.registry == kLegacyDockerHub) {
    ref.registry = std::string(kDockerHubRegistry);
  }
  if (std::string problem = RepositoryProblem(repository); !problem.empty()) return fail(problem);
  // Docker Hub's official images live under library/.
  if (ref.registry == kDockerHubRegistry && repository.find('/') == std::string_view::npos) {
    ref.repository = fmt::format("library/{}", repository);
  } else {
    ref.repository = std::string(repository);
  }
  // Measured on the normalized name so that Parse(ToString()) accepts what
  // Parse returned.
  if (size_t length = ref.Name().size(); length > kMaxNameLength) {
    return fail(fmt::format("name \"{}\" is {} characters, over the {} limit", Shown(ref.Name()),
                            length, kMaxNameLength));
  }
  return ref;
}

std::string Reference::ToString() const {
  std::string out = Name();
  if (!tag.empty()) {
    out += ':';
    out += tag;
  }
  if (digest) {
    out += '@';
    out += digest->ToString();
  }
  return out;
}

std::string Reference::Name() const { return fmt::format("{}/{}", registry, repository); }

std::string Reference::TagOrDigest() const {
  if (digest) return digest->ToString();
  if (!tag.empty()) return tag;
  return "latest";
}

bool IsValidRepositoryName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    if (!IsValidPathComponent(name.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace plugctl::oci
