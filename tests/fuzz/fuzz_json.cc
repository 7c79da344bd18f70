// The JSON layer (yajl tree + typed accessors): every value visited and read every way.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "berth/common/json.h"

namespace {

void visit(const berth::json::Value& v, int depth) {
  if (depth > 300) __builtin_trap();  // parse() bounds nesting: deeper is a bug
  (void)v.as_string();
  (void)v.as_bool();
  (void)v.as_int64();
  (void)v.as_uint64();
  (void)v.as_int32();
  (void)v.as_uint32();
  (void)v.as_double();
  (void)v.as_string_array();
  (void)v.as_string_map();
  if (auto a = v.as_array()) {
    for (const auto& e : *a) visit(e, depth + 1);
  }
  if (auto o = v.as_object()) {
    for (const auto& [k, e] : *o) {
      (void)v.get(k);
      visit(e, depth + 1);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tree = berth::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (tree) visit(berth::json::root(*tree), 0);
  return 0;
}
