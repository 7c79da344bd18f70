// Issue 15, "the first ten minutes of a Docker user": berthctl against a real berthd (started with
// no registry configuration, as a new user's), checked against what docker prints and exits with.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "berth/common/child_process.h"

#include "container_fixture.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class DockerUxTest : public testing::ContainerFixture {
 protected:
  // A plain-HTTP registry on 127.0.0.1 holding test/busybox:1.
  void start_registry() {
    auto registry = testing::Registry::start();
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    std::string layout = dir_.path() + "/pushed";
    testing::LayoutBuilder builder(layout);
    auto built = builder.write({{"linux", host_platform().architecture, {testing::busybox_layer()}, {}}}, "1");
    ASSERT_TRUE(built.ok()) << built.error().what();
    auto pushed = builder.push(registry_->host(), "test/busybox", "1");
    ASSERT_TRUE(pushed.ok()) << pushed.error().what();
  }
  std::string remote(const std::string& repo = "test/busybox") const { return registry_->host() + "/" + repo + ":1"; }

  std::unique_ptr<testing::Registry> registry_;
};

// docker run of an image that is not there pulls it, saying so on stderr; --pull never refuses.
TEST_F(DockerUxTest, RunPullsAMissingImage) {
  start_registry();
  CtlResult r = ctl({"run", "--pull", "never", "--rm", remote(), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("No such image: " + remote()), std::string::npos) << r.err;

  r = ctl({"run", "--rm", remote(), "/bin/busybox", "echo", "hi"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_NE(r.err.find("Unable to find image '" + remote() + "' locally"), std::string::npos) << r.err;
  EXPECT_NE(ctl({"images"}).out.find(registry_->host() + "/test/busybox"), std::string::npos);

  // Now present: no pull, nothing on stderr.
  r = ctl({"run", "--rm", remote(), "/bin/busybox", "echo", "again"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // --pull always pulls even so.
  r = ctl({"run", "--rm", "--pull", "always", remote(), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("Unable to find"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Status: Downloaded"), std::string::npos) << r.err;

  // Create answers NOT_FOUND for other things too: only a missing image makes run pull.
  r = ctl({"run", "--rm", "--network", "nosuchnet", remote(), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("nosuchnet"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Unable to find"), std::string::npos) << r.err;
  r = ctl({"run", "--pull", "sometimes", remote(), "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("invalid --pull \"sometimes\""), std::string::npos) << r.err;
  // A missing repository: the registry's answer, exit 125, no container left.
  r = ctl({"run", "--rm", remote("test/nosuch"), "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

// A registry on 127.0.0.1 needs no configuration (docker's default insecure registries), and a
// registry that can't be reached is named — never "cannot reach berthd".
TEST_F(DockerUxTest, RegistryErrorsNameTheRegistry) {
  start_registry();
  CtlResult r = ctl({"pull", remote()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string closed = "127.0.0.1:" + std::to_string(testing::free_port());
  r = ctl({"pull", closed + "/test/busybox:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("registry " + closed + ": "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot reach berthd"), std::string::npos) << r.err;
  // The plain-HTTP registry under a name that is not loopback: TLS fails, the hint names the key.
  std::string port = registry_->host().substr(registry_->host().find(':'));
  r = ctl({"pull", "berth-test.localtest" + port + "/test/busybox:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("cannot reach berthd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("registry berth-test.localtest" + port + ": "), std::string::npos) << r.err;
}

// docker ps: CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES.
TEST_F(DockerUxTest, PsShowsNames) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "web", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"ps"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string header = r.out.substr(0, r.out.find('\n'));
  size_t id = header.find("CONTAINER ID"), image = header.find("IMAGE"), command = header.find("COMMAND"),
         created = header.find("CREATED"), status = header.find("STATUS"), ports = header.find("PORTS"),
         names = header.find("NAMES");
  ASSERT_NE(names, std::string::npos) << header;
  EXPECT_TRUE(id < image && image < command && command < created && created < status && status < ports &&
              ports < names)
      << header;
  std::string row = r.out.substr(r.out.find('\n') + 1);
  EXPECT_EQ(row.substr(names, 4), "web\n") << r.out;
  EXPECT_NE(row.find("Up"), std::string::npos) << r.out;
  EXPECT_NE(row.find(" ago"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  expect_nothing_left();
}

// docker inspect falls back to images; a word naming nothing is reported, the others printed.
TEST_F(DockerUxTest, InspectFallsBackToImages) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "c1", image_, "/bin/busybox", "true"}).code, 0);
  CtlResult r = ctl({"inspect", image_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"media_type\""), std::string::npos) << r.out;
  r = ctl({"inspect", "c1", "nosuch", image_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such object: nosuch"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\"c1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"media_type\""), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"rm", "-f", "c1"}).code, 0);
  expect_nothing_left();
}

// docker run's exit codes: 125 the daemon failed, 126 the command can't be run, 127 not found.
TEST_F(DockerUxTest, RunExitCodesAsDocker) {
  CtlResult r = ctl({"run", "--rm", image_, "/nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  r = ctl({"run", "--rm", image_, "nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  r = ctl({"run", "--rm", image_, "/bin"});
  EXPECT_EQ(r.code, 126) << r.err;
  r = ctl({"run", "--rm", "--name", "bad name", image_, "true"});
  EXPECT_EQ(r.code, 125) << r.err;
  r = ctl({"run", "--no-such-flag", image_, "true"});
  EXPECT_EQ(r.code, 125) << r.err;
  r = ctl({"run", "--rm", image_, "/bin/busybox", "sh", "-c", "exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  // Detached: the container stays Created (as docker's), and the error says how to remove it.
  r = ctl({"run", "-d", "--name", "broken", image_, "/nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  EXPECT_NE(r.err.find("rm broken"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rm", "-f", "broken"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

// Anonymous volumes (-v /data), --volumes-from, run --rm and rm -v taking anonymous volumes along,
// volume create / inspect / prune.
TEST_F(DockerUxTest, AnonymousVolumesVolumesFromAndPrune) {
  CtlResult r = ctl({"run", "-d", "--name", "data", "-v", "/data", "-v", "named:/named", image_, "/bin/busybox",
                     "sh", "-c", "echo kept > /data/f; echo also > /named/g"});
  ASSERT_EQ(r.code, 0) << r.err;
  eventually({"ps", "-q"}, [](const CtlResult& p) { return p.out.empty(); });
  r = ctl({"--format", "json", "volume", "ls"});
  size_t anon_at = r.out.find("\"name\":\"");
  ASSERT_NE(anon_at, std::string::npos) << r.out;
  // --volumes-from sees both, at the same paths.
  r = ctl({"run", "--rm", "--volumes-from", "data", image_, "/bin/busybox", "cat", "/data/f", "/named/g"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "kept\nalso\n");
  r = ctl({"run", "--rm", "--volumes-from", "data:ro", image_, "/bin/busybox", "touch", "/data/x"});
  EXPECT_NE(r.code, 0);
  r = ctl({"run", "--rm", "--volumes-from", "nosuch", image_, "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("No such container: nosuch"), std::string::npos) << r.err;

  // run --rm removes its anonymous volume, not the named one.
  std::string before = ctl({"volume", "ls"}).out;
  r = ctl({"run", "--rm", "-v", "/scratch", "-v", "named:/named", image_, "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"volume", "ls"}).out, before);

  // volume create / inspect.
  r = ctl({"volume", "create", "made"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "made\n");
  EXPECT_EQ(ctl({"volume", "create", "made"}).code, 0);  // as docker: an existing one is fine
  r = ctl({"volume", "create"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::string anonymous = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(anonymous.size(), 64u) << r.out;
  EXPECT_NE(ctl({"volume", "create", "bad/name"}).code, 0);
  r = ctl({"volume", "inspect", "made", "nosuch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("\"Name\": \"made\""), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("No such volume: nosuch"), std::string::npos) << r.err;

  // prune: unused anonymous volumes only; -a every unused one. "data" still uses its two.
  r = ctl({"volume", "prune", "-f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Deleted Volumes:\n" + anonymous + "\n");
  EXPECT_EQ(ctl({"rm", "-v", "data"}).code, 0);
  r = ctl({"volume", "prune", "-f", "-a"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("made\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("named\n"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"volume", "ls", "-q"}).code, 2);
  EXPECT_EQ(ctl({"--format", "json", "volume", "ls"}).out, "[]\n");
  expect_nothing_left();
}

// -v NAME:/path makes a volume even when ./NAME is a directory (as docker); berthctl warns.
TEST_F(DockerUxTest, VolumeNamedLikeADirectoryWarns) {
  std::string cwd = dir_.path() + "/cwd";
  ASSERT_EQ(::mkdir(cwd.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((cwd + "/hostdir").c_str(), 0700), 0);
  std::vector<std::string> argv = ctl_argv({"run", "--rm", "-v", "hostdir:/data", image_, "/bin/busybox", "true"});
  argv.insert(argv.begin(), {"sh", "-c", "cd \"$0\" && exec \"$@\"", cwd});
  auto r = run_command(argv);
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_TRUE(r->status.success()) << r->err;
  EXPECT_NE(r->err.find("warning: -v hostdir:/data mounts the volume named \"hostdir\""), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("$PWD/hostdir:/data"), std::string::npos) << r->err;
  EXPECT_EQ(ctl({"volume", "rm", "hostdir"}).code, 0);
  expect_nothing_left();
}

// docker wait, container prune, image prune -a.
TEST_F(DockerUxTest, WaitAndPrune) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "quick", image_, "/bin/busybox", "sh", "-c", "exit 7"}).code, 0);
  CtlResult r = ctl({"wait", "quick"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "7\n");
  EXPECT_EQ(ctl({"wait", "quick"}).out, "7\n");  // already exited: at once
  r = ctl({"wait", "nosuch", "quick"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "7\n");
  ASSERT_EQ(ctl({"run", "-d", "--name", "up", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  r = ctl({"info"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Containers: 2\n Running: 1\n Paused: 0\n Stopped: 1\nImages: 1\n"), std::string::npos) << r.out;

  r = ctl({"container", "prune", "-f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Deleted Containers:\nquick\n");
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "up\n");
  // Without -f the question is asked; anything but y keeps everything.
  EXPECT_EQ(ctl({"image", "prune", "-a"}).out, "");
  r = ctl({"image", "prune", "-a", "-f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // the one image is used by "up"
  EXPECT_EQ(ctl({"rm", "-f", "up"}).code, 0);
  r = ctl({"image", "prune", "-a", "-f"});
  EXPECT_EQ(r.out, "Deleted Images:\nuntagged: " + image_ + "\n");
  EXPECT_EQ(ctl({"images", "-q"}).out, "");
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
