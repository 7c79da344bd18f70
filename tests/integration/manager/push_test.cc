// Push end to end: a busybox image imported into a real berthd, tagged and pushed to a real
// docker-registry on 127.0.0.1, read back by skopeo, removed, pulled back and run.
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"
#include "auth_fixtures.h"
#include "berth/manager/daemon.h"
#include "berthd_fixture.h"
#include "content/digest.h"
#include "images/oci.h"
#include "cutting_proxy.h"
#include "layout_builder.h"
#include "podman_fixture.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::Berthd;
using testing::CtlResult;
using testing::Registry;

// Imports a one-layer busybox image named berth.test/busybox:1 from an OCI archive built in dir.
Result<testing::BuiltImage> import_busybox(const Berthd& berthd, const std::string& ns, const std::string& dir,
                                           const std::string& history_json = "",
                                           const std::string& name = "berth.test/busybox:1") {
  std::string layout = dir + "/layout-" + std::to_string(std::hash<std::string>()(name));
  testing::LayoutBuilder builder(layout);
  BERTH_ASSIGN_OR_RETURN(auto built, builder.write({{"linux", host_platform().architecture,
                                                     {testing::busybox_layer()}, {}, history_json}},
                                                   name));
  std::string archive = layout + ".tar";
  BERTH_ASSIGN_OR_RETURN(auto tar, run_command({"tar", "-C", layout, "-cf", archive, "."}));
  if (!tar.status.success()) return make_error(ErrorCode::kInternal, "tar: {}", tar.err);
  CtlResult r = berthd.ctl({"--namespace", ns, "image", "import", archive});
  if (r.code != 0) return make_error(ErrorCode::kInternal, "import: {}", r.err);
  return built[0];
}

class PushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (real containers)";
    if (!path_exists("/bin/busybox")) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
    ns_ = fmt::format("push{}-{}", ::getpid(), ::time(nullptr) % 100000);
    auto dir = TempDir::create("/var/tmp/berth-push-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto registry = Registry::start();
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    proxy_port_ = testing::free_port();  // for a CuttingProxy in front of the registry
    auto daemon = Berthd::start(fmt::format(
        R"({{"shim": "{}", "runtime": "{}", "registries": {{"{}": {{"plain_http": true}}, "127.0.0.1:{}": {{"plain_http": true}}}}}})",
        BERTH_SHIM_PATH, BERTH_RUNTIME_PATH, registry_->host(), proxy_port_));
    ASSERT_TRUE(daemon.ok()) << daemon.error().what();
    berthd_ = std::move(*daemon);
    auto built = import_busybox(*berthd_, ns_, dir_.path());
    ASSERT_TRUE(built.ok()) << built.error().what();
    built_ = *built;
  }

  void TearDown() override {
    if (!berthd_) return;
    std::string parent = default_cgroup_parent(berthd_->root());
    berthd_.reset();
    testing::remove_cgroup_parent(parent, ns_);
  }

  CtlResult ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--namespace", ns_});
    return berthd_->ctl(std::move(args));
  }

  std::string ref(const std::string& repo, const std::string& tag = "v1") const {
    return registry_->host() + "/" + repo + ":" + tag;
  }

  // skopeo inspect --raw of what the registry holds.
  Result<std::string> skopeo_raw(const std::string& reference) {
    BERTH_ASSIGN_OR_RETURN(auto out, run_command({"skopeo", "inspect", "--raw", "--tls-verify=false",
                                                  "docker://" + reference}));
    if (!out.status.success()) return make_error(ErrorCode::kInternal, "skopeo inspect: {}", out.err);
    return out.out;
  }

  // The "sha256:…" on push's last line ("v1: digest: sha256:… size: N").
  static std::string pushed_digest(const CtlResult& r) {
    size_t at = r.out.find("digest: ");
    return at == std::string::npos ? "" : r.out.substr(at + 8, 71);
  }

  std::string ns_;
  TempDir dir_;
  int proxy_port_ = 0;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Berthd> berthd_;
  testing::BuiltImage built_;
};

