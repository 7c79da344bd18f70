// Fault injection through a real berthd (issue 16): processes killed hard at chosen points of a
// create, the client killed while attached and mid-pull, full filesystems under berthd's root and
// state dir (kills at start, exec and delete: kill_points_test.cc). Each case checks "nothing
// lost, nothing leaked, everything manageable afterwards": a container started before the fault
// still runs, no mount, cgroup, shim, bundle, runtime state or snapshot of the victim remains,
// and rm -f / rmi / import / pull work again. Points are reached through real events (a
// createRuntime hook the test injects, a relay holding a transfer, ENOSPC of a filled tmpfs),
// never by sleeping.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/scoped_mount.h"
#include "berth/common/unique_fd.h"
#include "berth/manager/v1/manager.grpc.pb.h"
#include "cutting_proxy.h"
#include "fault_fixture.h"
#include "registry_fixture.h"
#include "content/digest.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

using testing::CtlResult;
using testing::FaultInjectionTest;

namespace pb = ::berth::manager::v1;

// The leases berthd holds in namespace ns (a pull holds one while it runs).
std::vector<std::string> leases(const std::string& socket, const std::string& ns) {
  auto stub = pb::Leases::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("berth-namespace", ns);
  pb::ListLeasesResponse response;
  grpc::Status status = stub->List(&context, pb::Empty(), &response);
  if (!status.ok()) return {"(List failed: " + status.error_message() + ")"};
  return {response.ids().begin(), response.ids().end()};
}

// Every TCP connection to or from 127.0.0.1:port has its queues empty at both ends (ss): all the
// relay sent has been read by the receiving program. False while none is open.
bool connections_drained(int port) {
  auto out = run_command({"ss", "-Htn", "state", "established", fmt::format("( sport = :{0} or dport = :{0} )", port)});
  if (!out.ok() || out->out.empty()) return false;
  for (size_t start = 0; start < out->out.size();) {
    size_t nl = out->out.find('\n', start);
    unsigned long recv_q = 1, send_q = 1;
    if (std::sscanf(out->out.c_str() + start, "%lu %lu", &recv_q, &send_q) != 2 || recv_q != 0 || send_q != 0)
      return false;
    start = nl == std::string::npos ? out->out.size() : nl + 1;
  }
  return true;
}

int64_t used_bytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>((st.f_blocks - st.f_bfree) * st.f_frsize);
}


// kill -9 of `berth create` itself, after init was cloned and placed in its cgroup.
TEST_F(FaultInjectionTest, RuntimeKilledMidCreate) {
  expect_killed_create_fails_cleanly("kill -9 $PPID", "a create whose runtime died must fail");
}

// kill -9 of the shim while its `berth create` runs (the runtime's parent).
TEST_F(FaultInjectionTest, ShimKilledMidCreate) {
  expect_killed_create_fails_cleanly("kill -9 $(cut -d' ' -f4 /proc/$PPID/stat)", "a create whose shim died must fail");
}

// kill -9 of berthd while a create is under way; berthd is started again on the same root.
TEST_F(FaultInjectionTest, BerthdKilledMidCreate) {
  use_fault_runtime();
  start_keeper();
  arm(fmt::format("kill -9 {}", berthd_->process().pid()));
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "true"});
  EXPECT_NE(r.code, 0) << "the client of a dead berthd must not report success";
  ASSERT_TRUE(berthd_->process().wait().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_keeper_intact();
  expect_manageable_and_clean("victim");
}

