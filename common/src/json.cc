#include "berth/common/json.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace berth::json {

namespace {

// The deepest array/object nesting in text, counting only brackets outside strings; stops
// counting once past `limit`. yajl's tree builder and yajl_tree_free recurse per level, so a
// few hundred thousand nested arrays (a 600 KB document) overflow the stack: checked first.
size_t nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) break;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<Tree> parse(std::string_view text, std::string_view what) {
  if (nesting_depth(text, kMaxDepth) > kMaxDepth) {
    return make_error(ErrorCode::kInvalidArgument, "{}: invalid JSON: nested deeper than {} levels", what, kMaxDepth);
  }
  std::string copy(text);  // yajl_tree_parse wants a NUL-terminated buffer
  char errbuf[1024] = {0};
  yajl_val v = yajl_tree_parse(copy.c_str(), errbuf, sizeof errbuf);
  if (v == nullptr) {
    std::string msg = errbuf;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    for (auto& c : msg) if (c == '\n') c = ' ';
    return make_error(ErrorCode::kInvalidArgument, "{}: invalid JSON: {}", what, msg);
  }
  return Tree(v);
}

std::optional<Value> Value::get(std::string_view key) const {
  if (!is_object()) return std::nullopt;
  for (size_t i = 0; i < v_->u.object.len; ++i) {
    if (key == v_->u.object.keys[i]) {
      yajl_val child = v_->u.object.values[i];
      if (child == nullptr || YAJL_IS_NULL(child)) return std::nullopt;
      return Value(child, path_.empty() ? std::string(key) : path_ + "." + std::string(key));
    }
  }
  return std::nullopt;
}

Result<Value> Value::require(std::string_view key) const {
  if (!is_object()) return type_error("an object");
  auto v = get(key);
  if (!v) {
    return make_error(ErrorCode::kInvalidArgument, "{}: missing required field",
                      path_.empty() ? std::string(key) : path_ + "." + std::string(key));
  }
  return *v;
}

Error Value::type_error(std::string_view expected) const {
  return make_error(ErrorCode::kInvalidArgument, "{}: expected {}", path_.empty() ? "(root)" : path_, expected);
}

Result<std::string> Value::as_string() const {
  if (!is_string()) return type_error("a string");
  return std::string(YAJL_GET_STRING(v_));
}

Result<bool> Value::as_bool() const {
  if (v_ == nullptr || !(YAJL_IS_TRUE(v_) || YAJL_IS_FALSE(v_))) return type_error("a boolean");
  return static_cast<bool>(YAJL_IS_TRUE(v_));
}

Result<int64_t> Value::as_int64() const {
  if (v_ == nullptr || !YAJL_IS_NUMBER(v_)) return type_error("an integer");
  if (!YAJL_IS_INTEGER(v_)) {
    // yajl marks integers that overflow long long as not valid integers.
    std::string_view raw = v_->u.number.r;
    if (raw.find_first_of(".eE") == std::string_view::npos) {
      return make_error(ErrorCode::kOutOfRange, "{}: {} is out of range", path_, raw);
    }
    return type_error("an integer");
  }
  return static_cast<int64_t>(YAJL_GET_INTEGER(v_));
}

Result<uint64_t> Value::as_uint64() const {
  if (v_ == nullptr || !YAJL_IS_NUMBER(v_)) return type_error("an unsigned integer");
  std::string_view raw = v_->u.number.r;
  if (raw.empty() || raw.find_first_not_of("0123456789") != std::string_view::npos) {
    if (!raw.empty() && raw[0] == '-') return make_error(ErrorCode::kOutOfRange, "{}: {} is negative", path_, raw);
    return type_error("an unsigned integer");
  }
  errno = 0;
  std::string copy(raw);
  unsigned long long v = std::strtoull(copy.c_str(), nullptr, 10);
  if (errno == ERANGE) return make_error(ErrorCode::kOutOfRange, "{}: {} is out of range", path_, raw);
  return static_cast<uint64_t>(v);
}

Result<double> Value::as_double() const {
  if (v_ == nullptr || !YAJL_IS_NUMBER(v_)) return type_error("a number");
  return YAJL_GET_DOUBLE(v_);
}

Result<int32_t> Value::as_int32() const {
  BERTH_ASSIGN_OR_RETURN(int64_t v, as_int64());
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    return make_error(ErrorCode::kOutOfRange, "{}: {} is out of range for a 32-bit integer", path_, v);
  }
  return static_cast<int32_t>(v);
}

Result<uint32_t> Value::as_uint32() const {
  BERTH_ASSIGN_OR_RETURN(uint64_t v, as_uint64());
  if (v > std::numeric_limits<uint32_t>::max()) {
    return make_error(ErrorCode::kOutOfRange, "{}: {} is out of range for a 32-bit unsigned integer", path_, v);
  }
  return static_cast<uint32_t>(v);
}

