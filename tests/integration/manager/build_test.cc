// Issue 18, build: Dockerfiles built by berthd (RUN through berth-shim and berth), the build cache,
// reproducible layers, multi-stage builds, and the failures docker reports.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "container_fixture.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class BuildTest : public testing::ContainerFixture {
 protected:
  // A context dir with the given files (path → content).
  std::string context(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
    std::string dir = dir_.path() + "/" + name;
    for (const auto& [path, content] : files) {
      EXPECT_TRUE(make_dirs(dirname_of(dir + "/" + path)).ok());
      EXPECT_TRUE(write_file_atomic(dir + "/" + path, content, 0644).ok());
    }
    return dir;
  }
  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }
  // The layer digests of an image, from its manifest.
  std::string layers_of(const std::string& image) {
    CtlResult r = ctl({"image", "inspect", image});
    EXPECT_EQ(r.code, 0) << r.err;
    size_t at = r.out.find("\"Layers\"");
    return at == std::string::npos ? r.out : r.out.substr(at, r.out.find(']', at) - at);
  }
};

// busybox httpd serving dir on 127.0.0.1:port, returned once it accepts connections.
Result<ChildProcess> start_httpd(const std::string& dir, int port) {
  SpawnOptions options;
  options.argv = {"/bin/busybox", "httpd", "-f", "-p", fmt::format("127.0.0.1:{}", port), "-h", dir};
  BERTH_ASSIGN_OR_RETURN(ChildProcess httpd, ChildProcess::spawn(options));
  for (int i = 0; i < 200; ++i) {
    if (testing::connect_loopback(port).ok()) return httpd;
    BERTH_ASSIGN_OR_RETURN(auto exited, httpd.wait_for(std::chrono::milliseconds(25)));
    if (exited) return make_error(ErrorCode::kInternal, "busybox httpd exited with {}", exited->shell_code());
  }
  return make_error(ErrorCode::kDeadlineExceeded, "busybox httpd did not listen on port {}", port);
}

