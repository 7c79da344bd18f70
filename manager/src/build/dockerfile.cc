#include "build/dockerfile.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "berth/common/json.h"

namespace berth::manager::build {
namespace {

const std::set<std::string, std::less<>> kInstructions = {
    "ADD",  "ARG",   "CMD",        "COPY",        "ENTRYPOINT", "ENV",   "EXPOSE",  "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

bool is_comment(std::string_view line) {
  line = trim(line);
  return !line.empty() && line.front() == '#';
}

// `# key=value` at the top of the file; nullopt for anything else.
std::optional<std::pair<std::string, std::string>> directive(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() != '#') return std::nullopt;
  line = trim(line.substr(1));
  size_t eq = line.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string key = lower(trim(line.substr(0, eq)));
  if (key.empty() || key.find_first_of(" \t") != std::string::npos) return std::nullopt;
  return std::make_pair(key, std::string(trim(line.substr(eq + 1))));
}

// Drops the trailing escape character of a continued line; false when the line does not continue.
bool continues(std::string_view& line, char escape) {
  std::string_view t = line;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  if (t.empty() || t.back() != escape) return false;
  line = t.substr(0, t.size() - 1);
  return true;
}

Status parse_flags(Instruction& in, int line) {
  std::string_view rest = trim(in.args);
  while (rest.starts_with("--")) {
    size_t end = rest.find_first_of(" \t");
    std::string_view flag = rest.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    size_t eq = flag.find('=');
    std::string name(flag.substr(0, eq));
    if (name.empty()) return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: empty flag", line);
    in.flags[lower(name)] = eq == std::string_view::npos ? "true" : std::string(flag.substr(eq + 1));
    rest = end == std::string_view::npos ? std::string_view() : trim(rest.substr(end));
  }
  in.args = std::string(rest);
  return {};
}

void detect_json_form(Instruction& in) {
  if (!in.args.starts_with("[")) return;
  auto tree = json::parse(in.args, "arguments");
  if (!tree) return;  // not JSON: docker treats the text as the shell form
  auto list = json::root(*tree).as_string_array();
  if (!list) return;
  in.json_form = true;
  in.json_args = std::move(*list);
}

Result<Instruction> parse_instruction(std::string_view text, int line) {
  text = trim(text);
  size_t end = text.find_first_of(" \t");
  std::string word(text.substr(0, end));
  Instruction in;
  in.keyword = upper(word);
  in.line = line;
  in.original = std::string(text);
  if (!kInstructions.contains(in.keyword)) {
    return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: unknown instruction: {}", line, word);
  }
  in.args = end == std::string_view::npos ? std::string() : std::string(trim(text.substr(end)));
  // Only these take --flags; elsewhere "--" is an argument (RUN echo --x).
  static const std::set<std::string, std::less<>> kFlagged = {"FROM", "COPY", "ADD", "RUN", "HEALTHCHECK"};
  if (kFlagged.contains(in.keyword)) BERTH_TRY(parse_flags(in, line));
  if (in.args.empty() && in.keyword != "HEALTHCHECK") {
    return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: {} requires at least one argument",
                      line, in.keyword);
  }
  detect_json_form(in);
  return in;
}

// The expansion of one `$...` at text[i] (text[i] == '$'); advances i past it.
Result<std::string> expand_dollar(std::string_view text, size_t& i, char escape, const VariableLookup& lookup) {
  size_t start = i++;
  if (i >= text.size()) return std::string("$");
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (text[i] != '{') {
    size_t begin = i;
    while (i < text.size() && is_name(text[i])) ++i;
    if (i == begin) return std::string("$");
    return lookup(text.substr(begin, i - begin)).value_or("");
  }
  size_t begin = ++i;
  while (i < text.size() && is_name(text[i])) ++i;
  std::string name(text.substr(begin, i - begin));
  if (name.empty() || i >= text.size()) {
    return make_error(ErrorCode::kInvalidArgument, "bad substitution: {}", std::string(text.substr(start)));
  }
  if (text[i] == '}') {
    ++i;
    return lookup(name).value_or("");
  }
  if (text[i] != ':' || i + 1 >= text.size() || (text[i + 1] != '-' && text[i + 1] != '+')) {
    return make_error(ErrorCode::kInvalidArgument, "unsupported modifier in {}", std::string(text.substr(start)));
  }
  char op = text[i + 1];
  i += 2;
  size_t word_begin = i;
  int depth = 1;
  for (; i < text.size(); ++i) {
    if (text[i] == escape) {
      ++i;
    } else if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && --depth == 0) {
      break;
    }
  }
  if (i >= text.size()) return make_error(ErrorCode::kInvalidArgument, "missing '}}' in {}", std::string(text.substr(start)));
  std::string_view word = text.substr(word_begin, i - word_begin);
  ++i;
  std::optional<std::string> value = lookup(name);
  bool set = value && !value->empty();
  if (op == '-') return set ? *value : expand_word(word, escape, lookup);
  return set ? expand_word(word, escape, lookup) : Result<std::string>(std::string());
}