Result<std::vector<Value>> Value::as_array() const {
  if (!is_array()) return type_error("an array");
  std::vector<Value> out;
  out.reserve(v_->u.array.len);
  for (size_t i = 0; i < v_->u.array.len; ++i) {
    out.emplace_back(v_->u.array.values[i], path_ + "[" + std::to_string(i) + "]");
  }
  return out;
}

Result<std::vector<std::pair<std::string, Value>>> Value::as_object() const {
  if (!is_object()) return type_error("an object");
  std::vector<std::pair<std::string, Value>> out;
  out.reserve(v_->u.object.len);
  for (size_t i = 0; i < v_->u.object.len; ++i) {
    std::string key = v_->u.object.keys[i];
    out.emplace_back(key, Value(v_->u.object.values[i], path_.empty() ? key : path_ + "." + key));
  }
  return out;
}

Result<std::vector<std::string>> Value::as_string_array() const {
  BERTH_ASSIGN_OR_RETURN(auto items, as_array());
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& item : items) {
    BERTH_ASSIGN_OR_RETURN(auto s, item.as_string());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::map<std::string, std::string>> Value::as_string_map() const {
  BERTH_ASSIGN_OR_RETURN(auto members, as_object());
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : members) {
    BERTH_ASSIGN_OR_RETURN(auto s, v.as_string());
    out.emplace(k, std::move(s));
  }
  return out;
}

Writer::Writer(bool pretty) : gen_(yajl_gen_alloc(nullptr)) {
  yajl_gen_config(gen_, yajl_gen_beautify, pretty ? 1 : 0);
  yajl_gen_config(gen_, yajl_gen_validate_utf8, 0);
  if (pretty) yajl_gen_config(gen_, yajl_gen_indent_string, "  ");
}

Writer::~Writer() { yajl_gen_free(gen_); }

Writer& Writer::begin_object() { yajl_gen_map_open(gen_); return *this; }
Writer& Writer::end_object() { yajl_gen_map_close(gen_); return *this; }
Writer& Writer::begin_array() { yajl_gen_array_open(gen_); return *this; }
Writer& Writer::end_array() { yajl_gen_array_close(gen_); return *this; }
Writer& Writer::key(std::string_view k) { return string(k); }
Writer& Writer::string(std::string_view s) {
  yajl_gen_string(gen_, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  return *this;
}
Writer& Writer::integer(int64_t v) { yajl_gen_integer(gen_, v); return *this; }
Writer& Writer::uinteger(uint64_t v) {
  if (v <= static_cast<uint64_t>(std::numeric_limits<long long>::max())) {
    yajl_gen_integer(gen_, static_cast<long long>(v));
  } else {
    std::string s = std::to_string(v);
    yajl_gen_number(gen_, s.c_str(), s.size());
  }
  return *this;
}
Writer& Writer::number(double v) {
  if (std::isfinite(v)) yajl_gen_double(gen_, v); else yajl_gen_null(gen_);
  return *this;
}
Writer& Writer::boolean(bool v) { yajl_gen_bool(gen_, v ? 1 : 0); return *this; }
Writer& Writer::null() { yajl_gen_null(gen_); return *this; }

Writer& Writer::value(yajl_val v) {
  if (v == nullptr || YAJL_IS_NULL(v)) return null();
  if (YAJL_IS_STRING(v)) return string(YAJL_GET_STRING(v));
  if (YAJL_IS_NUMBER(v)) {
    yajl_gen_number(gen_, v->u.number.r, std::char_traits<char>::length(v->u.number.r));
    return *this;
  }
  if (YAJL_IS_TRUE(v)) return boolean(true);
  if (YAJL_IS_FALSE(v)) return boolean(false);
  if (YAJL_IS_ARRAY(v)) {
    begin_array();
    for (size_t i = 0; i < v->u.array.len; ++i) value(v->u.array.values[i]);
    return end_array();
  }
  begin_object();
  for (size_t i = 0; i < v->u.object.len; ++i) {
    key(v->u.object.keys[i]);
    value(v->u.object.values[i]);
  }
  return end_object();
}

Writer& Writer::string_array(std::string_view k, const std::vector<std::string>& v) {
  key(k).begin_array();
  for (const auto& s : v) string(s);
  return end_array();
}

Writer& Writer::string_map(std::string_view k, const std::map<std::string, std::string>& v) {
  key(k).begin_object();
  for (const auto& [a, b] : v) field(a, b);
  return end_object();
}

std::string Writer::str() const {
  const unsigned char* buf = nullptr;
  size_t len = 0;
  yajl_gen_get_buf(gen_, &buf, &len);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::string quote(std::string_view s) {
  Writer w;
  w.string(s);
  return w.str();
}

}  // namespace berth::json