// Every instruction, the step output docker prints, the config they make, and a second build
// entirely from the cache.
TEST_F(BuildTest, EveryInstructionAndTheCache) {
  std::string dir = context("ctx", {{"Dockerfile",
                                     "# syntax=docker/dockerfile:1\n"
                                     "ARG BASE=" + image_ + "\n"
                                     "FROM ${BASE} AS base\n"
                                     "ARG WHO=world\n"
                                     "ENV GREETING=hello \\\n"
                                     "    PLACE=\"the ${WHO}\"\n"
                                     "# a comment inside is fine\n"
                                     "LABEL org.example.k=v other=\"two words\"\n"
                                     "WORKDIR /app\n"
                                     "COPY hello.txt ./\n"
                                     "COPY --chown=7:8 dir/ /app/dir/\n"
                                     "ADD files.tar /unpacked/\n"
                                     "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo $GREETING $PLACE $WHO > /app/made\"]\n"
                                     "RUN echo built in $(pwd)\n"
                                     "EXPOSE 80 53/udp\n"
                                     "VOLUME /data\n"
                                     "USER 1000:1000\n"
                                     "STOPSIGNAL SIGINT\n"
                                     "HEALTHCHECK --interval=5s --retries=2 CMD /bin/busybox true\n"
                                     "ONBUILD RUN echo child\n"
                                     "SHELL [\"/bin/busybox\", \"sh\", \"-c\"]\n"
                                     "ENTRYPOINT [\"/bin/busybox\"]\n"
                                     "CMD [\"cat\", \"/app/made\", \"/app/hello.txt\", \"/unpacked/in-tar\"]\n"},
                                    {"hello.txt", "hi from the context\n"},
                                    {"dir/a", "a\n"},
                                    {"ignored.log", "secret\n"},
                                    {".dockerignore", "*.log\n"}});
  std::string tar_src = context("tarsrc", {{"in-tar", "from the tar\n"}});
  auto tar = run_command({"tar", "-C", tar_src, "-cf", dir + "/files.tar", "in-tar"});
  ASSERT_TRUE(tar.ok() && tar->status.success());

  CtlResult r = ctl({"build", "-t", "every:1", "--build-arg", "WHO=berth", dir});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Step 1/20 : ARG BASE="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Step 11/20 : RUN echo built in $(pwd)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("built in /app\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Successfully built "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Successfully tagged every:1\n"), std::string::npos) << r.out;
  EXPECT_EQ(count(r.out, "Using cache"), 0u) << r.out;

  r = ctl({"run", "--rm", "--user", "0", "every:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello the berth berth\nhi from the context\nfrom the tar\n");
  r = ctl({"run", "--rm", "--user", "0", "every:1", "stat", "-c", "%u:%g %n", "/app/dir/a", "/app/hello.txt"});
  EXPECT_EQ(r.out, "7:8 /app/dir/a\n0:0 /app/hello.txt\n") << r.err;
  r = ctl({"run", "--rm", "--user", "0", "every:1", "ls", "/app"});
  EXPECT_EQ(r.out, "dir\nhello.txt\nmade\n") << r.err;  // ignored.log stayed out (.dockerignore)

  CtlResult inspect = ctl({"image", "inspect", "every:1"});
  ASSERT_EQ(inspect.code, 0);
  for (const char* want : {"\"80/tcp\"", "\"53/udp\"", "\"/data\"", "\"User\": \"1000:1000\"", "\"StopSignal\": \"SIGINT\"",
                           "\"org.example.k\": \"v\"", "\"other\": \"two words\"", "\"WorkingDir\": \"/app\"",
                           "RUN echo child", "CMD", "5000000000"}) {
    EXPECT_NE(inspect.out.find(want), std::string::npos) << want << "\n" << inspect.out;
  }

  // The same build again: every step from the cache, the same image.
  std::string first_id = r.out;
  CtlResult again = ctl({"build", "-t", "every:2", "--build-arg", "WHO=berth", dir});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(count(again.out, " ---> Using cache\n"), 17u) << again.out;  // all but the ARGs and FROM
  EXPECT_EQ(layers_of("every:1"), layers_of("every:2"));
  // A changed file invalidates its COPY and everything after it.
  ASSERT_TRUE(write_file_atomic(dir + "/hello.txt", "changed\n", 0644).ok());
  again = ctl({"build", "-t", "every:3", "--build-arg", "WHO=berth", dir});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(count(again.out, " ---> Using cache\n"), 3u) << again.out;  // ENV, LABEL, WORKDIR
  EXPECT_EQ(ctl({"run", "--rm", "every:3", "cat", "/app/hello.txt"}).out, "changed\n");
  for (const char* tag : {"every:1", "every:2", "every:3"}) EXPECT_EQ(ctl({"rmi", tag}).code, 0);
  expect_nothing_left();
}

