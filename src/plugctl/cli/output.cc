#include "plugctl/cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>

namespace plugctl::cli {

std::string Count(uint64_t n, std::string_view singular, std::string_view plural) {
  if (n == 1) return fmt::format("1 {}", singular);
  if (plural.empty()) return fmt::format("{} {}s", n, singular);
  return fmt::format("{} {}", n, plural);
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string ShortDigest(const oci::Digest& digest) {
  return fmt::format("{}:{}", digest.algorithm_name(), digest.hex().substr(0, 12));
}

namespace {
std::atomic<bool> json_printed{false};
}  // namespace

void PrintJson(const nlohmann::ordered_json& json) {
  std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  json_printed.store(true);
}

bool JsonPrinted() { return json_printed.load(); }

namespace {

// Length of the UTF-8 sequence starting at text[i] and its code point; 0 when invalid
// (truncated, overlong, surrogate, beyond U+10FFFF).
size_t DecodeUtf8(std::string_view text, size_t i, char32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool NeedsUnicodeEscape(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls (CSI is U+009B)
         cp == 0x061C ||                    // Arabic letter mark
         cp == 0x200E || cp == 0x200F ||    // LRM, RLM
         (cp >= 0x2028 && cp <= 0x202E) ||  // line/paragraph separators, embeddings, overrides
         (cp >= 0x2066 && cp <= 0x2069) ||  // isolates
         cp == 0xFEFF;                      // byte order mark
}

}  // namespace

std::string EscapeForText(std::string_view text) {
  // The common case (every access log line has a few): nothing to escape, one copy.
  if (std::all_of(text.begin(), text.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x20 && u < 0x7F;
      })) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u < 0x7F) {
      out += text[i++];
      continue;
    }
    if (u < 0x80) {
      switch (u) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += fmt::format("\\x{:02x}", u);
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    size_t len = DecodeUtf8(text, i, cp);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", u);
      ++i;
    } else if (NeedsUnicodeEscape(cp)) {
      out += fmt::format("\\u{:04x}", static_cast<uint32_t>(cp));
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string EscapeJoin(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += EscapeForText(item);
  }
  return out;
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

transfer::ProgressCallback ProgressBar::Callback() {
  if (!enabled_) return nullptr;
  return [this](const transfer::ProgressEvent& event) { OnEvent(event); };
}

void ProgressBar::OnEvent(const transfer::ProgressEvent& event) {
  std::lock_guard lock(mu_);
  using Kind = transfer::ProgressEvent::Kind;
  switch (event.kind) {
    case Kind::kPlanned:
      total_blobs_ = (accumulate_ ? total_blobs_ : 0) + event.total_blobs;
      total_bytes_ = (accumulate_ ? total_bytes_ : 0) + event.total_bytes;
      break;
    case Kind::kBytes:
      done_bytes_ += event.bytes;
      break;
    case Kind::kSkipped:
      ++done_blobs_;
      if (event.descriptor != nullptr) done_bytes_ += static_cast<uint64_t>(event.descriptor->size);
      break;
    case Kind::kFinished:
      ++done_blobs_;
      break;
    case Kind::kStarted:
      break;
  }
  Render(event.kind == Kind::kFinished || event.kind == Kind::kSkipped);
}

void ProgressBar::Render(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_render_ < std::chrono::milliseconds(100)) return;
  last_render_ = now;
  constexpr int kWidth = 24;
  int filled =
      total_bytes_ == 0
          ? kWidth
          : static_cast<int>(kWidth * std::min<double>(1.0, static_cast<double>(done_bytes_) /
                                                                static_cast<double>(total_bytes_)));
  double seconds = std::chrono::duration<double>(now - start_).count();
  double rate = seconds > 0 ? static_cast<double>(done_bytes_) / seconds : 0;
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(kWidth, ' ');
  fmt::print(stderr, "\r\033[K{} [{}] {}/{} blobs {} / {} {}/s", label_, bar, done_blobs_,
             total_blobs_, HumanBytes(done_bytes_), HumanBytes(total_bytes_),
             HumanBytes(static_cast<uint64_t>(rate)));
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Finish() {
  std::lock_guard lock(mu_);
  if (drawn_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace plugctl::cli