// berthctl killed while attached to a running container: the container lives on (as with docker)
// and is managed as any other.
TEST_F(FaultInjectionTest, ClientKilledWhileAttached) {
  SpawnOptions options;
  options.argv = ctl_argv({"run", "--name", "attached", image_, "/bin/sh", "-c", "echo up; exec /bin/busybox sleep 1000"});
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  UniqueFd read_end(out[0]), write_end(out[1]);
  options.stdout_fd = write_end.get();
  auto client = ChildProcess::spawn(options);
  ASSERT_TRUE(client.ok()) << client.error().what();
  write_end.reset();
  char buf[3] = {};
  ASSERT_EQ(::read(read_end.get(), buf, 3), 3) << "the container never said it was up";
  ASSERT_EQ(std::string(buf, 3), "up\n");
  ASSERT_TRUE(client->signal(SIGKILL).ok());
  ASSERT_TRUE(client->wait().ok());
  CtlResult r = ctl({"exec", "attached", "/bin/busybox", "echo", "still"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "still\n");
  EXPECT_EQ(ctl({"rm", "-f", "attached"}).code, 0);
  expect_nothing_left();
}

class ClientKilledMidTransferTest : public FaultInjectionTest {
 protected:
  // berthd (restarted) reaches registry through a relay that holds every transfer once it has
  // relayed hold_after response bytes; the relay's host:port.
  std::string hold_after(const testing::Registry& registry, int64_t hold_after) {
    port_ = testing::free_port();
    auto proxy = testing::CuttingProxy::start(
        port_, std::stoi(registry.host().substr(registry.host().rfind(':') + 1)),
        {.patch_number = 0, .hold_after_bytes = hold_after});
    EXPECT_TRUE(proxy.ok()) << proxy.error().what();
    if (proxy.ok()) proxy_ = std::move(*proxy);
    restart_berthd_with(BERTH_RUNTIME_PATH, fmt::format(R"("registries": {{"127.0.0.1:{}": {{"plain_http": true}}}})", port_));
    return fmt::format("127.0.0.1:{}", port_);
  }

  // Runs berthctl args, kills it -9 once the relay holds the transfer and berthd has read every
  // byte relayed (`ss`: empty queues at both ends, so nothing moves on its own any more), and
  // expects berthd to hang up on the stalled transfer.
  void kill_client_once_stalled(const std::vector<std::string>& args) {
    auto devnull = open_fd("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_TRUE(devnull.ok());
    SpawnOptions options;
    options.argv = ctl_argv(args);
    options.stdout_fd = options.stderr_fd = devnull->get();
    auto client = ChildProcess::spawn(options);
    ASSERT_TRUE(client.ok()) << client.error().what();
    ASSERT_TRUE(proxy_->wait_held(std::chrono::seconds(60))) << "the transfer never got that far";
    auto drained_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!connections_drained(port_)) {
      ASSERT_LT(std::chrono::steady_clock::now(), drained_by) << "berthd never read what the relay sent";
    }
    ASSERT_TRUE(client->signal(SIGKILL).ok());
    ASSERT_TRUE(client->wait().ok());
    EXPECT_TRUE(proxy_->wait_held_client_gone(std::chrono::seconds(15)))
        << "berthd kept the stalled transfer of a client that went away";
  }

  int port_ = 0;
  std::unique_ptr<testing::CuttingProxy> proxy_;
};

// berthctl killed -9 in the middle of a pull, the transfer held mid-blob by the relay (a stalled
// registry, so nothing moves on its own). berthd cancels the pull, as docker's daemon does when its
// client goes: the gRPC call is cancelled and the stalled transfer is dropped at once (it used to
// wait for bytes that never came, up to the 60 s low-speed limit, and retry). Nothing of the pull
// stays — no ingest, blob, lease, snapshot or image — and a second pull of the same image
// completes and runs.
TEST_F(ClientKilledMidTransferTest, ClientKilledMidPull) {
  auto registry = testing::Registry::start();
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  std::string noise(6 << 20, '\0');
  std::mt19937_64 rng(16);
  for (char& c : noise) c = static_cast<char>(rng());
  testing::LayoutBuilder builder(dir_.path() + "/pulled-layout");
  auto built = builder.write({{"linux",
                               host_platform().architecture,
                               {testing::busybox_layer(), testing::TarBuilder("gzip").file("noise", noise).finish()},
                               {}}},
                             "1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  ASSERT_TRUE(builder.push((*registry)->host(), "test/pulled", "1").ok());
  std::string image = hold_after(**registry, 3 << 20) + "/test/pulled:1";
  ASSERT_FALSE(HasFailure());
  std::string snaps_before = ctl({"snapshot", "ls"}).out;
  std::string ingest = berthd_->root() + "/content/ingest";

  kill_client_once_stalled({"pull", image});
  // The cancelled pull cleans up after itself: its lease, its ingest files and blobs go.
  CtlResult left = eventually({"images", "-q"}, [&](const CtlResult&) {
    std::error_code ec;
    return leases(berthd_->socket(), ns_).empty() && std::filesystem::is_empty(ingest, ec);
  });
  EXPECT_EQ(leases(berthd_->socket(), ns_), std::vector<std::string>{});
  EXPECT_TRUE(std::filesystem::is_empty(ingest)) << "an ingest file stayed";
  EXPECT_EQ(left.out.find("test/pulled"), std::string::npos) << left.out;
  EXPECT_EQ(ctl({"snapshot", "ls"}).out, snaps_before);
  for (const auto& layer : built->front().layer_digests) {
    if (layer != built->front().layer_digests[0]) {  // the busybox layer is the imported image's too
      EXPECT_FALSE(path_exists(berthd_->root() + "/content/blobs/sha256/" + std::string(digest_hex(layer))));
    }
  }
  EXPECT_TRUE(berthd_->process().running());

  // The registry moves again: a second pull completes and runs, and leaves no ingest or lease.
  proxy_->release_hold();
  CtlResult r = ctl({"pull", image});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"run", "--rm", image, "/bin/busybox", "wc", "-c", "/noise"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{} /noise\n", noise.size()));
  EXPECT_TRUE(std::filesystem::is_empty(ingest));
  EXPECT_EQ(leases(berthd_->socket(), ns_), std::vector<std::string>{});
  EXPECT_EQ(ctl({"rmi", image}).code, 0);
  EXPECT_EQ(ctl({"snapshot", "ls"}).out, snaps_before);
  expect_nothing_left();
}

// The same for a push whose registry stalls in its first answer: berthd hangs up at once, and a
// second push completes once the registry moves again (pulled back to check).
TEST_F(ClientKilledMidTransferTest, ClientKilledMidPush) {
  auto registry = testing::Registry::start();
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  std::string image = hold_after(**registry, 1) + "/test/pushed:1";
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(ctl({"tag", image_, image}).code, 0);

  kill_client_once_stalled({"push", image});
  EXPECT_TRUE(berthd_->process().running());
  proxy_->release_hold();
  CtlResult r = ctl({"push", image});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(ctl({"rmi", image}).code, 0);
  r = ctl({"pull", image});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(leases(berthd_->socket(), ns_), std::vector<std::string>{});
  expect_nothing_left();
}

// berthd's root on a small tmpfs: a layer that does not fit fails its unpack with ENOSPC. The
// half-filled extract-… snapshot and the import's blobs go at once (not at the next restart), the
// image already there still runs, and once space returns the same import succeeds.
TEST_F(FaultInjectionTest, FullRootFailsAnUnpackAndLeavesNothing) {
  ASSERT_TRUE(berthd_->terminate().ok());
  auto tmpfs = ScopedMount::mount("tmpfs", berthd_->root(), "tmpfs", 0, "size=16m,mode=0700");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
  ASSERT_TRUE(berthd_->restart().ok());
  ASSERT_EQ(ctl({"image", "import", archive_}).code, 0);
  start_keeper();

  // 40 MiB of text that gzip shrinks to a few hundred KiB: the blob fits, its files do not.
  std::string line = "fault injection: this layer does not fit on a 16 MiB root\n";
  std::string big;
  while (big.size() < (40u << 20)) big += line;
  std::string layout = dir_.path() + "/big-layout";
  auto built = testing::LayoutBuilder(layout).write(
      {{"linux", host_platform().architecture, {testing::TarBuilder("gzip").file("big", big).finish()}, {}}},
      "berth.test/big:1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  std::string big_archive = dir_.path() + "/big.tar";
  auto tar = run_command({"tar", "-C", layout, "-cf", big_archive, "."});
  ASSERT_TRUE(tar.ok() && tar->status.success());

  int64_t before = used_bytes(berthd_->root());
  CtlResult snaps_before = ctl({"snapshot", "ls"});
  CtlResult r = ctl({"image", "import", big_archive});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;

  CtlResult snaps = ctl({"snapshot", "ls"});
  EXPECT_EQ(snaps.out.find("extract-"), std::string::npos) << snaps.out;
  EXPECT_EQ(snaps.out, snaps_before.out);
  CtlResult images = ctl({"images", "-q"});
  EXPECT_EQ(std::count(images.out.begin(), images.out.end(), '\n'), 1) << images.out;
  // The metadata database may keep a few pages more; the 40 MiB extraction and the blob are gone.
  EXPECT_LE(used_bytes(berthd_->root()), before + (512 << 10));
  auto listing = run_command({"find", berthd_->root() + "/content/blobs", "-type", "f"});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->out.find(digest_hex(built->front().layer_digests[0])), std::string::npos) << listing->out;

  // Nothing lost: the container already there and the image already there work.
  expect_keeper_intact();
  EXPECT_EQ(ctl({"run", "--rm", image_, "/bin/busybox", "true"}).code, 0);

  // Space returns: the same import succeeds and rmi removes it again.
  ASSERT_EQ(::mount("", berthd_->root().c_str(), "", MS_REMOUNT, "size=128m,mode=0700"), 0);
  r = ctl({"image", "import", big_archive});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"rmi", "berth.test/big:1"}).code, 0);
  EXPECT_EQ(ctl({"snapshot", "ls"}).out, snaps_before.out);

  expect_manageable("");
  ASSERT_TRUE(berthd_->terminate().ok());
  ASSERT_TRUE(tmpfs->unmount().ok());
  ASSERT_TRUE(berthd_->restart().ok());  // on the original root, for TearDown
  expect_nothing_left();  // with the test's own tmpfs gone, any mount left is berthd's
}