// ADD <url> as docker does: fetched from a server (busybox httpd on 127.0.0.1), mode 0600, the
// server's Last-Modified as mtime, an archive left packed, the content's checksum in the cache key
// (the same content: a cache hit; changed content: the step runs again). A 404 stops the build.
TEST_F(BuildTest, AddFetchesUrls) {
  std::string www = context("www", {{"tool.txt", "fetched over http\n"}, {"sub/in-tar", "x\n"}});
  auto tar = run_command({"tar", "-C", www + "/sub", "-cf", www + "/pack.tar", "in-tar"});
  ASSERT_TRUE(tar.ok() && tar->status.success());
  constexpr time_t kModified = 1614834367;  // 2021-03-04T05:06:07Z
  timespec times[2] = {{kModified, 0}, {kModified, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (www + "/tool.txt").c_str(), times, 0), 0);
  int port = testing::free_port();
  auto httpd = start_httpd(www, port);
  ASSERT_TRUE(httpd.ok()) << httpd.error().what();
  std::string url = fmt::format("http://127.0.0.1:{}", port);
  std::string dir = context("addurl", {{"Dockerfile", "FROM " + image_ + "\n"
                                                      "ADD " + url + "/tool.txt /fetched/\n"
                                                      "ADD " + url + "/pack.tar?x=1 /fetched/\n"
                                                      "ADD " + url + "/tool.txt /renamed.txt\n"},
                                       {"missing/Dockerfile", "FROM " + image_ + "\nADD " + url + "/nosuch /x\n"},
                                       {"mixed/Dockerfile", "FROM " + image_ + "\nADD " + url + "/tool.txt Dockerfile /d/\n"}});
  // A SOURCE_DATE_EPOCH later than Last-Modified keeps it (earlier ones clamp every mtime).
  setenv("SOURCE_DATE_EPOCH", "4102444800", 1);
  CtlResult r = ctl({"build", "-t", "addurl:1", dir});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(count(r.out, " ---> Downloading " + url), 3u) << r.out;
  r = ctl({"run", "--rm", "addurl:1", "/bin/busybox", "stat", "-c", "%a %Y %s %n", "/fetched/tool.txt", "/fetched/pack.tar",
           "/renamed.txt"});
  struct stat pack{};
  ASSERT_EQ(::stat((www + "/pack.tar").c_str(), &pack), 0);
  EXPECT_EQ(r.out, fmt::format("600 {} 18 /fetched/tool.txt\n600 {} {} /fetched/pack.tar\n600 {} 18 /renamed.txt\n",
                               kModified, pack.st_mtime, pack.st_size, kModified))
      << r.err;
  EXPECT_EQ(ctl({"run", "--rm", "addurl:1", "/bin/busybox", "cat", "/renamed.txt"}).out, "fetched over http\n");

  // Downloaded again, the same bytes: every ADD from the cache.
  r = ctl({"build", "-t", "addurl:2", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.out, " ---> Using cache\n"), 3u) << r.out;
  EXPECT_EQ(layers_of("addurl:1"), layers_of("addurl:2"));
  // Other bytes behind the same URL (same Last-Modified): its steps run again.
  ASSERT_TRUE(write_file_atomic(www + "/tool.txt", "changed on the server\n", 0644).ok());
  ASSERT_EQ(::utimensat(AT_FDCWD, (www + "/tool.txt").c_str(), times, 0), 0);
  r = ctl({"build", "-t", "addurl:3", dir});
  unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.out, " ---> Using cache\n"), 0u) << r.out;
  EXPECT_EQ(ctl({"run", "--rm", "addurl:3", "/bin/busybox", "cat", "/fetched/tool.txt"}).out, "changed on the server\n");

  r = ctl({"build", "-t", "addurl:bad", dir + "/missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Dockerfile line 2: ADD " + url + "/nosuch: the server answered HTTP 404"), std::string::npos)
      << r.err;
  r = ctl({"build", "-t", "addurl:bad", dir + "/mixed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Dockerfile line 2: only ADD takes URLs, and not mixed with local files"), std::string::npos)
      << r.err;
  EXPECT_EQ(ctl({"images"}).out.find("addurl:bad"), std::string::npos);
  for (const char* tag : {"addurl:1", "addurl:2", "addurl:3"}) EXPECT_EQ(ctl({"rmi", tag}).code, 0);
  expect_nothing_left();
}

// Multi-stage: COPY --from a named stage, --target stops at a stage; only the final stage's
// layers are in the image.
TEST_F(BuildTest, MultiStageCopyFrom) {
  std::string dir = context("multi", {{"Dockerfile",
                                       "FROM " + image_ + " AS builder\n"
                                       "RUN mkdir /out && echo compiled > /out/app && echo junk > /junk\n"
                                       "FROM scratch AS tools\n"
                                       "COPY --from=builder /bin/busybox /bin/busybox\n"
                                       "FROM " + image_ + "\n"
                                       "COPY --from=builder /out/app /usr/local/bin/app\n"
                                       "COPY --from=1 /bin/busybox /copied-busybox\n"
                                       "CMD [\"/bin/busybox\", \"cat\", \"/usr/local/bin/app\"]\n"}});
  CtlResult r = ctl({"build", "-t", "multi:1", dir});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Step 8/8 : CMD"), std::string::npos) << r.out;
  r = ctl({"run", "--rm", "multi:1"});
  EXPECT_EQ(r.out, "compiled\n") << r.err;
  r = ctl({"run", "--rm", "multi:1", "/bin/busybox", "ls", "/junk"});
  EXPECT_NE(r.code, 0);  // the builder's other files stayed in the builder
  // The scratch stage's file, copied on by index.
  EXPECT_EQ(ctl({"run", "--rm", "multi:1", "/bin/busybox", "cmp", "/bin/busybox", "/copied-busybox"}).code, 0);

  r = ctl({"build", "-q", "--target", "builder", "-t", "multi:builder", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("sha256:", 0), 0u) << r.out;  // -q: the id only
  EXPECT_EQ(r.out.find("Step"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"run", "--rm", "multi:builder", "/bin/busybox", "cat", "/junk"}).out, "junk\n");
  r = ctl({"build", "--target", "nosuch", dir});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  for (const char* tag : {"multi:1", "multi:builder"}) EXPECT_EQ(ctl({"rmi", tag}).code, 0);
  expect_nothing_left();
}