TEST_F(PushTest, PushRmiPullBackAndRun) {
  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", ref("app")}).code, 0);
  CtlResult r = ctl({"push", ref("app")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("The push refers to repository [" + ref("app") + "]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("pushed"), std::string::npos) << r.err;
  EXPECT_EQ(pushed_digest(r), built_.manifest_digest) << r.out;
  EXPECT_TRUE(r.out.starts_with("v1: digest: sha256:")) << r.out;

  // skopeo reads exactly the manifest berth stored, and its layer.
  auto raw = skopeo_raw(ref("app"));
  ASSERT_TRUE(raw.ok()) << raw.error().what();
  EXPECT_EQ(sha256_digest(*raw), built_.manifest_digest);
  auto inspected = run_command({"skopeo", "inspect", "--tls-verify=false", "docker://" + ref("app")});
  ASSERT_TRUE(inspected.ok() && inspected->status.success()) << (inspected.ok() ? inspected->err : "");
  EXPECT_NE(inspected->out.find(built_.layer_digests[0]), std::string::npos) << inspected->out;

  // Gone locally, back from the registry, and it runs.
  ASSERT_EQ(ctl({"rmi", ref("app"), "berth.test/busybox:1"}).code, 0);
  EXPECT_EQ(ctl({"images", "-q"}).out, "");
  r = ctl({"pull", ref("app")});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"run", "--rm", ref("app"), "/bin/sh", "-c", "echo pushed and pulled"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pushed and pulled\n");
}

// The seeds' flow offline: an app image built from the busybox base with COPY and CMD (busybox
// httpd serving a file, the flask app's stand-in), tagged, pushed, removed locally, pulled back and
// run; and podman pulls what Berth pushed and runs it.
TEST_F(PushTest, SeedsFlowBuildTagPushRmiPullRun) {
  std::string context = dir_.path() + "/app";
  ASSERT_TRUE(make_dirs(context).ok());
  ASSERT_TRUE(write_file_atomic(context + "/Dockerfile",
                                "FROM berth.test/busybox:1\n"
                                "COPY ./index.html /www/\n"
                                "CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"127.0.0.1:8080\", \"-h\", \"/www\"]\n")
                  .ok());
  ASSERT_TRUE(write_file_atomic(context + "/index.html", "Hello Berth!\n").ok());
  CtlResult r = ctl({"build", "-t", "demo:v1", context});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_EQ(ctl({"tag", "demo:v1", ref("demo")}).code, 0);
  r = ctl({"push", ref("demo")});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string digest = pushed_digest(r);
  ASSERT_EQ(ctl({"rmi", "demo:v1", ref("demo"), "berth.test/busybox:1"}).code, 0);
  EXPECT_EQ(ctl({"images", "-q"}).out, "");

  r = ctl({"pull", ref("demo")});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"run", "-d", "--name", "web", ref("demo")});
  ASSERT_EQ(r.code, 0) << r.err;
  for (int i = 0; i < 100; ++i) {  // until httpd listens (~10 s at most)
    r = ctl({"exec", "web", "/bin/busybox", "wget", "-qO-", "http://127.0.0.1:8080/index.html"});
    if (r.code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(r.out, "Hello Berth!\n") << r.err;
  EXPECT_EQ(ctl({"rm", "-f", "web"}).code, 0);

  if (!testing::podman_available()) GTEST_SKIP() << "podman half skipped: needs podman and runc";
  testing::Podman podman(dir_.path() + "/podman");
  auto pulled = podman({"pull", "--tls-verify=false", ref("demo")});
  ASSERT_TRUE(pulled.ok());
  ASSERT_TRUE(pulled->status.success()) << pulled->err;
  auto ran = podman.run(ref("demo"), {"/bin/busybox", "cat", "/www/index.html"});
  ASSERT_TRUE(ran.ok());
  EXPECT_TRUE(ran->status.success()) << ran->err;
  EXPECT_EQ(ran->out, "Hello Berth!\n");
  auto id = podman({"image", "inspect", "--format", "{{.Digest}}", ref("demo")});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->out, digest + "\n");  // the manifest Berth pushed, byte for byte
}

TEST_F(PushTest, SecondPushFindsBlobsAndAnotherRepositoryMountsThem) {
  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", ref("first")}).code, 0);
  ASSERT_EQ(ctl({"push", ref("first")}).code, 0);
  CtlResult again = ctl({"push", ref("first")});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("pushing"), std::string::npos) << again.err;

  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", ref("second", "v2")}).code, 0);
  CtlResult mounted = ctl({"push", ref("second", "v2")});
  ASSERT_EQ(mounted.code, 0) << mounted.err;
  EXPECT_NE(mounted.err.find("layer-" + built_.layer_digests[0].substr(0, 19)), std::string::npos)
      << mounted.err;
  EXPECT_NE(mounted.err.find("mounted"), std::string::npos) << mounted.err;
  EXPECT_EQ(pushed_digest(mounted), built_.manifest_digest);
  auto raw = skopeo_raw(ref("second", "v2"));
  ASSERT_TRUE(raw.ok()) << raw.error().what();
  EXPECT_EQ(sha256_digest(*raw), built_.manifest_digest);
}

TEST_F(PushTest, ChunkedUploadIsReadBack) {
  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", ref("chunked")}).code, 0);
  CtlResult r = ctl({"push", "--chunk-size", "65536", ref("chunked")});
  ASSERT_EQ(r.code, 0) << r.err;
  // The registry saw the layer arrive in PATCH requests.
  auto log = read_file(registry_->log_path(), 64 << 20);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("PATCH"), std::string::npos);
  // What it assembled is the layer: skopeo copies the image out and checks every digest.
  auto out = run_command({"skopeo", "copy", "--src-tls-verify=false", "docker://" + ref("chunked"),
                          "oci:" + dir_.path() + "/copied:x"});
  ASSERT_TRUE(out.ok() && out->status.success()) << (out.ok() ? out->err : "");
  EXPECT_TRUE(path_exists(dir_.path() + "/copied/blobs/sha256/" + built_.layer_digests[0].substr(7)));
}

