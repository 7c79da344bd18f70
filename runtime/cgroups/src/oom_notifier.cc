// OOM notification sources: v1 eventfd registered on memory.oom_control, v2 inotify on memory.events.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>

#include "berth/common/unique_fd.h"
#include "cgroup_fs.h"
#include "v1_manager.h"
#include "v2_manager.h"

namespace berth::runtime::cgroups {
namespace {

Error cgroup_gone(const std::string& dir) {
  return make_error(ErrorCode::kNotFound, "cgroup {} was removed", dir);
}

class V1OomNotifier final : public OomNotifier {
 public:
  V1OomNotifier(std::string dir, UniqueFd event, UniqueFd control)
      : dir_(std::move(dir)), event_(std::move(event)), control_(std::move(control)) {}
  int fd() const override { return event_.get(); }

  Result<bool> consume() override {
    uint64_t count = 0;
    ssize_t n = ::read(event_.get(), &count, sizeof(count));
    if (n < 0) {
      if (errno == EAGAIN) return false;
      return sys_error("read OOM eventfd of {}", dir_);
    }
    // The kernel also signals the eventfd when the cgroup is removed.
    if (!cgfs::file_exists(dir_, "memory.oom_control")) return cgroup_gone(dir_);
    return count > 0;
  }

 private:
  std::string dir_;
  UniqueFd event_;
  UniqueFd control_;  // must stay open for the registration to stay alive
};

class V2OomNotifier final : public OomNotifier {
 public:
  V2OomNotifier(std::string dir, UniqueFd inotify, uint64_t kills)
      : dir_(std::move(dir)), inotify_(std::move(inotify)), kills_(kills) {}
  int fd() const override { return inotify_.get(); }

  Result<bool> consume() override {
    std::array<char, 4096> buf;
    while (::read(inotify_.get(), buf.data(), buf.size()) > 0) {
    }
    if (!cgfs::file_exists(dir_, "memory.events")) return cgroup_gone(dir_);
    BERTH_ASSIGN_OR_RETURN(uint64_t kills, read_kills(dir_));
    bool more = kills > kills_;
    kills_ = kills;
    return more;
  }

  static Result<uint64_t> read_kills(const std::string& dir) {
    BERTH_ASSIGN_OR_RETURN(auto events, cgfs::read_keyed(dir, "memory.events"));
    auto it = events.find("oom_kill");
    return it == events.end() ? 0 : it->second;
  }

 private:
  std::string dir_;
  UniqueFd inotify_;
  uint64_t kills_;
};

}  // namespace

Result<std::unique_ptr<OomNotifier>> open_v1_oom_notifier(const std::string& memory_dir) {
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event) return sys_error("eventfd");
  std::string control_path = cgfs::file_path(memory_dir, "memory.oom_control");
  BERTH_ASSIGN_OR_RETURN(UniqueFd control, open_fd(control_path.c_str(), O_RDONLY | O_CLOEXEC));
  BERTH_TRY(cgfs::write_value(memory_dir, "cgroup.event_control",
                              fmt::format("{} {}", event.get(), control.get())));
  return std::unique_ptr<OomNotifier>(new V1OomNotifier(memory_dir, std::move(event), std::move(control)));
}

Result<std::unique_ptr<OomNotifier>> open_v2_oom_notifier(const std::string& dir) {
  UniqueFd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify) return sys_error("inotify_init1");
  std::string events_path = cgfs::file_path(dir, "memory.events");
  if (::inotify_add_watch(inotify.get(), events_path.c_str(), IN_MODIFY) < 0) {
    return sys_error("watch {}", events_path);
  }
  BERTH_ASSIGN_OR_RETURN(uint64_t kills, V2OomNotifier::read_kills(dir));
  return std::unique_ptr<OomNotifier>(new V2OomNotifier(dir, std::move(inotify), kills));
}

}  // namespace berth::runtime::cgroups
