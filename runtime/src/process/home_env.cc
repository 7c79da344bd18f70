#include "home_env.h"

#include <fcntl.h>

#include <sstream>

#include "berth/common/fs.h"
#include "berth/common/open_in_root.h"
#include "berth/common/unique_fd.h"

namespace berth::runtime {

// /etc/passwd is resolved without leaving the root.
std::string passwd_field(const std::string& root, uint32_t uid, size_t field) {
  auto file = open_in_root(root, "etc/passwd", O_RDONLY);
  if (!file) return {};
  auto text = read_fd(file->get(), 4 << 20);
  if (!text) return {};
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    // name:password:uid:gid:gecos:home:shell
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string f; std::getline(parts, f, ':');) fields.push_back(f);
    if (fields.size() >= 6 && fields[2] == std::to_string(uid)) return fields[field];
  }
  return {};
}

void set_home_if_unset(std::vector<std::string>& env, const std::string& root, uint32_t uid) {
  for (const auto& e : env) {
    if (e.starts_with("HOME=")) return;
  }
  std::string home = passwd_field(root, uid, 5);
  env.push_back("HOME=" + (home.empty() ? std::string("/") : home));
}

}  // namespace berth::runtime
