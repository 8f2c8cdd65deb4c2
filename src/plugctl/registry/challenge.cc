#include "plugctl/registry/challenge.h"

#include <cctype>

namespace plugctl::registry {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  void SkipSpace() {
    while (!done() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  std::string_view Token() {
    size_t start = pos_;
    while (!done() && IsTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  // token68 may end in '=' padding.
  std::string_view Token68() {
    size_t start = pos_;
    while (!done() && (IsTokenChar(s_[pos_]) || s_[pos_] == '/')) ++pos_;
    while (!done() && s_[pos_] == '=') ++pos_;
    return s_.substr(start, pos_ - start);
  }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool Quoted(std::string& out) {
    if (!Consume('"')) return false;
    while (!done()) {
      char c = s_[pos_++];
      if (c == '"') return true;
      if (c == '\\' && !done()) c = s_[pos_++];
      out.push_back(c);
    }
    return false;  // unterminated
  }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Challenge> ParseChallenges(std::string_view header) {
  std::vector<Challenge> out;
  Cursor c(header);
  for (;;) {
    c.SkipSpace();
    while (c.Consume(',')) c.SkipSpace();
    if (c.done()) break;
    std::string_view scheme = c.Token();
    if (scheme.empty()) break;
    Challenge challenge{Lower(scheme), {}};
    c.SkipSpace();
    // Parameters: name=value pairs separated by commas, until a token that
    // is not followed by '=' (the next challenge's scheme).
    for (;;) {
      c.SkipSpace();
      size_t mark = c.pos();
      std::string_view name = c.Token();
      if (name.empty()) break;
      c.SkipSpace();
      if (!c.Consume('=')) {
        c.set_pos(mark);  // next challenge
        break;
      }
      c.SkipSpace();
      std::string value;
      if (c.peek() == '"') {
        if (!c.Quoted(value)) {
          out.push_back(std::move(challenge));
          return out;
        }
      } else {
        value = std::string(c.Token68());
      }
      challenge.params[Lower(name)] = std::move(value);
      c.SkipSpace();
      if (!c.Consume(',')) break;
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

}  // namespace plugctl::registry
