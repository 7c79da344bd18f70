// Exec through the TaskManager adapter into a real container: an in-process TaskManager with real
// berth-shims and the berth runtime over a busybox image imported into real stores; the client is
// our SPDY test client against the streaming server.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berthd_fixture.h"
#include "cri/streaming/streaming_server.h"
#include "cri/streaming/task_manager_runtime.h"
#include "images/image_archive.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "store_fixture.h"
#include "stream_client.h"

namespace berth::cri::streaming::testing {
namespace {

class TaskManagerExecTest : public manager::StoreTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (real containers)";
    if (!path_exists("/bin/busybox")) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
    open_stores("/var/tmp/berth-stream-exec-");
    if (HasFatalFailure()) return;
    // Overlay where the kernel has it, as berthd uses, rather than the store fixture's native copies.
    images_.reset();
    snapshots_.reset();
    auto overlay = manager::Snapshotter::open("auto", dir_.path() + "/overlay-snapshots", *db_);
    ASSERT_TRUE(overlay.ok()) << overlay.error().what();
    snapshots_ = std::move(*overlay);
    images_ = std::make_unique<manager::ImageManager>(*content_, *db_, *snapshots_, events_, manager::RegistryOptions{});
    std::string layout = dir_.path() + "/layout";
    manager::testing::LayoutBuilder builder(layout);
    auto built = builder.write({{"linux", manager::host_platform().architecture, {manager::testing::busybox_layer()}, {}}},
                               "berth.test/busybox:1");
    ASSERT_TRUE(built.ok()) << built.error().what();
    std::string archive = dir_.path() + "/busybox.tar";
    auto tar = run_command({"tar", "-C", layout, "-cf", archive, "."});
    ASSERT_TRUE(tar.ok() && tar->status.success());
    ASSERT_TRUE(make_dirs(dir_.path() + "/scratch").ok());
    auto names = manager::import_archive(*images_, kNs, archive, "", dir_.path() + "/scratch");
    ASSERT_TRUE(names.ok() && !names->empty()) << (names.ok() ? "no image" : names.error().what());
    cgroup_parent_ = fmt::format("/berth-stream-test-{}", ::getpid());
    manager::TaskManagerOptions options{dir_.path() + "/state", BERTH_SHIM_PATH, BERTH_RUNTIME_PATH,
                                        dir_.path() + "/events.sock", dir_.path() + "/volumes", cgroup_parent_};
    tasks_ = std::make_unique<manager::TaskManager>(*images_, options);
    image_ = names->front();
    id_ = start_container({"/bin/busybox", "sleep", "1000"}, false);
    ASSERT_FALSE(id_.empty());
    runtime_ = std::make_unique<TaskManagerRuntime>(*tasks_, kNs, [](const std::string&) -> Result<std::string> {
      return make_error(ErrorCode::kUnimplemented, "no pods here");
    });
    auto server = StreamingServer::start(*runtime_, {});
    ASSERT_TRUE(server.ok()) << server.error().what();
    server_ = std::move(*server);
  }

  // A running container of the image; attach: its stdio on FIFOs (stdin included). "" on failure.
  std::string start_container(std::vector<std::string> args, bool attach) {
    manager::ContainerSpecRequest request;
    request.image = image_;
    request.overrides.args = std::move(args);
    auto record = tasks_->create_container(kNs, request);
    EXPECT_TRUE(record.ok()) << record.error().what();
    if (!record.ok()) return "";
    ids_.push_back(record->id);
    auto task = tasks_->create_task(kNs, record->id, attach, attach);
    EXPECT_TRUE(task.ok()) << task.error().what();
    auto started = task.ok() ? tasks_->start(kNs, record->id, "") : Result<manager::TaskInfo>(task.error());
    EXPECT_TRUE(started.ok()) << started.error().what();
    return started.ok() ? record->id : "";
  }

  void TearDown() override {
    server_.reset();
    for (const auto& id : ids_) {
      (void)tasks_->kill(kNs, id, "", SIGKILL, true);
      (void)tasks_->wait(kNs, id, "");
      (void)tasks_->delete_task(kNs, id, "");
      (void)tasks_->delete_container(kNs, id);
    }
    tasks_.reset();
    if (!cgroup_parent_.empty()) manager::testing::remove_cgroup_parent(cgroup_parent_, kNs);
  }

  static constexpr const char* kNs = "k8s.io";
  std::string cgroup_parent_;
  std::unique_ptr<manager::TaskManager> tasks_;
  std::unique_ptr<TaskManagerRuntime> runtime_;
  std::unique_ptr<StreamingServer> server_;
  std::string image_, id_;
  std::vector<std::string> ids_;
};

TEST_F(TaskManagerExecTest, ExecStdoutStderrExitCodeAndStdin) {
  {
    auto url = server_->exec_url({id_, {"/bin/sh", "-c", "echo out; echo err >&2; exit 5"}, false, false, true, true});
    ASSERT_TRUE(url.ok());
    ExecOutput r = spdy_exec(*url, false);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_NE(r.status.find(R"({"reason":"ExitCode","message":"5"})"), std::string::npos) << r.status;
  }
  {
    auto url = server_->exec_url({id_, {"/bin/busybox", "tr", "a-z", "A-Z"}, false, true, true, true});
    ASSERT_TRUE(url.ok());
    SpdyClient c(*url, {"v4.channel.k8s.io"});
    ASSERT_EQ(c.code(), 101);
    uint32_t error = c.open({{"streamtype", "error"}});
    uint32_t in = c.open({{"streamtype", "stdin"}});
    uint32_t out = c.open({{"streamtype", "stdout"}});
    c.open({{"streamtype", "stderr"}});
    c.send(in, "hello container\n", /*fin=*/true);
    EXPECT_EQ(c.wait_closed(out), "HELLO CONTAINER\n");
    EXPECT_EQ(c.wait_closed(error), R"({"metadata":{},"status":"Success"})");
  }
}

TEST_F(TaskManagerExecTest, ExecWithTty) {
  auto url = server_->exec_url({id_, {"/bin/sh", "-c", "test -t 1 && echo is a tty"}, true, false, true, false});
  ASSERT_TRUE(url.ok());
  ExecOutput r = spdy_exec(*url, true);
  EXPECT_EQ(r.out, "is a tty\r\n");  // the pty's line discipline adds the \r
  EXPECT_EQ(r.status, R"({"metadata":{},"status":"Success"})");
}

TEST_F(TaskManagerExecTest, AttachToTheContainersStdio) {
  std::string id = start_container({"/bin/sh", "-c", "while read line; do echo got:$line; done; echo bye"}, true);
  ASSERT_FALSE(id.empty());
  auto url = server_->attach_url({id, false, true, true, true, /*stdin_once=*/true});
  ASSERT_TRUE(url.ok());
  SpdyClient c(*url, {"v4.channel.k8s.io"});
  ASSERT_EQ(c.code(), 101);
  uint32_t error = c.open({{"streamtype", "error"}});
  uint32_t in = c.open({{"streamtype", "stdin"}});
  uint32_t out = c.open({{"streamtype", "stdout"}});
  c.open({{"streamtype", "stderr"}});
  c.send(in, "one\ntwo\n", /*fin=*/true);  // EOF on stdin ends the loop, and the container
  EXPECT_EQ(c.wait_closed(out), "got:one\ngot:two\nbye\n");
  EXPECT_EQ(c.wait_closed(error), R"({"metadata":{},"status":"Success"})");
}

}  // namespace
}  // namespace berth::cri::streaming::testing