// The network breaks in the middle of a PATCH (a proxy passes on its headers, then closes both ends): the push asks the registry where the session stands and goes on from
// there in the same session — no new upload, the first chunks not sent again — and the registry
// assembles the right blob.
TEST_F(PushTest, BrokenChunkedUploadResumes) {
  int registry_port = std::stoi(registry_->host().substr(registry_->host().rfind(':') + 1));
  auto proxy = testing::CuttingProxy::start(proxy_port_, registry_port, {.patch_number = 3, .body_bytes_sent = 0});
  ASSERT_TRUE(proxy.ok()) << proxy.error().what();
  std::string proxied = fmt::format("127.0.0.1:{}/resumed:v1", proxy_port_);
  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", proxied}).code, 0);
  CtlResult r = ctl({"push", "--chunk-size", "65536", proxied});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE((*proxy)->cut_done());

  std::vector<std::string> seen = (*proxy)->requests();
  std::vector<std::string> patches;
  size_t posts = 0, cut_at = 0;
  for (const auto& req : seen) {
    if (req.starts_with("POST /v2/resumed/blobs/uploads/")) ++posts;
    if (!req.starts_with("PATCH ")) continue;
    patches.push_back(req.substr(req.rfind(' ') + 1));
    if (patches.size() == 3) cut_at = &req - seen.data();
  }
  ASSERT_GE(patches.size(), 5u) << fmt::format("{}", fmt::join(seen, "\n"));
  EXPECT_EQ(posts, 2u) << fmt::format("{}", fmt::join(seen, "\n"));  // the config's and the layer's sessions
  EXPECT_EQ(std::count(patches.begin(), patches.end(), "0-65535"), 1) << fmt::format("{}", fmt::join(patches, " "));
  // After the cut: the session's status, then the broken chunk again.
  ASSERT_GT(seen.size(), cut_at + 2);
  EXPECT_TRUE(seen[cut_at + 1].starts_with("GET /v2/resumed/blobs/uploads/")) << seen[cut_at + 1];
  EXPECT_EQ(patches[3], patches[2]);

  // What the registry assembled is the layer: skopeo copies the image out and checks every digest.
  auto out = run_command({"skopeo", "copy", "--src-tls-verify=false", "docker://" + ref("resumed"),
                          "oci:" + dir_.path() + "/resumed:x"});
  ASSERT_TRUE(out.ok() && out->status.success()) << (out.ok() ? out->err : "");
  EXPECT_TRUE(path_exists(dir_.path() + "/resumed/blobs/sha256/" + built_.layer_digests[0].substr(7)));
}

