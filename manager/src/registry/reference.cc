#include "registry/reference.h"

#include "content/digest.h"

namespace berth::manager {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]+ separated by '.', '_', '__' or runs of '-'.
bool valid_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (is_lower_alnum(ch) || ch == '-') continue;
    if (ch == '.' || ch == '_') {
      if (!is_lower_alnum(c[i + 1]) && !(ch == '_' && c[i + 1] == '_' && is_lower_alnum(c[i + 2])))
        return false;
      if (ch == '_' && c[i + 1] == '_') ++i;
      continue;
    }
    return false;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || t.front() == '.' || t.front() == '-') return false;
  for (char c : t) {
    if (!(is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool valid_domain(std::string_view d) {
  if (d.empty()) return false;
  for (char c : d) {
    if (!(is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' || c == '[' ||
          c == ']')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Reference::full() const {
  std::string out = domain + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::registry_host() const {
  return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

Result<Reference> parse_reference(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, "invalid image reference {:?}: {}", std::string(text),
                      why);
  };
  if (text.empty() || text.size() > 512) return bad("empty or too long");
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (!validate_digest(ref.digest).ok()) return bad("bad digest");
    rest = rest.substr(0, at);
  }
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      if (!valid_domain(first)) return bad("bad registry host");
      ref.domain = std::string(first);
      rest = rest.substr(slash + 1);
    }
  }
  if (ref.domain.empty()) ref.domain = "docker.io";
  // A ':' after the last '/' starts the tag.
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!valid_tag(ref.tag)) return bad("bad tag");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad("missing repository name");
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string_view::npos) end = rest.size();
    if (!valid_path_component(rest.substr(start, end - start))) {
      return bad("repository names are lowercase [a-z0-9] separated by '.', '_', '__' or '-'");
    }
    start = end + 1;
  }
  ref.repository = std::string(rest);
  if (ref.domain == "docker.io" && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace berth::manager
