// The Dockerfile parser: parser directives (`# syntax=`, `# escape=`), comments, line continuations,
// instructions with their `--flags`, and the JSON (exec) form versus the shell form. Errors name the
// line. Also the word lexer shared by ENV/LABEL/ARG/COPY/... and commit's --change: quotes, escapes
// and `$VAR ${VAR} ${VAR:-word} ${VAR:+word}` substitution.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager::build {

struct Instruction {
  std::string keyword;  // upper case: "RUN"
  std::string args;     // the text after the keyword and its flags (continuations joined)
  bool json_form = false;
  std::vector<std::string> json_args;  // when json_form
  std::map<std::string, std::string> flags;  // --from=builder → {"from", "builder"}
  int line = 0;  // where the instruction starts (1-based)
  std::string original;  // "RUN apt-get update" as written (for history and step output)
};

struct Dockerfile {
  char escape = '\\';
  std::string syntax;
  std::vector<Instruction> instructions;
};

Result<Dockerfile> parse_dockerfile(std::string_view text);

// A variable's value, or nullopt when it is not set.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Splits text into words as docker's shell lexer does: whitespace separates words, '...' is literal,
// "..." keeps spaces and expands variables, the escape character escapes. With lookup, variables are
// substituted (a null lookup keeps `$` text as it is).
Result<std::vector<std::string>> shell_words(std::string_view text, char escape, const VariableLookup& lookup);
// One word with variables substituted, quotes kept as they are (WORKDIR, USER, COPY sources...).
Result<std::string> expand_word(std::string_view text, char escape, const VariableLookup& lookup);

// ENV / LABEL / ARG arguments: `k=v k2="v 2"`, or ENV's legacy `k some value`.
Result<std::vector<std::pair<std::string, std::string>>> key_values(const Instruction& in, char escape,
                                                                      const VariableLookup& lookup);

// The command of RUN/CMD/ENTRYPOINT: the JSON array, or shell + [args] for the shell form.
std::vector<std::string> command_of(const Instruction& in, const std::vector<std::string>& shell);

}  // namespace berth::manager::build
