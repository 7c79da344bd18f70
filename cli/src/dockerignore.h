// .dockerignore as docker reads it: one pattern a line, `#` comments, `!` re-includes, `*` and `?`
// within a path component, `**` across any number of them, and a pattern naming a directory
// excludes everything beneath it. The last pattern that matches a path decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

class DockerIgnore {
 public:
  static DockerIgnore parse(std::string_view text);
  // path: relative to the context, '/'-separated ("src/main.c").
  bool excluded(std::string_view path) const;
  // True when some pattern re-includes paths (a excluded directory must still be walked).
  bool has_exceptions() const { return has_exceptions_; }

 private:
  struct Pattern {
    std::string glob;
    bool negated = false;
  };
  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

// Glob match of a whole relative path, `**` crossing '/'.
bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace berth::cli
