// Dockerfiles as users write them: the parser, then the word lexer and variable substitution on
// every instruction, and the config instructions applied to an empty config.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "build/config_changes.h"
#include "build/dockerfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace berth::manager;
  auto file = build::parse_dockerfile(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!file) return 0;
  build::VariableLookup lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return std::string("value");
    return std::nullopt;
  };
  ImageConfig config;
  for (const auto& in : file->instructions) {
    if (in.line < 1 || in.keyword.empty()) __builtin_trap();
    (void)build::shell_words(in.args, file->escape, lookup);
    (void)build::expand_word(in.args, file->escape, lookup);
    if (build::is_config_instruction(in.keyword)) (void)build::apply_config_instruction(config, in, file->escape, lookup);
  }
  // Whatever the instructions made is a config that writes and parses back.
  auto back = parse_image_config(image_config_json(config));
  if (!back) __builtin_trap();
  return 0;
}
