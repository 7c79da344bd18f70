#include "jvalue.h"

#include "berth/common/json.h"

namespace conformance {

JValue JValue::array(std::initializer_list<JValue> items) {
  JValue v;
  v.kind_ = Kind::kArray;
  v.items_ = items;
  return v;
}

JValue JValue::object() {
  JValue v;
  v.kind_ = Kind::kObject;
  return v;
}

JValue JValue::strings(const std::vector<std::string>& items) {
  JValue v = array();
  for (const auto& s : items) v.push(s);
  return v;
}

JValue& JValue::operator[](const std::string& key) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return items_[i];
  }
  keys_.push_back(key);
  items_.emplace_back();
  return items_.back();
}

bool JValue::has(const std::string& key) const {
  for (const auto& k : keys_) {
    if (k == key) return true;
  }
  return false;
}

void JValue::erase(const std::string& key) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) {
      keys_.erase(keys_.begin() + static_cast<long>(i));
      items_.erase(items_.begin() + static_cast<long>(i));
      return;
    }
  }
}

JValue& JValue::push(JValue v) {
  if (kind_ == Kind::kNull) kind_ = Kind::kArray;
  items_.push_back(std::move(v));
  return items_.back();
}

std::string JValue::dump() const {
  berth::json::Writer w(true);
  struct Emitter {
    static void run(const JValue& v, berth::json::Writer& out) {
      switch (v.kind_) {
        case Kind::kNull: out.null(); break;
        case Kind::kBool: out.boolean(v.int_ != 0); break;
        case Kind::kInt: out.integer(v.int_); break;
        case Kind::kString: out.string(v.str_); break;
        case Kind::kArray:
          out.begin_array();
          for (const auto& item : v.items_) run(item, out);
          out.end_array();
          break;
        case Kind::kObject:
          out.begin_object();
          for (size_t i = 0; i < v.keys_.size(); ++i) {
            out.key(v.keys_[i]);
            run(v.items_[i], out);
          }
          out.end_object();
          break;
      }
    }
  };
  Emitter::run(*this, w);
  return w.str();
}

}  // namespace conformance
