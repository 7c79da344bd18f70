// End to end: images built by the test, pushed with skopeo into a real docker-registry, pulled by a
// real berthd through berthctl, and the unpacked snapshots compared file by file.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <sstream>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"
#include "content/digest.h"
#include "images/oci.h"
#include "snapshots/snapshotter.h"
#include "berthd_fixture.h"
#include "cutting_proxy.h"
#include "layout_builder.h"
#include "registry_fixture.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

using testing::Berthd;
using testing::CtlResult;
using testing::LayoutBuilder;
using testing::PlatformImage;
using testing::Registry;
using testing::TarBuilder;

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts, overlay whiteouts)";
    auto dir = TempDir::create("/var/tmp/berth-pull-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto registry = Registry::start();
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    auto daemon = Berthd::start(plain_http_config());
    ASSERT_TRUE(daemon.ok()) << daemon.error().what();
    berthd_ = std::move(*daemon);
  }

  std::string plain_http_config() const {
    return fmt::format(R"({{"registries": {{"{}": {{"plain_http": true}}}}}})", registry_->host());
  }

  // Builds an image layout and pushes it as repo:tag.
  std::vector<testing::BuiltImage> push(const std::string& repo, const std::vector<PlatformImage>& platforms,
                                        const std::string& tag = "1") {
    std::string layout = dir_.path() + "/layout-" + repo + "-" + tag;
    std::replace(layout.begin() + static_cast<long>(dir_.path().size()) + 1, layout.end(), '/', '_');
    LayoutBuilder builder(layout);
    auto built = builder.write(platforms, tag);
    EXPECT_TRUE(built.ok()) << built.error().what();
    auto st = builder.push(registry_->host(), repo, tag);
    EXPECT_TRUE(st.ok()) << st.error().what();
    return built.value_or({});
  }

  PlatformImage busybox(std::string arch = host_platform().architecture) {
    return PlatformImage{"linux", std::move(arch), {testing::busybox_layer()}, {}};
  }

  CtlResult ctl(std::vector<std::string> args) { return berthd_->ctl(std::move(args)); }

  // Starts a CuttingProxy with rule on port (any free one when 0) in front of the registry and
  // restarts berthd to pull through it over plain HTTP; returns the proxy's host:port.
  std::string pull_through_proxy(std::unique_ptr<testing::CuttingProxy>& proxy, testing::CutRule rule, int port = 0) {
    int registry_port = std::stoi(registry_->host().substr(registry_->host().rfind(':') + 1));
    if (port == 0) port = testing::free_port();
    auto started = testing::CuttingProxy::start(port, registry_port, std::move(rule));
    EXPECT_TRUE(started.ok()) << started.error().what();
    if (!started.ok()) return {};
    proxy = std::move(*started);
    std::string host = fmt::format("127.0.0.1:{}", port);
    EXPECT_TRUE(berthd_->terminate().ok());
    berthd_.reset();
    auto daemon = Berthd::start(fmt::format(R"({{"registries": {{"{}": {{"plain_http": true}}}}}})", host));
    EXPECT_TRUE(daemon.ok()) << daemon.error().what();
    if (daemon.ok()) berthd_ = std::move(*daemon);
    return host;
  }

  // A failed pull left no image, snapshot, blob or ingest file.
  void expect_nothing_pulled() {
    EXPECT_EQ(count_json({"images"}), 0u);
    EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
    std::error_code ec;
    EXPECT_TRUE(std::filesystem::is_empty(berthd_->root() + "/content/blobs/sha256", ec)) << "a blob stayed";
    EXPECT_TRUE(std::filesystem::is_empty(berthd_->root() + "/content/ingest", ec)) << "an ingest file stayed";
  }

  std::string ref(const std::string& repo, const std::string& tag = "1") const {
    return registry_->host() + "/" + repo + ":" + tag;
  }

  // Mounts the committed snapshot key read-only (through the daemon's Mounts answer) and runs body on it.
  template <typename F>
  void with_snapshot(const std::string& key, F body) {
    CtlResult r = ctl({"snapshot", "mounts", key});
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream line(r.out);
    std::string word, type, source, target, flag, options;
    line >> word >> flag >> type >> source >> target >> flag >> options;
    Mount m{type, source, {}};
    std::istringstream opts(options);
    for (std::string o; std::getline(opts, o, ',');) m.options.push_back(o);
    std::string where = dir_.path() + "/view";
    ASSERT_TRUE(make_dirs(where).ok());
    auto mounted = mount_snapshot({m}, where);
    ASSERT_TRUE(mounted.ok()) << mounted.error().what() << " for " << r.out;
    body(where);
    ASSERT_TRUE(mounted->unmount().ok());
  }

  static void expect_busybox_tree(const std::string& root) {
    struct stat st {};
    ASSERT_EQ(::lstat((root + "/bin/busybox").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
    EXPECT_EQ(sha256_digest(*read_file(root + "/bin/busybox")), sha256_digest(*read_file("/bin/busybox")));
    char target[64] = {};
    ASSERT_GT(::readlink((root + "/bin/sh").c_str(), target, sizeof target), 0);
    EXPECT_STREQ(target, "busybox");
    EXPECT_EQ(*read_file(root + "/etc/hostname"), "berth\n");
  }

  Result<json::Tree> ctl_json(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json"});
    CtlResult r = ctl(args);
    if (r.code != 0) return make_error(ErrorCode::kInternal, "berthctl failed: {}", r.err);
    return json::parse(r.out, "berthctl output");
  }

  size_t count_json(std::vector<std::string> args) {
    auto tree = ctl_json(std::move(args));
    EXPECT_TRUE(tree.ok());
    return tree.ok() ? json::root(*tree).as_array()->size() : 0;
  }

  // Pushes busybox as repo, then flips a byte of its layer in the registry's storage; the layer's hex digest.
  std::string push_with_corrupt_layer(const std::string& repo) {
    auto built = push(repo, {busybox()});
    std::string layer_hex(digest_hex(built[0].layer_digests[0]));
    std::string blob = registry_->storage() + "/docker/registry/v2/blobs/sha256/" + layer_hex.substr(0, 2) +
                       "/" + layer_hex + "/data";
    auto data = read_file(blob);
    EXPECT_TRUE(data.ok()) << data.error().what();
    if (!data) return layer_hex;
    (*data)[data->size() / 2] ^= 0x55;
    EXPECT_TRUE(write_file(blob, *data).ok());
    return layer_hex;
  }

  TempDir dir_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Berthd> berthd_;
};

TEST_F(PullTest, PullListInspectRemove) {
  auto built = push("test/busybox", {busybox()});
  ASSERT_EQ(built.size(), 1u);
  CtlResult r = ctl({"image", "pull", ref("test/busybox")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, ref("test/busybox") + "\n");
  EXPECT_NE(r.err.find("unpacked"), std::string::npos) << "plain progress lines expected: " << r.err;

  auto images = ctl_json({"images"});
  ASSERT_TRUE(images.ok()) << images.error().what();
  auto list = *json::root(*images).as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(*list[0].get("name")->as_string(), ref("test/busybox"));
  EXPECT_EQ(*list[0].get("digest")->as_string(), built[0].manifest_digest);

  // The layer's snapshot is keyed by its chain ID (= diff ID for the first layer) and holds the tree.
  with_snapshot(built[0].diff_ids[0], expect_busybox_tree);
  auto content = ctl_json({"content", "ls"});
  ASSERT_TRUE(content.ok());
  auto blobs = *json::root(*content).as_array();
  EXPECT_EQ(blobs.size(), 3u);  // manifest, config, layer
  int64_t total = 0;
  for (const auto& b : blobs) total += *b.get("size")->as_int64();
  EXPECT_EQ(*list[0].get("size")->as_int64(), total) << "an image's size counts all its blobs";

  r = ctl({"image", "inspect", ref("test/busybox")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(built[0].manifest_digest), std::string::npos);

  // Namespaces isolate: nothing visible in another one.
  ASSERT_EQ(ctl({"namespace", "create", "other"}).code, 0);
  EXPECT_EQ(count_json({"--namespace", "other", "images"}), 0u);
  EXPECT_EQ(count_json({"--namespace", "other", "content", "ls"}), 0u);

  // Pull again: everything already there.
  r = ctl({"pull", ref("test/busybox")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;

  r = ctl({"rmi", ref("test/busybox")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_json({"images"}), 0u);
  EXPECT_EQ(count_json({"content", "ls"}), 0u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u) << "garbage collection leaves no layer behind";
  r = ctl({"rmi", ref("test/busybox")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
}

TEST_F(PullTest, MultiLayerWhiteoutsOpaqueDirsAndZstd) {
  std::string base = TarBuilder("gzip")
                         .file("etc/hostname", "base\n")
                         .file("etc/gone", "x")
                         .file("var/lib/old/file", "old")
                         .file("var/lib/keep-not", "old")
                         .finish();
  std::string top = TarBuilder("zstd")
                        .file("etc/.wh.gone", "")
                        .dir("var/lib")
                        .file("var/lib/.wh..wh..opq", "")
                        .file("var/lib/new", "new")
                        .file("etc/hostname", "top\n")
                        .finish();
  PlatformImage image{"linux",
                      host_platform().architecture,
                      {base, top},
                      {std::string(kOciLayerGzip), std::string(kOciLayerZstd)}};
  auto built = push("test/layers", {image});
  CtlResult r = ctl({"pull", ref("test/layers")});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> chains = chain_ids(built[0].diff_ids);
  ASSERT_EQ(chains.size(), 2u);
  with_snapshot(chains[1], [](const std::string& root) {
    EXPECT_EQ(*read_file(root + "/etc/hostname"), "top\n");
    EXPECT_FALSE(path_exists(root + "/etc/gone"));
    EXPECT_FALSE(path_exists(root + "/var/lib/old"));
    EXPECT_FALSE(path_exists(root + "/var/lib/keep-not"));
    EXPECT_EQ(*read_file(root + "/var/lib/new"), "new");
  });
  // The base layer is untouched and shared by a second image built on it.
  with_snapshot(chains[0], [](const std::string& root) { EXPECT_TRUE(path_exists(root + "/etc/gone")); });
  PlatformImage derived{
      "linux", host_platform().architecture, {base, TarBuilder("gzip").file("x", "y").finish()}, {}};
  push("test/derived", {derived});
  ASSERT_EQ(ctl({"pull", ref("test/derived")}).code, 0);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 3u) << "base layer snapshot shared by chain ID";
  ASSERT_EQ(ctl({"rmi", ref("test/layers")}).code, 0);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 2u) << "the shared base stays while test/derived uses it";
}

TEST_F(PullTest, MultiPlatformIndexChoosesPlatform) {
  PlatformImage arm{"linux", "arm64", {TarBuilder("gzip").file("arch", "arm64").finish()}, {}};
  PlatformImage amd{"linux", "amd64", {TarBuilder("gzip").file("arch", "amd64").finish()}, {}};
  auto built = push("test/multi", {amd, arm});
  ASSERT_EQ(built.size(), 2u);
  CtlResult r = ctl({"pull", "--platform", "linux/arm64", ref("test/multi")});
  ASSERT_EQ(r.code, 0) << r.err;
  with_snapshot(built[1].diff_ids[0],
                [](const std::string& root) { EXPECT_EQ(*read_file(root + "/arch"), "arm64"); });
  EXPECT_FALSE(ctl({"snapshot", "usage", built[0].diff_ids[0]}).code == 0)
      << "amd64 layer must not be unpacked";
  r = ctl({"pull", "--platform", "linux/s390x", ref("test/multi")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no image for platform linux/s390x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("linux/arm64"), std::string::npos) << "lists what is available: " << r.err;
}

TEST_F(PullTest, ClearErrors) {
  CtlResult r = ctl({"pull", ref("test/missing")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("MANIFEST_UNKNOWN"), std::string::npos)
      << "the registry's error body is shown: " << r.err;
  r = ctl({"pull", "Bad Ref!"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid image reference"), std::string::npos) << r.err;
  r = ctl({"image", "frobnicate"});
  EXPECT_EQ(r.code, 2);
  r = ctl({"--namespace", "../x", "images"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid namespace"), std::string::npos) << r.err;
}

TEST_F(PullTest, CorruptedBlobIsRejectedAndNothingCommitted) {
  std::string layer_hex = push_with_corrupt_layer("test/corrupt");
  ASSERT_FALSE(HasFailure());
  CtlResult r = ctl({"pull", ref("test/corrupt")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(berthd_->root() + "/content/blobs/sha256/" + layer_hex));
  EXPECT_EQ(count_json({"images"}), 0u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
}

// Issue 16 item 7: a failed pull's manifest, config and finished layers were left for some later rmi
// (56 of 77 blobs after 24 failed pulls). Now they go once the pull has failed.
TEST_F(PullTest, FailedPullsLeaveNoOrphanBlobs) {
  push_with_corrupt_layer("test/orphans");
  ASSERT_FALSE(HasFailure());
  auto blobs = [&] {
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(berthd_->root() + "/content/blobs/sha256", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  };
  for (int i = 0; i < 24; i++) {
    CtlResult r = ctl({"pull", ref("test/orphans")});
    ASSERT_EQ(r.code, 1) << r.err;
  }
  EXPECT_EQ(blobs(), 0u) << "manifest and config of the failed pulls stayed";
  EXPECT_EQ(count_json({"images"}), 0u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
}

TEST_F(PullTest, OneDaemonPerRootAndCleanShutdown) {
  auto second = Berthd::start("{}");
  ASSERT_TRUE(second.ok());  // its own root: fine
  // Same root: a second daemon refuses to start.
  auto out = run_command({BERTHD_PATH, "--root", berthd_->root(), "--state", dir_.path() + "/state2",
                          "--address", dir_.path() + "/second.sock"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status.code, 1);
  EXPECT_NE(out->err.find("another berthd is already using root"), std::string::npos) << out->err;
  struct stat st {};
  ASSERT_EQ(::stat(berthd_->socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(berthd_->terminate().ok());
  EXPECT_FALSE(path_exists(berthd_->socket()));
}

TEST_F(PullTest, KilledDaemonRestartsConsistent) {
  push("test/crash", {busybox()});
  ASSERT_EQ(ctl({"pull", ref("test/crash")}).code, 0);
  ASSERT_TRUE(berthd_->kill_hard().ok());
  ASSERT_TRUE(berthd_->restart().ok());
  EXPECT_EQ(count_json({"images"}), 1u);
  ASSERT_EQ(ctl({"rmi", ref("test/crash")}).code, 0);
  CtlResult r = ctl({"pull", ref("test/crash")});
  ASSERT_EQ(r.code, 0) << r.err;
}

// Incompressible data, reproducible from the seed.
std::string random_bytes(size_t size, uint64_t seed) {
  std::string out(size, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&out[i], &v, 8);
  }
  return out;
}

// Bytes the registry reported writing for GETs of the blob, as logged per request.
std::vector<int64_t> blob_bytes_served(const std::string& log, const std::string& digest) {
  std::vector<int64_t> out;
  std::istringstream lines(read_file(log).value_or(""));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("http.request.method=GET") == std::string::npos) continue;
    if (line.find("/blobs/" + digest) == std::string::npos) continue;
    size_t at = line.find("http.response.written=");
    if (at != std::string::npos) out.push_back(std::stoll(line.substr(at + 22)));
  }
  return out;
}

TEST_F(PullTest, ResumesPartialBlobWithRange) {
  std::string noise = random_bytes(6 << 20, 42);
  auto built = push(
      "test/big",
      {PlatformImage{
          "linux", host_platform().architecture, {TarBuilder("gzip").file("noise", noise).finish()}, {}}});
  const std::string& layer = built[0].layer_digests[0];
  std::string hex(digest_hex(layer));
  std::string blob =
      registry_->storage() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
  auto data = read_file(blob);
  ASSERT_TRUE(data.ok());
  // As if a previous pull broke half-way: the ingest holds the first half.
  ASSERT_TRUE(berthd_->terminate().ok());
  std::string ingest = berthd_->root() + "/content/ingest/fetch-" + hex;
  ASSERT_TRUE(write_file_atomic(ingest, data->substr(0, data->size() / 2)).ok());
  ASSERT_TRUE(berthd_->restart().ok());
  CtlResult r = ctl({"pull", ref("test/big")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto served = blob_bytes_served(registry_->log_path(), layer);
  ASSERT_EQ(served.size(), 1u) << "one GET of the layer";
  EXPECT_EQ(served[0], static_cast<int64_t>(data->size() - data->size() / 2))
      << "only the missing half was sent";
  with_snapshot(built[0].diff_ids[0], [&](const std::string& root) {
    EXPECT_EQ(sha256_digest(*read_file(root + "/noise", 16 << 20)), sha256_digest(noise));
  });
}

TEST_F(PullTest, RegistryDownThenBack) {
  push("test/flaky", {busybox()});
  ASSERT_TRUE(registry_->stop().ok());
  CtlResult r = ctl({"pull", ref("test/flaky")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(registry_->host()), std::string::npos) << r.err;
  EXPECT_EQ(count_json({"images"}), 0u);
  ASSERT_TRUE(registry_->restart().ok());
  r = ctl({"pull", ref("test/flaky")});
  EXPECT_EQ(r.code, 0) << r.err;
}

// The registry dies in the middle of a layer: a relay in front of it cuts every connection once
// half the layer has passed and then refuses connections, as a crashed registry would. The pull
// fails naming the registry and leaves no image, snapshot or blob — only the partial ingest, the
// point to resume from. Once the registry is back, the pull completes fetching only the rest.
TEST_F(PullTest, RegistryDyingMidBlobFailsCleanlyAndResumes) {
  std::string noise = random_bytes(6 << 20, 43);
  auto built = push(
      "test/dying",
      {PlatformImage{
          "linux", host_platform().architecture, {TarBuilder("gzip").file("noise", noise).finish()}, {}}});
  const std::string& layer = built[0].layer_digests[0];
  std::string hex(digest_hex(layer));
  auto layer_size = std::filesystem::file_size(registry_->storage() + "/docker/registry/v2/blobs/sha256/" +
                                               hex.substr(0, 2) + "/" + hex + "/data");
  std::unique_ptr<testing::CuttingProxy> proxy;
  std::string proxy_host = pull_through_proxy(
      proxy, {.patch_number = 0, .response_bytes = static_cast<int64_t>(layer_size / 2)});
  ASSERT_FALSE(HasFailure());
  int proxy_port = std::stoi(proxy_host.substr(proxy_host.rfind(':') + 1));
  int registry_port = std::stoi(registry_->host().substr(registry_->host().rfind(':') + 1));
  std::string image = proxy_host + "/test/dying:1";

  CtlResult r = ctl({"pull", image});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(proxy->cut_done()) << "the relay never reached its budget";
  EXPECT_NE(r.err.find(proxy_host), std::string::npos) << r.err;
  EXPECT_EQ(count_json({"images"}), 0u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(berthd_->root() + "/content/blobs/sha256", ec)) << "manifest or config stayed";
  std::string ingest = berthd_->root() + "/content/ingest/fetch-" + hex;
  auto partial = std::filesystem::file_size(ingest, ec);
  ASSERT_FALSE(ec) << "no partial ingest to resume from";
  EXPECT_GT(partial, 0u);
  EXPECT_LT(partial, layer_size);

  // The registry comes back: a proxy without a cut on the same port.
  proxy.reset();
  auto back = testing::CuttingProxy::start(proxy_port, registry_port, {.patch_number = 0});
  ASSERT_TRUE(back.ok()) << back.error().what();
  r = ctl({"pull", image});
  ASSERT_EQ(r.code, 0) << r.err;
  auto served = blob_bytes_served(registry_->log_path(), layer);
  ASSERT_FALSE(served.empty());
  EXPECT_EQ(static_cast<uint64_t>(served.back()), layer_size - partial) << "only the missing part was sent";
  EXPECT_FALSE(std::filesystem::exists(ingest, ec));
  with_snapshot(built[0].diff_ids[0], [&](const std::string& root) {
    EXPECT_EQ(sha256_digest(*read_file(root + "/noise", 16 << 20)), sha256_digest(noise));
  });
}

// A hostile registry (issue 16): an endless 500 body on a blob, an endless manifest, a blob longer
// than its descriptor says. Each pull fails at once with an error naming the limit it hit, having
// read a bounded amount, and leaves no blob and no ingest file.
class HostileRegistryTest : public PullTest {
 protected:
  void SetUp() override {
    PullTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    built_ = push("test/hostile", {busybox()});
    ASSERT_FALSE(HasFailure());
    layer_ = built_[0].layer_digests[0];
    std::string hex(digest_hex(layer_));
    auto blob = read_file(registry_->storage() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex +
                              "/data",
                          64 << 20);
    ASSERT_TRUE(blob.ok());
    layer_blob_ = std::move(*blob);
  }

  // Pulls test/hostile:1 through a proxy that gives answer; the pull's berthctl result.
  CtlResult pull_with(testing::HostileAnswer answer) {
    std::string host = pull_through_proxy(proxy_, {.patch_number = 0, .answers = {std::move(answer)}});
    return ctl({"pull", host + "/test/hostile:1"});
  }

  std::vector<testing::BuiltImage> built_;
  std::string layer_, layer_blob_;
  std::unique_ptr<testing::CuttingProxy> proxy_;
};

constexpr int64_t kReadBound = 32 << 20;  // far below "for as long as it sends", above buffers and retries

TEST_F(HostileRegistryTest, EndlessErrorBodyOnABlobIsCut) {
  CtlResult r = pull_with({.request = "GET /v2/test/hostile/blobs/" + layer_,
                           .head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                                   "Connection: close\r\n\r\n",
                           .body = std::string(64 << 10, 'e'),
                           .endless = true});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HTTP 500"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error body cut at the 65536 byte limit"), std::string::npos) << r.err;
  EXPECT_GT(proxy_->answered_bytes(), 0) << "the hostile answer was never given";
  EXPECT_LT(proxy_->answered_bytes(), kReadBound);
  expect_nothing_pulled();
}

TEST_F(HostileRegistryTest, EndlessManifestIsCutAtTheManifestLimit) {
  CtlResult r = pull_with({.request = "GET /v2/test/hostile/manifests/",
                           .head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                                   "Connection: close\r\n\r\n",
                           .body = "{\"layers\": [" + std::string(64 << 10, ' '),
                           .endless = true});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("larger than the 4194304 byte limit"), std::string::npos) << r.err;
  EXPECT_GT(proxy_->answered_bytes(), 0) << "the hostile answer was never given";
  EXPECT_LT(proxy_->answered_bytes(), kReadBound);
  expect_nothing_pulled();
}

TEST_F(HostileRegistryTest, BlobLongerThanItsDescriptorIsRefused) {
  std::string longer = layer_blob_ + std::string(1 << 20, 'x');
  CtlResult r = pull_with({.request = "GET /v2/test/hostile/blobs/" + layer_,
                           .head = fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                               "Content-Length: {}\r\nConnection: close\r\n\r\n",
                                               longer.size()),
                           .body = longer});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(fmt::format("larger than the expected {} bytes", layer_blob_.size())), std::string::npos)
      << r.err;
  EXPECT_GT(proxy_->answered_bytes(), 0) << "the hostile answer was never given";
  expect_nothing_pulled();
}

TEST_F(PullTest, ExportImportRoundTrip) {
  auto built = push("test/export", {busybox()});
  ASSERT_EQ(ctl({"pull", ref("test/export")}).code, 0);
  std::string archive = dir_.path() + "/busybox-oci.tar";
  CtlResult r = ctl({"image", "export", archive, ref("test/export")});
  ASSERT_EQ(r.code, 0) << r.err;
  // Another tool reads what we wrote.
  auto inspect = run_command({"skopeo", "inspect", "--raw", "oci-archive:" + archive});
  ASSERT_TRUE(inspect.ok());
  EXPECT_TRUE(inspect->status.success()) << inspect->err;
  EXPECT_EQ(sha256_digest(inspect->out), built[0].manifest_digest);

  ASSERT_EQ(ctl({"rmi", ref("test/export")}).code, 0);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
  r = ctl({"image", "import", archive});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, ref("test/export") + "\n");
  auto images = ctl_json({"images"});
  ASSERT_TRUE(images.ok());
  EXPECT_EQ(*(*json::root(*images).as_array())[0].get("digest")->as_string(), built[0].manifest_digest);
  with_snapshot(built[0].diff_ids[0], expect_busybox_tree);
}

TEST_F(PullTest, ImportsDockerSaveTarball) {
  std::string layer = TarBuilder().file("hello.txt", "from docker save\n").finish();
  std::string diff_id = sha256_digest(layer);
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" + diff_id + R"("]}})";
  std::string manifest = R"([{"Config":"cfg.json","RepoTags":["saved/app:v1"],"Layers":["abc/layer.tar"]}])";
  std::string archive = dir_.path() + "/saved.tar";
  ASSERT_TRUE(write_file_atomic(archive, TarBuilder()
                                             .file("manifest.json", manifest)
                                             .file("cfg.json", config)
                                             .file("abc/layer.tar", layer)
                                             .finish())
                  .ok());
  CtlResult r = ctl({"image", "import", archive});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "docker.io/saved/app:v1\n");
  with_snapshot(diff_id, [](const std::string& root) {
    EXPECT_EQ(*read_file(root + "/hello.txt"), "from docker save\n");
  });
}

TEST_F(PullTest, ImportRejectsEscapingArchives) {
  std::string archive = dir_.path() + "/evil.tar";
  ASSERT_TRUE(write_file_atomic(archive, TarBuilder().file("../../evil-import", "x").finish()).ok());
  CtlResult r = ctl({"image", "import", archive});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("../../evil-import"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(dir_.path() + "/../evil-import"));
  std::string bad_manifest = dir_.path() + "/bad-manifest.tar";
  ASSERT_TRUE(
      write_file_atomic(
          bad_manifest,
          TarBuilder()
              .file("manifest.json", R"([{"Config":"../../../etc/passwd","RepoTags":["x:y"],"Layers":[]}])")
              .finish())
          .ok());
  r = ctl({"image", "import", bad_manifest});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("leaves the archive"), std::string::npos) << r.err;
}

TEST_F(PullTest, EventsStreamFiltered) {
  push("test/events", {busybox()});
  std::string events_out = dir_.path() + "/events.out";
  auto out_fd = open_fd(events_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_TRUE(out_fd.ok());
  SpawnOptions options;
  options.argv = {BERTHCTL_PATH, "--address", berthd_->socket(), "events", "/images/"};
  options.stdout_fd = out_fd->get();
  auto events = ChildProcess::spawn(options);
  ASSERT_TRUE(events.ok());
  // The subscription is live once a probe event shows up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string text;
  for (int i = 0; text.find("/images/create") == std::string::npos; ++i) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no events arrived: " << text;
    ASSERT_EQ(ctl({"pull", ref("test/events")}).code, 0);
    ASSERT_EQ(ctl({"image", "tag", ref("test/events"), ref("test/events", "probe" + std::to_string(i))}).code,
              0);
    text = read_file(events_out).value_or("");
  }
  ASSERT_EQ(ctl({"rmi", ref("test/events")}).code, 0);
  while (text.find("/images/delete") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << text;
    (void)events->wait_for(std::chrono::milliseconds(20));
    text = read_file(events_out).value_or("");
  }
  EXPECT_NE(text.find(ref("test/events")), std::string::npos);
  EXPECT_EQ(text.find("/snapshots/"), std::string::npos) << "filtered to /images/";
}

TEST_F(PullTest, OversizedManifestIsAClearError) {
  push("test/big-manifest", {busybox()});
  auto small = Berthd::start(fmt::format(
      R"({{"max_manifest_bytes": 100, "registries": {{"{}": {{"plain_http": true}}}}}})", registry_->host()));
  ASSERT_TRUE(small.ok()) << small.error().what();
  CtlResult r = (*small)->ctl({"pull", ref("test/big-manifest")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("larger than the 100 byte limit"), std::string::npos) << r.err;
}

TEST_F(PullTest, NativeSnapshotterGivesTheSameTree) {
  std::string base =
      TarBuilder("gzip").file("etc/gone", "x").file("var/lib/old", "o").file("keep", "k").finish();
  std::string top = TarBuilder("gzip")
                        .file("etc/.wh.gone", "")
                        .file("var/lib/.wh..wh..opq", "")
                        .file("var/lib/new", "n")
                        .finish();
  auto built = push("test/native", {PlatformImage{"linux", host_platform().architecture, {base, top}, {}}});
  auto native = Berthd::start(plain_http_config(), "native");
  ASSERT_TRUE(native.ok()) << native.error().what();
  berthd_ = std::move(*native);
  CtlResult r = ctl({"pull", ref("test/native")});
  ASSERT_EQ(r.code, 0) << r.err;
  with_snapshot(chain_ids(built[0].diff_ids)[1], [](const std::string& root) {
    EXPECT_FALSE(path_exists(root + "/etc/gone"));
    EXPECT_TRUE(path_exists(root + "/etc"));
    EXPECT_FALSE(path_exists(root + "/var/lib/old"));
    EXPECT_EQ(*read_file(root + "/var/lib/new"), "n");
    EXPECT_EQ(*read_file(root + "/keep"), "k");
  });
}

TEST_F(PullTest, ConcurrentPullsOfOneImage) {
  auto built = push("test/concurrent", {busybox()});
  std::vector<ChildProcess> pulls;
  auto devnull = open_fd("/dev/null", O_WRONLY);
  ASSERT_TRUE(devnull.ok());
  for (int i = 0; i < 3; ++i) {
    SpawnOptions options;
    options.stdout_fd = options.stderr_fd = devnull->get();
    options.argv = {BERTHCTL_PATH, "--address", berthd_->socket(), "pull", ref("test/concurrent")};
    auto p = ChildProcess::spawn(options);
    ASSERT_TRUE(p.ok());
    pulls.push_back(std::move(*p));
  }
  for (auto& p : pulls) {
    auto status = p.wait();
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->code, 0);
  }
  EXPECT_EQ(count_json({"images"}), 1u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 1u);
  with_snapshot(built[0].diff_ids[0], expect_busybox_tree);
}

TEST_F(PullTest, KilledMidPullRestartsConsistent) {
  std::string noise = random_bytes(24 << 20, 7);
  std::vector<std::string> layers;
  for (int i = 0; i < 3; ++i) layers.push_back(TarBuilder().file(fmt::format("n{}", i), noise).finish());
  auto built = push(
      "test/killed",
      {PlatformImage{"linux",
                     host_platform().architecture,
                     layers,
                     {std::string(kOciLayerTar), std::string(kOciLayerTar), std::string(kOciLayerTar)}}});
  auto devnull = open_fd("/dev/null", O_WRONLY);
  ASSERT_TRUE(devnull.ok());
  SpawnOptions options;
  options.stdout_fd = options.stderr_fd = devnull->get();
  options.argv = {BERTHCTL_PATH, "--address", berthd_->socket(), "pull", ref("test/killed")};
  auto pull = ChildProcess::spawn(options);
  ASSERT_TRUE(pull.ok());
  // Kill the daemon once the pull has visibly started writing.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string ingest_dir = berthd_->root() + "/content/ingest";
  std::string blob_dir = berthd_->root() + "/content/blobs/sha256";
  auto started = [&] {
    auto count = [](const std::string& d) {
      auto out = run_command({"sh", "-c", fmt::format("ls -A '{}' | wc -l", d)});
      return out.ok() ? std::stoi(out->out) : 0;
    };
    return count(ingest_dir) > 0 || count(blob_dir) > 2;
  };
  while (!started()) ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the pull never started";
  ASSERT_TRUE(berthd_->kill_hard().ok());
  auto status = pull->wait();
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(berthd_->restart().ok());
  // Nothing half-done survives the restart.
  EXPECT_EQ(ctl({"snapshot", "ls"}).out.find("extract-"), std::string::npos);
  // Consistent: whatever is listed can be read back; a second pull completes the image.
  CtlResult r = ctl({"pull", ref("test/killed")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_json({"images"}), 1u);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 3u) << ctl({"snapshot", "ls"}).out;
  with_snapshot(chain_ids(built[0].diff_ids)[2], [&](const std::string& root) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(sha256_digest(*read_file(fmt::format("{}/n{}", root, i), 32 << 20)), sha256_digest(noise));
    }
  });
}

TEST_F(PullTest, SnapshotVerbsBuildOnImageLayers) {
  auto built = push("test/snapverbs", {busybox()});
  ASSERT_EQ(ctl({"pull", ref("test/snapverbs")}).code, 0);
  const std::string& chain = built[0].diff_ids[0];
  CtlResult r = ctl({"snapshot", "prepare", "work", chain});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("upperdir="), std::string::npos) << r.out;
  with_snapshot("work", [](const std::string& root) {
    EXPECT_TRUE(path_exists(root + "/bin/busybox"));
    ASSERT_TRUE(write_file_atomic(root + "/added", "by test").ok());
  });
  ASSERT_EQ(ctl({"snapshot", "commit", "mine", "work"}).code, 0);
  ASSERT_EQ(ctl({"snapshot", "view", "look", "mine"}).code, 0);
  with_snapshot("look", [](const std::string& root) {
    EXPECT_EQ(*read_file(root + "/added"), "by test");
    expect_busybox_tree(root);
  });
  r = ctl({"snapshot", "rm", chain});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("dependent snapshot"), std::string::npos) << r.err;
  r = ctl({"snapshot", "tree"});
  EXPECT_NE(r.out.find("\\_ mine"), std::string::npos) << r.out;
  ASSERT_EQ(ctl({"snapshot", "rm", "look"}).code, 0);
  ASSERT_EQ(ctl({"snapshot", "rm", "mine"}).code, 0);
  ASSERT_EQ(ctl({"rmi", ref("test/snapverbs")}).code, 0);
  EXPECT_EQ(count_json({"snapshot", "ls"}), 0u);
}

}  // namespace
}  // namespace berth::manager