// Image configs are JSON, which holds UTF-8 text only.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 4;
    if (n == 4 || i + n >= s.size() + (n == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

Result<Dockerfile> parse_dockerfile(std::string_view text) {
  Dockerfile out;
  std::vector<std::string_view> lines = lines_of(text);
  for (size_t n = 0; n < lines.size(); ++n) {
    if (!valid_utf8(lines[n])) {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: not valid UTF-8", n + 1);
    }
  }
  size_t i = 0;
  // Parser directives: only before anything else, each at most once.
  std::set<std::string> seen;
  for (; i < lines.size(); ++i) {
    auto d = directive(lines[i]);
    if (!d || seen.contains(d->first)) break;
    seen.insert(d->first);
    if (d->first == "escape") {
      if (d->second != "\\" && d->second != "`") {
        return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: invalid escape character {:?}: use \\ or `",
                          i + 1, d->second);
      }
      out.escape = d->second[0];
    } else if (d->first == "syntax") {
      out.syntax = d->second;
    }
  }
  while (i < lines.size()) {
    std::string_view line = lines[i];
    int start = static_cast<int>(i) + 1;
    ++i;
    if (trim(line).empty() || is_comment(line)) continue;
    std::string logical;
    bool more = continues(line, out.escape);
    logical += line;
    while (more && i < lines.size()) {
      std::string_view next = lines[i++];
      // Comment and empty lines inside a continued instruction are skipped, as docker does.
      if (is_comment(next) || trim(next).empty()) continue;
      more = continues(next, out.escape);
      logical += next;
    }
    BERTH_ASSIGN_OR_RETURN(Instruction in, parse_instruction(logical, start));
    out.instructions.push_back(std::move(in));
  }
  if (out.instructions.empty()) return make_error(ErrorCode::kInvalidArgument, "the Dockerfile has no instructions");
  return out;
}

Result<std::vector<std::string>> shell_words(std::string_view text, char escape, const VariableLookup& lookup) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    in_word = true;
    if (c == escape && i + 1 < text.size()) {
      word += text[i + 1];
      i += 2;
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "unmatched ' in {}", std::string(text));
      word += text.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (c == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return make_error(ErrorCode::kInvalidArgument, "unmatched \" in {}", std::string(text));
        char d = text[i];
        if (d == '"') break;
        if (d == escape && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == escape || text[i + 1] == '$')) {
          word += text[i + 1];
          i += 2;
        } else if (d == '$' && lookup) {
          BERTH_ASSIGN_OR_RETURN(std::string v, expand_dollar(text, i, escape, lookup));
          word += v;
        } else {
          word += d;
          ++i;
        }
      }
      ++i;
    } else if (c == '$' && lookup) {
      BERTH_ASSIGN_OR_RETURN(std::string v, expand_dollar(text, i, escape, lookup));
      word += v;
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<std::string> expand_word(std::string_view text, char escape, const VariableLookup& lookup) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == escape && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      i += 2;
    } else if (text[i] == '$' && lookup) {
      BERTH_ASSIGN_OR_RETURN(std::string v, expand_dollar(text, i, escape, lookup));
      out += v;
    } else {
      out += text[i++];
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> key_values(const Instruction& in, char escape,
                                                                      const VariableLookup& lookup) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view args = in.args;
  size_t first_end = args.find_first_of(" \t");
  std::string_view first = args.substr(0, first_end);
  if (in.keyword == "ENV" && first.find('=') == std::string_view::npos) {
    // Legacy form: ENV key the rest of the line.
    if (first_end == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: ENV {} needs a value", in.line,
                        std::string(first));
    }
    BERTH_ASSIGN_OR_RETURN(auto words, shell_words(args.substr(first_end), escape, lookup));
    std::string value;
    for (const auto& w : words) value += (value.empty() ? "" : " ") + w;
    out.emplace_back(std::string(first), value);
    return out;
  }
  BERTH_ASSIGN_OR_RETURN(auto words, shell_words(args, escape, lookup));
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == 0 || (eq == std::string::npos && in.keyword != "ARG")) {
      return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: {} expects key=value, got {:?}", in.line,
                        in.keyword, w);
    }
    if (eq == std::string::npos) {
      out.emplace_back(w, std::string());
    } else {
      out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
    }
  }
  return out;
}

std::vector<std::string> command_of(const Instruction& in, const std::vector<std::string>& shell) {
  if (in.json_form) return in.json_args;
  std::vector<std::string> out = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
  out.push_back(in.args);
  return out;
}

}  // namespace berth::manager::build
