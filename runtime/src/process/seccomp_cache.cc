#include "seccomp_cache.h"

#include <dirent.h>
#include <seccomp.h>
#include <sys/stat.h>

#include <cstring>
#include <functional>
#include <string_view>
#include <tuple>

#include "berth/common/fs.h"
#include "berth/common/log.h"

namespace berth::runtime {
namespace {

constexpr std::string_view kMagic = "berth-seccomp-v2\n";  // v2: programs carry the ENOSYS stub

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

bool take_u32(std::string_view& in, uint32_t& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

}  // namespace

std::string seccomp_cache_key(const json::Value& seccomp) {
  const scmp_version* v = seccomp_version();
  std::string key = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro) +
                    " api " + std::to_string(seccomp_api_get()) + "\n";
  json::Writer w;
  w.value(seccomp.raw());
  key += w.str();
  return key;
}

std::string seccomp_cache_dir(const std::string& runtime_root) { return join_path(runtime_root, "seccomp@cache"); }

std::string SeccompCache::path_for(const std::string& key) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016zx.bpf", std::hash<std::string>{}(key));
  return join_path(dir_, name);
}

std::optional<SeccompProgram> SeccompCache::find(const std::string& key) const {
  auto text = read_file(path_for(key), 8 << 20);
  if (!text) return std::nullopt;
  std::string_view in = *text;
  uint32_t key_size = 0, flags = 0, count = 0;
  if (!in.starts_with(kMagic)) return std::nullopt;
  in.remove_prefix(kMagic.size());
  if (!take_u32(in, key_size) || in.size() < key_size || in.substr(0, key_size) != key) return std::nullopt;
  in.remove_prefix(key_size);
  if (!take_u32(in, flags) || !take_u32(in, count) || count == 0 || in.size() != count * sizeof(sock_filter)) {
    return std::nullopt;
  }
  SeccompProgram program;
  program.flags = flags;
  program.filter.resize(count);
  std::memcpy(program.filter.data(), in.data(), in.size());
  return program;
}

void SeccompCache::store(const std::string& key, const SeccompProgram& program) const {
  if (program.notify || program.filter.empty()) return;
  std::string out(kMagic);
  put_u32(out, static_cast<uint32_t>(key.size()));
  out += key;
  put_u32(out, program.flags);
  put_u32(out, static_cast<uint32_t>(program.filter.size()));
  out.append(reinterpret_cast<const char*>(program.filter.data()), program.filter.size() * sizeof(sock_filter));
  auto st = make_dirs(dir_, 0700);
  if (st.ok()) {
    evict_oldest_if_full();
    st = write_file_atomic(path_for(key), out, 0600);
  }
  if (!st) log::get("runtime")->debug("seccomp cache not written: {}", st.error().what());
}

void SeccompCache::evict_oldest_if_full() const {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return;
  size_t entries = 0;
  std::string oldest;
  timespec oldest_time{};
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (!name.ends_with(".bpf")) continue;
    ++entries;
    struct stat st {};
    std::string path = join_path(dir_, std::string(name));
    if (::stat(path.c_str(), &st) < 0) continue;
    if (oldest.empty() || std::tie(st.st_mtim.tv_sec, st.st_mtim.tv_nsec) < std::tie(oldest_time.tv_sec, oldest_time.tv_nsec)) {
      oldest = path;
      oldest_time = st.st_mtim;
    }
  }
  ::closedir(d);
  if (entries >= kMaxEntries && !oldest.empty()) ::unlink(oldest.c_str());
}

}  // namespace berth::runtime
