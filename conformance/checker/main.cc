// The in-container checker: a static binary copied into each rootfs. It reads check lines
// ("<requirement-id> <primitive> <args...>", args percent-encoded) from the file named by argv[1]
// and prints TAP: "ok N - id", "not ok N - id # seen", "ok N - id # SKIP reason".
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "primitives.h"

namespace {

// %XX → byte; everything else verbatim.
std::string decode(const std::string& s) {
  if (s == "%E") return "";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '#') c = ' ';
  }
  return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace conformance::checker;
  if (argc < 2) {
    std::fprintf(stderr, "usage: checker CHECKS-FILE [args...]\n");
    return 2;
  }
  Context ctx;
  for (int i = 0; i < argc; ++i) ctx.argv.emplace_back(argv[i]);
  std::ifstream in(argv[1]);
  if (!in) {
    std::printf("Bail out! cannot read %s\n", argv[1]);
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  std::printf("1..%zu\n", lines.size());
  std::fflush(stdout);
  int n = 0;
  bool all_ok = true;
  for (const auto& line : lines) {
    ++n;
    std::istringstream words(line);
    std::string id, prim, word;
    words >> id >> prim;
    Args args;
    while (words >> word) args.push_back(decode(word));
    std::string seen = run_primitive(ctx, prim, args);
    if (seen.empty()) {
      std::printf("ok %d - %s\n", n, id.c_str());
    } else if (seen.rfind("SKIP ", 0) == 0) {
      std::printf("ok %d - %s # SKIP %s\n", n, id.c_str(), one_line(seen.substr(5)).c_str());
    } else {
      all_ok = false;
      std::printf("not ok %d - %s # %s\n", n, id.c_str(), one_line(seen).c_str());
    }
    std::fflush(stdout);
  }
  return all_ok ? 0 : 1;
}
