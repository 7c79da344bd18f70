// Helpers for tests on this host's real cgroups: a uniquely named test cgroup that is removed in
// every hierarchy afterwards, and child processes that wait on stdin until they are in it.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <list>
#include <random>
#include <sstream>
#include <string>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "berth/runtime/cgroups/manager.h"

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    const auto& assert_ok_result_ = (expr);                                  \
    ASSERT_TRUE(assert_ok_result_.ok()) << assert_ok_result_.error().what(); \
  } while (0)

namespace berth::runtime::cgroups::testing {

inline std::string random_name() {
  std::random_device rd;
  return fmt::format("berth-test-{:08x}", rd());
}

// A /bin/sh script that blocks on `read` until release(), so it can be moved into a cgroup first.
class GatedProcess {
 public:
  static Result<GatedProcess> spawn(const std::string& script) {
    GatedProcess p;
    BERTH_ASSIGN_OR_RETURN(FdPair in, make_pipe());
    BERTH_ASSIGN_OR_RETURN(FdPair out, make_pipe());
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "read go; " + script};
    o.stdin_fd = in.first.get();
    o.stdout_fd = out.second.get();
    BERTH_ASSIGN_OR_RETURN(p.child_, ChildProcess::spawn(o));
    p.gate_ = std::move(in.second);
    p.output_ = std::move(out.first);
    return p;
  }
  pid_t pid() const { return child_.pid(); }
  ChildProcess& child() { return child_; }
  Status release() {
    Status st = write_all(gate_.get(), "go\n");
    gate_.reset();
    return st;
  }
  // One line of output (blocking), without the newline.
  std::string read_line() {
    std::string line;
    char c;
    while (::read(output_.get(), &c, 1) == 1 && c != '\n') line.push_back(c);
    return line;
  }
  // Everything the script printed (call after it exited).
  std::string output() {
    auto text = read_fd(output_.get());
    return text.ok() ? *text : "";
  }

 private:
  ChildProcess child_;
  UniqueFd gate_;
  UniqueFd output_;
};

// A cgroup named /berth-test-<random>/c1 in every hierarchy under root; TearDown destroys it and
// removes the parent, so nothing is left even when the test failed half-way.
class HostCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    // ctest runs cases in parallel; they share the cgroup2 root's subtree_control, so one case
    // at a time (flock on the mount's root directory leaves no lock file behind).
    serial_.reset(::open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(serial_.valid());
    ASSERT_EQ(::flock(serial_.get(), LOCK_EX), 0);
    unified_subtree_before_ = read_file(kUnifiedSubtree).value_or("");
    parent_ = random_name();
    options_.cgroups_path = "/" + parent_ + "/c1";
    options_.container_id = "c1";
    options_.root = root();
    auto m = open_manager(options_);
    ASSERT_TRUE(m.ok()) << m.error().what();
    manager_ = std::move(m).value();
  }

  void TearDown() override {
    if (!manager_) return;
    auto paths = manager_->paths();
    // Thawed first: a frozen v1 task would never act on the SIGKILL and wait() would hang.
    (void)manager_->thaw();
    for (auto& p : processes_) {
      if (p.child().running()) (void)p.child().signal(SIGKILL);
      if (p.child().running()) (void)p.child().wait();
    }
    processes_.clear();
    auto st = manager_->destroy();
    EXPECT_TRUE(st.ok()) << st.error().what();
    for (const auto& [name, dir] : paths) {
      std::string parent = dirname_of(dir);
      if (basename_of(parent) == parent_) ::rmdir(parent.c_str());
      EXPECT_FALSE(path_exists(parent)) << parent;
    }
    restore_unified_subtree();
  }

  // create() enables the cgroup2 mount's controllers (hugetlb here) in its root for our cgroup;
  // put the host back as it was. Best effort: a container of another user of the host may have
  // the controller in use (EBUSY), and then it has to stay.
  void restore_unified_subtree() {
    auto now = read_file(kUnifiedSubtree);
    if (!now.ok()) return;
    std::istringstream enabled(*now);
    std::string controller;
    while (enabled >> controller) {
      if (unified_subtree_before_.find(controller) == std::string::npos) {
        (void)write_file(kUnifiedSubtree, "-" + controller);
      }
    }
  }

  virtual std::string root() const { return "/sys/fs/cgroup"; }

  GatedProcess& spawn_in_cgroup(const std::string& script) {
    auto p = GatedProcess::spawn(script);
    EXPECT_TRUE(p.ok()) << p.error().what();
    processes_.push_back(std::move(p).value());
    auto st = manager_->add_pid(processes_.back().pid());
    EXPECT_TRUE(st.ok()) << st.error().what();
    EXPECT_TRUE(processes_.back().release().ok());
    return processes_.back();
  }

  // A process that only reacts to SIGUSR1 (prints "usr1" and exits 0), ready when this returns.
  GatedProcess& spawn_usr1_waiter() {
    auto& p = spawn_in_cgroup("trap 'echo usr1; exit 0' USR1; echo ready; while :; do sleep 0.05; done");
    EXPECT_EQ(p.read_line(), "ready");
    return p;
  }

  // Signals p while the cgroup is frozen: the handler can't run until thaw.
  void expect_frozen_until_thaw(GatedProcess& p) {
    ASSERT_TRUE(p.child().signal(SIGUSR1).ok());
    auto early = p.child().wait_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(early.ok());
    EXPECT_FALSE(early->has_value()) << "a frozen process ran its signal handler";
    auto thawed = manager_->thaw();
    ASSERT_TRUE(thawed.ok()) << thawed.error().what();
    auto status = p.child().wait_for(std::chrono::seconds(10));
    ASSERT_TRUE(status.ok());
    ASSERT_TRUE(status->has_value());
    EXPECT_TRUE((*status)->success());
    EXPECT_EQ(p.output(), "usr1\n");
  }

  // Waits until the cgroup holds n processes (forks happen after release()).
  bool wait_for_pid_count(size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto pids = manager_->pids();
      if (pids.ok() && pids->size() == n) return true;
      ::usleep(2000);
    }
    return false;
  }

  static constexpr const char* kUnifiedSubtree = "/sys/fs/cgroup/unified/cgroup.subtree_control";
  UniqueFd serial_;
  std::string unified_subtree_before_;
  std::string parent_;
  Options options_;
  std::unique_ptr<Manager> manager_;
  std::list<GatedProcess> processes_;
};

// The cgroup path of pid in the hierarchy named `name` ("memory", "" for cgroup2).
inline std::string cgroup_of(pid_t pid, const std::string& name) {
  auto text = read_file(fmt::format("/proc/{}/cgroup", pid));
  if (!text.ok()) return "";
  std::string needle = ":" + name + ":";
  size_t at = text->find(needle);
  if (at == std::string::npos) return "";
  size_t end = text->find('\n', at);
  return text->substr(at + needle.size(), end - at - needle.size());
}

}  // namespace berth::runtime::cgroups::testing
