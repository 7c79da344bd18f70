// A small mutable JSON value for building config.json per case (objects keep insertion order).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace conformance {

class JValue {
 public:
  enum class Kind { kNull, kBool, kInt, kString, kArray, kObject };

  JValue() = default;
  JValue(bool b) : kind_(Kind::kBool), int_(b) {}             // NOLINT
  JValue(int v) : kind_(Kind::kInt), int_(v) {}               // NOLINT
  JValue(int64_t v) : kind_(Kind::kInt), int_(v) {}           // NOLINT
  JValue(uint32_t v) : kind_(Kind::kInt), int_(v) {}          // NOLINT
  JValue(const char* s) : kind_(Kind::kString), str_(s) {}    // NOLINT
  JValue(std::string s) : kind_(Kind::kString), str_(std::move(s)) {}  // NOLINT

  static JValue array(std::initializer_list<JValue> items = {});
  static JValue object();
  static JValue strings(const std::vector<std::string>& items);

  Kind kind() const { return kind_; }
  // Object member access; a null value becomes an object, a missing key is appended as null.
  JValue& operator[](const std::string& key);
  bool has(const std::string& key) const;
  void erase(const std::string& key);
  // Array append; a null value becomes an array.
  JValue& push(JValue v);
  size_t size() const { return items_.size(); }
  JValue& at(size_t i) { return items_[i]; }

  // The string value (empty for non-strings).
  const std::string& str() const { return str_; }
  std::string dump() const;

 private:
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  std::string str_;
  std::vector<std::string> keys_;  // objects only
  std::vector<JValue> items_;      // array items, or object values parallel to keys_
};

}  // namespace conformance