TEST_F(PushTest, BadInputIsNamed) {
  CtlResult r = ctl({"push", ref("never-tagged")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("no local image " + ref("never-tagged")), std::string::npos) << r.err;
  // A registry that is gone: the error names where the push went.
  ASSERT_EQ(ctl({"tag", "berth.test/busybox:1", ref("gone")}).code, 0);
  ASSERT_TRUE(registry_->stop().ok());
  r = ctl({"push", ref("gone")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find(registry_->host()), std::string::npos) << r.err;
}

TEST_F(PushTest, HistoryAndInspectAsDocker) {
  auto built = import_busybox(*berthd_, ns_, dir_.path(),
                              R"([{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef in / ", "comment": "base layer"},
                                  {"created": "2024-01-02T03:04:05Z", "created_by": "/bin/sh -c #(nop)  CMD [\"/bin/sh\"]", "empty_layer": true}])",
                              "berth.test/hist:1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  CtlResult r = ctl({"history", "berth.test/hist:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Newest first, docker's columns; only the top row carries the image id.
  std::vector<std::string> lines;
  for (size_t at = 0; at < r.out.size();) {
    size_t nl = r.out.find('\n', at);
    lines.push_back(r.out.substr(at, nl - at));
    at = nl + 1;
  }
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("IMAGE")) << r.out;
  EXPECT_NE(lines[0].find("CREATED BY"), std::string::npos);
  EXPECT_NE(lines[0].find("COMMENT"), std::string::npos);
  EXPECT_NE(lines[1].find("CMD [\"/bin/sh\"]"), std::string::npos) << r.out;
  EXPECT_NE(lines[1].find(" 0 B "), std::string::npos) << r.out;
  EXPECT_TRUE(lines[2].starts_with("<missing>")) << r.out;
  EXPECT_NE(lines[2].find("base layer"), std::string::npos) << r.out;
  EXPECT_NE(lines[2].find("…"), std::string::npos) << "created-by truncated at 45: " << r.out;
  r = ctl({"history", "--no-trunc", "berth.test/hist:1"});
  EXPECT_NE(r.out.find("file:0123456789abcdef0123456789abcdef in /"), std::string::npos) << r.out;

  r = ctl({"image", "inspect", "berth.test/hist:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = json::parse(r.out, "inspect");
  ASSERT_TRUE(tree.ok()) << r.out;
  auto items = json::root(*tree).as_array();
  ASSERT_TRUE(items.ok() && items->size() == 1u) << r.out;
  const json::Value& image = (*items)[0];
  EXPECT_EQ(image.get("Id")->as_string().value_or(""), r.out.substr(r.out.find("sha256:"), 71));
  EXPECT_EQ(image.get("Created")->as_string().value_or(""), "2024-01-02T03:04:05Z");
  EXPECT_EQ(image.get("Os")->as_string().value_or(""), "linux");
  EXPECT_EQ(image.get("RootFS")->get("Layers")->as_string_array().value_or({}), built->diff_ids);
  EXPECT_EQ(image.get("Config")->get("Cmd")->as_string_array().value_or({}), std::vector<std::string>{"/bin/sh"});
  EXPECT_NE(r.out.find(built->manifest_digest), std::string::npos);

  r = ctl({"history", "berth.test/none:1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
}

// login/logout against registries with htpasswd basic auth (over TLS) and bearer tokens; the
// credentials land in a docker-style config.json that push and pull use, and skopeo reads.
class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (berthd mounts)";
    auto dir = TempDir::create("/var/tmp/berth-login-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto pki = testing::make_pki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.error().what();
    pki_ = *pki;
    config_ = dir_.path() + "/docker/config.json";
    ::setenv("DOCKER_CONFIG", (dir_.path() + "/docker").c_str(), 1);
  }
  void TearDown() override { ::unsetenv("DOCKER_CONFIG"); }

  void start_berthd(const std::string& host_config) {
    auto daemon = Berthd::start(fmt::format(R"({{"registries": {{"{}": {}}}}})", host_, host_config));
    ASSERT_TRUE(daemon.ok()) << daemon.error().what();
    berthd_ = std::move(*daemon);
    auto built = import_busybox(*berthd_, "default", dir_.path());
    ASSERT_TRUE(built.ok()) << built.error().what();
    ASSERT_EQ(berthd_->ctl({"tag", "berth.test/busybox:1", ref_}).code, 0);
  }

  // berthctl login -u user --password-stdin host, the password on stdin.
  CtlResult login(const std::string& user, const std::string& password) {
    auto out = run_command({BERTHCTL_PATH, "--address", berthd_->socket(), "login", "-u", user, "--password-stdin",
                            host_},
                           password + "\n");
    if (!out.ok()) return {};
    return {out->status.success() ? 0 : 1, out->out, out->err};
  }

  TempDir dir_;
  testing::TestPki pki_;
  std::string config_, host_, ref_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Berthd> berthd_;
};

TEST_F(LoginTest, BasicAuthLoginPushPullLogout) {
  std::string htpasswd = dir_.path() + "/htpasswd";
  ASSERT_TRUE(testing::write_htpasswd(htpasswd, "alice", "s3cret").ok());
  auto registry = Registry::start(pki_.server_cert, pki_.server_key, {testing::RegistryAuth::kBasic, htpasswd});
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  registry_ = std::move(*registry);
  host_ = registry_->host();
  ref_ = host_ + "/private/app:v1";
  start_berthd(fmt::format(R"({{"ca_file": "{}"}})", pki_.ca_cert));
  // Keys of the config other tools wrote stay.
  ASSERT_TRUE(make_dirs(dir_.path() + "/docker").ok());
  ASSERT_TRUE(write_file_atomic(config_, R"({"psFormat": "table {{.ID}}", "auths": {"other.example": {"auth": "eDp5"}}})").ok());

  CtlResult r = berthd_->ctl({"push", ref_});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("requires basic auth and no credentials"), std::string::npos) << r.err;

  r = login("alice", "wrong");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong"), std::string::npos) << "the password is never shown: " << r.err;

  r = login("alice", "s3cret");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Login Succeeded\n");
  struct stat st {};
  ASSERT_EQ(::stat(config_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto text = read_file(config_);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("table {{.ID}}"), std::string::npos) << *text;
  EXPECT_NE(text->find("other.example"), std::string::npos) << *text;
  EXPECT_NE(text->find("\"" + host_ + "\""), std::string::npos) << *text;
  EXPECT_NE(text->find("YWxpY2U6czNjcmV0"), std::string::npos) << *text;  // base64("alice:s3cret")

  r = berthd_->ctl({"push", ref_});
  ASSERT_EQ(r.code, 0) << r.err;
  // skopeo reads the same config.json.
  auto out = run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", "--authfile", config_, "docker://" + ref_});
  ASSERT_TRUE(out.ok() && out->status.success()) << (out.ok() ? out->err : "");
  ASSERT_EQ(berthd_->ctl({"rmi", ref_, "berth.test/busybox:1"}).code, 0);
  r = berthd_->ctl({"pull", ref_});
  EXPECT_EQ(r.code, 0) << r.err;

  r = berthd_->ctl({"logout", host_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Removing login credentials for " + host_ + "\n");
  text = read_file(config_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(host_), std::string::npos) << *text;
  EXPECT_NE(text->find("other.example"), std::string::npos) << *text;
  r = berthd_->ctl({"pull", ref_});
  EXPECT_NE(r.code, 0);
}

TEST_F(LoginTest, BearerTokenLoginAndPush) {
  auto issuer = testing::TokenIssuer::start(pki_.token_key, pki_.token_cert, "berth-test-issuer", "berth-registry",
                                            "bob", "hunter2");
  ASSERT_TRUE(issuer.ok()) << issuer.error().what();
  testing::RegistryAuth auth{testing::RegistryAuth::kToken, "", (*issuer)->realm(), "berth-registry",
                             "berth-test-issuer", pki_.token_cert};
  auto registry = Registry::start("", "", auth);
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  registry_ = std::move(*registry);
  host_ = registry_->host();
  ref_ = host_ + "/tok/app:v1";
  start_berthd(R"({"plain_http": true})");

  CtlResult r = login("bob", "nope");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  r = login("bob", "hunter2");
  ASSERT_EQ(r.code, 0) << r.err;
  int before = (*issuer)->tokens_issued();
  r = berthd_->ctl({"push", ref_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT((*issuer)->tokens_issued(), before);
  auto out = run_command({"skopeo", "inspect", "--raw", "--tls-verify=false", "--authfile", config_, "docker://" + ref_});
  ASSERT_TRUE(out.ok() && out->status.success()) << (out.ok() ? out->err : "");
}

}  // namespace
}  // namespace berth::manager
