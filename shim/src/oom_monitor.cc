#include "berth/shim/oom_monitor.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <sstream>

#include "berth/common/fs.h"

namespace berth::shim {
namespace {

uint64_t read_oom_kills(const std::string& events_path) {
  auto text = read_file(events_path, 4096);
  if (!text.ok()) return 0;
  std::istringstream in(*text);
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

}  // namespace

Result<std::pair<std::string, bool>> memory_cgroup_of(pid_t pid, const std::string& cgroup_root) {
  BERTH_ASSIGN_OR_RETURN(auto text, read_file(fmt::format("/proc/{}/cgroup", pid), 64 << 10));
  std::istringstream in(text);
  std::string line, unified;
  while (std::getline(in, line)) {
    // "<id>:<controllers>:<path>"; v2 is "0::<path>".
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.empty()) {
      unified = path;
      continue;
    }
    std::istringstream names(controllers);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == "memory") return std::pair<std::string, bool>(join_path(cgroup_root + "/memory", path), false);
    }
  }
  if (!unified.empty() && path_exists(cgroup_root + "/cgroup.controllers")) {
    return std::pair<std::string, bool>(join_path(cgroup_root, unified), true);
  }
  return std::pair<std::string, bool>(std::string(), false);
}

Result<std::unique_ptr<OomMonitor>> OomMonitor::watch(EventLoop& loop, pid_t pid, std::function<void()> on_oom,
                                                      const std::string& cgroup_root) {
  std::unique_ptr<OomMonitor> monitor(new OomMonitor(loop, std::move(on_oom)));
  BERTH_ASSIGN_OR_RETURN(auto found, memory_cgroup_of(pid, cgroup_root));
  auto [dir, v2] = found;
  if (dir.empty()) return monitor;  // no memory controller: nothing to watch
  BERTH_TRY(v2 ? monitor->watch_v2(dir) : monitor->watch_v1(dir));
  return monitor;
}

OomMonitor::~OomMonitor() {
  if (event_fd_) loop_.remove(event_fd_.get());
}

Status OomMonitor::watch_v1(const std::string& dir) {
  events_path_ = dir + "/memory.oom_control";
  event_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event_fd_) return sys_error("eventfd");
  BERTH_ASSIGN_OR_RETURN(control_fd_, open_fd((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  BERTH_TRY(write_file(dir + "/cgroup.event_control", fmt::format("{} {}", event_fd_.get(), control_fd_.get())));
  int fd = event_fd_.get();
  return loop_.add(fd, EPOLLIN, [this, fd](uint32_t) {
    uint64_t count = 0;
    if (::read(fd, &count, sizeof count) != sizeof count) return;
    // The eventfd also fires when the cgroup goes away; only a live cgroup means an OOM.
    if (::fcntl(control_fd_.get(), F_GETFD) >= 0 && path_exists(events_path_)) on_oom_();
  });
}

Status OomMonitor::watch_v2(const std::string& dir) {
  events_path_ = dir + "/memory.events";
  oom_kills_ = read_oom_kills(events_path_);
  event_fd_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!event_fd_) return sys_error("inotify_init1");
  if (::inotify_add_watch(event_fd_.get(), events_path_.c_str(), IN_MODIFY) < 0) {
    return sys_error("watch {}", events_path_);
  }
  int fd = event_fd_.get();
  return loop_.add(fd, EPOLLIN, [this, fd](uint32_t) {
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    on_v2_change();
  });
}

void OomMonitor::on_v2_change() {
  uint64_t kills = read_oom_kills(events_path_);
  for (; oom_kills_ < kills; oom_kills_++) on_oom_();
}

}  // namespace berth::shim
