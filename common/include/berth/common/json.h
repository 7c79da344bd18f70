// yajl helpers: a tree reader that knows each value's JSON path (for errors such as
// "process.args[0]: expected a string"), and a streaming writer.
#pragma once

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/common/error.h"

namespace berth::json {

struct TreeDeleter {
  void operator()(yajl_val v) const { yajl_tree_free(v); }
};
using Tree = std::unique_ptr<yajl_val_s, TreeDeleter>;

// Arrays and objects nested deeper than this are refused by parse(): every real document
// (specs, manifests, indexes, image configs) stays within a few tens of levels.
inline constexpr size_t kMaxDepth = 256;

// Parses a document; `what` names it in errors ("config.json"). Refuses nesting beyond kMaxDepth.
Result<Tree> parse(std::string_view text, std::string_view what);

class Value {
 public:
  Value(yajl_val v, std::string path) : v_(v), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  yajl_val raw() const { return v_; }
  bool is_null() const { return v_ == nullptr || YAJL_IS_NULL(v_); }
  bool is_object() const { return v_ != nullptr && YAJL_IS_OBJECT(v_); }
  bool is_array() const { return v_ != nullptr && YAJL_IS_ARRAY(v_); }
  bool is_string() const { return v_ != nullptr && YAJL_IS_STRING(v_); }

  // A member of an object; nullopt when absent or null (or when this is not an object).
  std::optional<Value> get(std::string_view key) const;
  // A member that must be present: "<path>.<key>: missing required field".
  Result<Value> require(std::string_view key) const;

  Result<std::string> as_string() const;
  Result<bool> as_bool() const;
  Result<int64_t> as_int64() const;
  Result<uint64_t> as_uint64() const;
  Result<double> as_double() const;
  // Range-checked narrowing; out-of-range values are errors, never wrapped.
  Result<int32_t> as_int32() const;
  Result<uint32_t> as_uint32() const;
  Result<std::vector<Value>> as_array() const;
  Result<std::vector<std::pair<std::string, Value>>> as_object() const;
  Result<std::vector<std::string>> as_string_array() const;
  Result<std::map<std::string, std::string>> as_string_map() const;

  Error type_error(std::string_view expected) const;

 private:
  yajl_val v_;
  std::string path_;
};

// The root of a parsed tree.
inline Value root(const Tree& tree, std::string path = "") { return Value(tree.get(), std::move(path)); }

class Writer {
 public:
  explicit Writer(bool pretty = false);
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& string(std::string_view s);
  Writer& integer(int64_t v);
  Writer& uinteger(uint64_t v);
  Writer& number(double v);
  Writer& boolean(bool v);
  Writer& null();
  // Copies a parsed value (e.g. an unknown spec section) verbatim.
  Writer& value(yajl_val v);

  // key + value shorthands
  Writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  Writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  Writer& field(std::string_view k, const std::string& v) { return key(k).string(v); }
  Writer& field(std::string_view k, int64_t v) { return key(k).integer(v); }
  Writer& field(std::string_view k, int v) { return key(k).integer(v); }
  Writer& field(std::string_view k, uint32_t v) { return key(k).uinteger(v); }
  Writer& field(std::string_view k, uint64_t v) { return key(k).uinteger(v); }
  Writer& field(std::string_view k, bool v) { return key(k).boolean(v); }
  Writer& string_array(std::string_view k, const std::vector<std::string>& v);
  Writer& string_map(std::string_view k, const std::map<std::string, std::string>& v);

  std::string str() const;

 private:
  yajl_gen gen_;
};

// Escapes a string as a JSON string literal, quotes included.
std::string quote(std::string_view s);

}  // namespace berth::json
