#include "berth/common/ids.h"

#include <sys/random.h>

#include <array>

namespace berth {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool docker_char(char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; }
bool runc_char(char c) { return docker_char(c) || c == '+'; }
bool namespace_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

struct Rule {
  std::string_view noun;
  std::string_view text;  // the rule as the error message states it
  size_t min_length;
  size_t max_length;
  bool alnum_first;
  bool (*allowed)(char);
};

// Indexed by IdKind.
constexpr std::array<Rule, 6> kRules{{
    {"container name", "[a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 76 characters", 2, 76, true, docker_char},
    {"container id", "[a-zA-Z0-9_+.-]+ but not \".\" or \"..\", at most 255 characters", 1, 255, false, runc_char},
    {"exec id", "[a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters", 1, 128, true, docker_char},
    {"namespace", "1-76 of [a-z0-9._-]", 1, 76, false, namespace_char},
    {"volume name", "[a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 128 characters", 2, 128, true, docker_char},
    {"network name", "[a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters", 1, 64, true, docker_char},
}};

const Rule& rule_for(IdKind kind) { return kRules[static_cast<size_t>(kind)]; }

// What the message quotes: the first 80 bytes, control and non-ASCII bytes as '?', so an
// oversized or binary name can't flood or garble a terminal or a gRPC trailer.
std::string shown(std::string_view id) {
  std::string out(id.substr(0, 80));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  if (id.size() > 80) out += "...";
  return out;
}

}  // namespace

std::string_view id_kind_name(IdKind kind) { return rule_for(kind).noun; }

size_t id_max_length(IdKind kind) { return rule_for(kind).max_length; }

bool is_valid_id(IdKind kind, std::string_view id) {
  const Rule& r = rule_for(kind);
  if (id.size() < r.min_length || id.size() > r.max_length) return false;
  if (id == "." || id == "..") return false;
  if (r.alnum_first && !is_alnum(id.front())) return false;
  for (char c : id)
    if (!r.allowed(c)) return false;
  return true;
}

Status validate_id(IdKind kind, std::string_view id) {
  if (is_valid_id(kind, id)) return {};
  const Rule& r = rule_for(kind);
  return make_error(ErrorCode::kInvalidArgument, "invalid {} \"{}\" ({} bytes): use {}", r.noun, shown(id), id.size(),
                    r.text);
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {  // getrandom only fails (EINTR) or returns short before the pool is ready
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace berth