// A failing RUN: its output and exit code shown, the build stops, nothing tagged, no build
// container or snapshot left. Bad Dockerfiles and sources outside the context are refused.
TEST_F(BuildTest, FailuresLeaveNothing) {
  std::string dir = context("fail", {{"Dockerfile", "FROM " + image_ + "\nRUN echo about to fail && exit 3\nRUN echo never\n"},
                                     {"bad/Dockerfile", "FROM " + image_ + "\nRUN true\nFROBNICATE x\n"},
                                     {"outside/Dockerfile", "FROM " + image_ + "\nCOPY ../secret /secret\n"},
                                     {"missing/Dockerfile", "FROM " + image_ + "\nCOPY nosuch /x\n"}});
  CtlResult r = ctl({"build", "-t", "fail:1", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("about to fail\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3"),
            std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("never"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"images"}).out.find("fail"), std::string::npos);
  CtlResult build_ps = berthd_->ctl({"--namespace", ns_ + ".build", "ps", "-a", "-q"});
  EXPECT_EQ(build_ps.out, "") << build_ps.err;

  r = ctl({"build", dir + "/bad"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Dockerfile line 3: unknown instruction: FROBNICATE"), std::string::npos) << r.err;
  r = ctl({"build", dir + "/outside"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("outside the build context: ../secret"), std::string::npos) << r.err;
  r = ctl({"build", dir + "/missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuch: no such file or directory in the build context"), std::string::npos) << r.err;
  r = ctl({"build", dir + "/nosuchdir"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unable to read the Dockerfile"), std::string::npos) << r.err;
  expect_nothing_left();
}

// Reproducible: after rmi, a --no-cache rebuild gives the same layer digests (mtimes normalized),
// and with SOURCE_DATE_EPOCH the same image id.
TEST_F(BuildTest, RebuildGivesTheSameLayers) {
  std::string dir = context("repro", {{"Dockerfile", "FROM " + image_ + "\nCOPY a /a\nRUN echo made > /made && mkdir /d\n"},
                                      {"a", "content\n"}});
  CtlResult first = ctl({"build", "-q", "-t", "repro:1", dir});
  ASSERT_EQ(first.code, 0) << first.err;
  std::string layers = layers_of("repro:1");
  ASSERT_EQ(ctl({"rmi", "repro:1"}).code, 0);
  CtlResult second = ctl({"build", "-q", "--no-cache", "-t", "repro:1", dir});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(layers_of("repro:1"), layers);
  ASSERT_EQ(ctl({"rmi", "repro:1"}).code, 0);

  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  CtlResult a = ctl({"build", "-q", "--no-cache", "-t", "repro:2", dir});
  CtlResult b = ctl({"build", "-q", "--no-cache", "-t", "repro:3", dir});
  unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(ctl({"image", "inspect", "repro:2"}).out.find("2023-11-14T22:13:20"), std::string::npos);
  for (const char* tag : {"repro:2", "repro:3"}) EXPECT_EQ(ctl({"rmi", tag}).code, 0);
  expect_nothing_left();
}

// The seeds' flow: an app image from busybox with COPY and CMD (busybox httpd serving a file),
// tagged, run, the file served.
TEST_F(BuildTest, AppImageServesAFile) {
  std::string dir = context("app", {{"Dockerfile",
                                     "FROM " + image_ + "\n"
                                     "COPY ./index.html /www/\n"
                                     "CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"127.0.0.1:8080\", \"-h\", \"/www\"]\n"},
                                    {"index.html", "Hello Berth!\n"}});
  CtlResult r = ctl({"build", "-t", "demo:v1", dir});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  r = ctl({"run", "-d", "--name", "web", "demo:v1"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = eventually({"exec", "web", "/bin/busybox", "wget", "-qO-", "http://127.0.0.1:8080/index.html"},
                 [](const CtlResult& c) { return c.code == 0; });
  EXPECT_EQ(r.out, "Hello Berth!\n") << r.err;
  EXPECT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  EXPECT_EQ(ctl({"rmi", "demo:v1"}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
