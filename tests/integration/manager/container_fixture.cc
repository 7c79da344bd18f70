#include "container_fixture.h"

#include <unistd.h>

#include <filesystem>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/manager/daemon.h"
#include "images/oci.h"
#include "layout_builder.h"

namespace berth::manager::testing {
namespace {

bool missing_or_empty(const std::string& dir) {
  std::error_code ec;
  return !std::filesystem::exists(dir, ec) || std::filesystem::is_empty(dir, ec);
}

// The runtime's root keeps only its compiled-seccomp cache once every container is gone.
bool no_container_state(const std::string& runtime_root) {
  std::error_code ec;
  if (!std::filesystem::exists(runtime_root, ec)) return true;
  for (const auto& e : std::filesystem::directory_iterator(runtime_root, ec))
    if (e.path().filename() != "seccomp@cache") return false;
  return true;
}

std::string listing(const std::string& dir) {
  auto out = run_command({"find", dir});
  return out ? out->out : std::string();
}

// A cgroup directory always holds its control files: "empty" means no child cgroup.
bool no_child_cgroups(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return true;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory()) return false;
  return true;
}

}  // namespace

void ContainerFixture::SetUp() {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (real containers)";
  if (!path_exists("/bin/busybox")) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  ns_ = fmt::format("t{}-{}", ::getpid(), ::testing::UnitTest::GetInstance()->random_seed() ^ ::time(nullptr));
  auto dir = TempDir::create("/var/tmp/berth-container-test-");
  ASSERT_TRUE(dir.ok());
  dir_ = std::move(*dir);
  auto daemon =
      Berthd::start(fmt::format(R"({{"shim": "{}", "runtime": "{}"{}{}}})", BERTH_SHIM_PATH, BERTH_RUNTIME_PATH,
                                extra_config_.empty() ? "" : ", ", extra_config_));
  ASSERT_TRUE(daemon.ok()) << daemon.error().what();
  berthd_ = std::move(*daemon);
  // A busybox image as an OCI archive, imported.
  std::string layout = dir_.path() + "/layout";
  LayoutBuilder builder(layout);
  auto built =
      builder.write({{"linux", host_platform().architecture, {busybox_layer()}, {}}}, "berth.test/busybox:1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  std::string archive = dir_.path() + "/busybox.tar";
  auto tar = run_command({"tar", "-C", layout, "-cf", archive, "."});
  ASSERT_TRUE(tar.ok() && tar->status.success());
  CtlResult r = ctl({"image", "import", archive});
  ASSERT_EQ(r.code, 0) << r.err;
  image_ = r.out.substr(0, r.out.find('\n'));
  ASSERT_FALSE(image_.empty());
}

void ContainerFixture::TearDown() {
  if (!berthd_) return;
  // Whatever a failed test left behind.
  CtlResult ids = ctl({"ps", "-a", "-q"});
  for (size_t start = 0; start < ids.out.size();) {
    size_t nl = ids.out.find('\n', start);
    (void)ctl({"rm", "-f", ids.out.substr(start, nl - start)});
    start = nl == std::string::npos ? ids.out.size() : nl + 1;
  }
  // berthd keeps a namespace's parent cgroup (<parent>/<ns>, as containerd does); this test's
  // namespace and berthd root are its own, so they go with it.
  remove_cgroup_parent(cgroup_parent());
}

std::string ContainerFixture::cgroup_parent() const { return default_cgroup_parent(berthd_->root()); }

void ContainerFixture::remove_cgroup_parent(const std::string& parent) const {
  testing::remove_cgroup_parent(parent, ns_);
}

CtlResult ContainerFixture::ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), {"--namespace", ns_});
  return berthd_->ctl(std::move(args));
}

Result<CommandOutput> ContainerFixture::shell(const std::string& script, const std::vector<std::string>& args) const {
  auto argv = ctl_argv(args);
  argv.insert(argv.begin(), {"sh", "-c", script, "sh"});
  return run_command(argv);
}

std::vector<std::string> ContainerFixture::ctl_argv(std::vector<std::string> args) const {
  args.insert(args.begin(), {BERTHCTL_PATH, "--address", berthd_->socket(), "--namespace", ns_});
  return args;
}

std::string ContainerFixture::state_dir() const { return dirname_of(berthd_->socket()); }

std::vector<std::string> ContainerFixture::our_mounts() const {
  std::vector<std::string> out;
  auto info = read_file("/proc/self/mountinfo");
  if (!info) return out;
  std::string dir = dirname_of(berthd_->root());
  for (size_t start = 0; start < info->size();) {
    size_t nl = info->find('\n', start);
    std::string line = info->substr(start, nl - start);
    if (line.find(" " + dir) != std::string::npos) out.push_back(line);
    start = nl == std::string::npos ? info->size() : nl + 1;
  }
  return out;
}

int ContainerFixture::shims_alive() const {
  // A shim re-executes itself as "/proc/self/exe serve ... --bundle <state>/tasks/<ns>/<id> ...".
  auto out = run_command({"pgrep", "-f", "serve .*--bundle " + state_dir() + "/"});
  if (!out) return -1;
  int n = 0;
  for (char c : out->out) n += c == '\n';
  return n;
}

void ContainerFixture::expect_nothing_left() {
  auto mounts = our_mounts();
  EXPECT_TRUE(mounts.empty()) << mounts[0];
  EXPECT_TRUE(missing_or_empty(state_dir() + "/tasks/" + ns_)) << listing(state_dir() + "/tasks/" + ns_);
  EXPECT_TRUE(no_container_state(state_dir() + "/runtime/" + ns_)) << listing(state_dir() + "/runtime/" + ns_);
  EXPECT_TRUE(no_child_cgroups("/sys/fs/cgroup" + cgroup_parent() + "/" + ns_));  // v2
  for (const char* controller : {"pids", "memory", "cpu", "devices", "freezer"})  // v1
    EXPECT_TRUE(no_child_cgroups(fmt::format("/sys/fs/cgroup/{}{}/{}", controller, cgroup_parent(), ns_))) << controller;
  EXPECT_EQ(shims_alive(), 0);
  CtlResult snaps = ctl({"--format", "json", "snapshot", "ls"});
  EXPECT_EQ(snaps.out.find("container/"), std::string::npos) << snaps.out;
}

}  // namespace berth::manager::testing