// berthd's state dir (bundles, runtime state, shim sockets) on a tmpfs filled to the last block:
// a run fails with a clear error and leaves nothing; once space returns runs work again.
TEST_F(FaultInjectionTest, FullStateDirFailsARunAndLeavesNothing) {
  ASSERT_TRUE(berthd_->terminate().ok());
  auto tmpfs = ScopedMount::mount("tmpfs", state_dir(), "tmpfs", 0, "size=4m,mode=0700");
  ASSERT_TRUE(tmpfs.ok()) << tmpfs.error().what();
  ASSERT_TRUE(berthd_->restart().ok());
  start_keeper();

  std::string filler = state_dir() + "/filler";
  {
    auto fd = open_fd(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_TRUE(fd.ok());
    struct statvfs st {};
    ASSERT_EQ(::statvfs(state_dir().c_str(), &st), 0);
    ASSERT_EQ(::posix_fallocate(fd->get(), 0, static_cast<off_t>(st.f_bavail * st.f_frsize)), 0);
  }
  CtlResult r = ctl({"run", "-d", "--name", "victim", image_, "/bin/busybox", "true"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  // An exec needs room in the state dir too (its process file and FIFOs): checked once space returns.
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("keeper"), std::string::npos) << ps.out;

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  expect_keeper_intact();
  expect_manageable("victim");
  ASSERT_TRUE(berthd_->terminate().ok());
  ASSERT_TRUE(tmpfs->unmount().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
