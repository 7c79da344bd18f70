#include "dockerignore.h"

namespace berth::cli {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// filepath.Clean for a relative pattern: no leading "/" or "./", no empty or "." components.
std::string clean(std::string_view p) {
  std::string out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(start, end - start);
    if (part == "..") {
      size_t cut = out.rfind('/');
      out.erase(cut == std::string::npos ? 0 : cut);
    } else if (!part.empty() && part != ".") {
      if (!out.empty()) out += '/';
      out += part;
    }
    start = end + 1;
  }
  return out;
}

// [...] at pattern[pi]: whether c matches; pi moves past the class.
bool match_class(std::string_view pattern, size_t& pi, char c) {
  size_t i = pi + 1;
  bool negate = i < pattern.size() && (pattern[i] == '^' || pattern[i] == '!');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  for (; i < pattern.size() && (first || pattern[i] != ']'); ++i, first = false) {
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  pi = i < pattern.size() ? i + 1 : i;
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return path.empty();
  if (pattern.starts_with("**")) {
    std::string_view rest = pattern.substr(2);
    if (rest.starts_with("/")) {
      // "**/x": x here or below any directory.
      if (glob_match(rest.substr(1), path)) return true;
    } else if (rest.empty()) {
      return true;
    }
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '/' && glob_match(rest.starts_with("/") ? rest.substr(1) : rest, path.substr(i + 1))) return true;
      if (!rest.starts_with("/") && glob_match(rest, path.substr(i))) return true;
    }
    return false;
  }
  char p = pattern.front();
  if (p == '*') {
    for (size_t i = 0; i <= path.size(); ++i) {
      if (glob_match(pattern.substr(1), path.substr(i))) return true;
      if (i < path.size() && path[i] == '/') break;
    }
    return false;
  }
  if (path.empty()) return false;
  if (p == '?') return path.front() != '/' && glob_match(pattern.substr(1), path.substr(1));
  if (p == '[') {
    size_t pi = 0;
    if (path.front() == '/' || !match_class(pattern, pi, path.front())) return false;
    return glob_match(pattern.substr(pi), path.substr(1));
  }
  if (p == '\\' && pattern.size() > 1) {
    return path.front() == pattern[1] && glob_match(pattern.substr(2), path.substr(1));
  }
  return p == path.front() && glob_match(pattern.substr(1), path.substr(1));
}

DockerIgnore DockerIgnore::parse(std::string_view text) {
  DockerIgnore out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    Pattern p;
    if (line.front() == '!') {
      p.negated = true;
      line = trim(line.substr(1));
      out.has_exceptions_ = true;
    }
    p.glob = clean(line);
    if (!p.glob.empty()) out.patterns_.push_back(std::move(p));
  }
  return out;
}

bool DockerIgnore::excluded(std::string_view path) const {
  bool result = false;
  for (const auto& p : patterns_) {
    bool match = glob_match(p.glob, path);
    // A pattern matching a parent directory matches everything in it.
    for (size_t i = path.find('/'); !match && i != std::string_view::npos; i = path.find('/', i + 1)) {
      match = glob_match(p.glob, path.substr(0, i));
    }
    if (match) result = !p.negated;
  }
  return result;
}

}  // namespace berth::cli
