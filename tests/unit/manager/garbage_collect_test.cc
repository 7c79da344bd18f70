// Garbage collection over real stores (native snapshotter: no mounts needed).
#include <gtest/gtest.h>
#include <unistd.h>

#include "images/periodic_gc.h"
#include "store_fixture.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

class GarbageCollectTest : public StoreTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "layer extraction sets owners";
    open_stores("/var/tmp/berth-gc-test-");
  }

  std::string store(const std::string& data) {
    std::string digest = sha256_digest(data);
    EXPECT_TRUE(content_->write_blob(data, digest).ok());
    EXPECT_TRUE(db_->add_content("default", digest).ok());
    return digest;
  }

  // An image of the given layers, stored, recorded and unpacked; returns the manifest digest.
  std::string add_image(const std::string& name, const std::vector<std::string>& layers) {
    std::string layer_json, diff_ids;
    for (const auto& l : layers) {
      std::string d = store(l);
      layer_json += fmt::format(R"({}{{"mediaType":"{}","digest":"{}","size":{}}})",
                                layer_json.empty() ? "" : ",", kOciLayerTar, d, l.size());
      diff_ids += fmt::format(R"({}"{}")", diff_ids.empty() ? "" : ",", d);
    }
    std::string config = store(fmt::format(R"({{"rootfs":{{"type":"layers","diff_ids":[{}]}}}})", diff_ids));
    std::string manifest = fmt::format(
        R"({{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":1}},"layers":[{}]}})",
        kOciManifest, kOciConfig, config, layer_json);
    std::string digest = store(manifest);
    auto resolved = images_->resolve(digest, host_platform());
    EXPECT_TRUE(resolved.ok()) << resolved.error().what();
    EXPECT_TRUE(images_->unpack(*resolved, nullptr).ok());
    EXPECT_TRUE(db_->put_image("default", {name, std::string(kOciManifest), digest, 1, {}}).ok());
    return digest;
  }

};

TEST_F(GarbageCollectTest, KeepsWhatImagesAndLeasesReferenceOnly) {
  std::string base = testing::TarBuilder().file("base", "b").finish();
  std::string top = testing::TarBuilder().file("top", "t").finish();
  add_image("docker.io/library/a:1", {base, top});
  add_image("docker.io/library/b:1", {base});
  std::string stray = store("not referenced by anything");
  std::string leased = store("held by a lease");
  ASSERT_TRUE(db_->create_lease("default", "l1").ok());
  ASSERT_TRUE(db_->add_lease_resource("default", "l1", {"content", leased}).ok());
  ASSERT_EQ(snapshots_->list()->size(), 2u);  // base shared, plus a's top

  auto report = images_->garbage_collect();
  ASSERT_TRUE(report.ok()) << report.error().what();
  EXPECT_EQ(report->blobs_removed, 1);
  EXPECT_FALSE(content_->exists(stray));
  EXPECT_TRUE(content_->exists(leased));
  EXPECT_EQ(report->snapshots_removed, 0);

  ASSERT_TRUE(images_->remove("default", "docker.io/library/a:1").ok());
  EXPECT_EQ(snapshots_->list()->size(), 1u) << "a's top layer goes, the shared base stays";
  EXPECT_TRUE(content_->exists(sha256_digest(base)));
  EXPECT_FALSE(content_->exists(sha256_digest(top)));

  ASSERT_TRUE(db_->delete_lease("default", "l1").ok());
  ASSERT_TRUE(images_->remove("default", "docker.io/library/b:1").ok());
  EXPECT_TRUE(snapshots_->list()->empty());
  EXPECT_TRUE(content_->list()->empty());
  EXPECT_TRUE(db_->list_content("default")->empty());
}

TEST_F(GarbageCollectTest, ActiveSnapshotsAreNeverCollected) {
  std::string layer = testing::TarBuilder().file("f", "x").finish();
  add_image("docker.io/library/c:1", {layer});
  ASSERT_TRUE(snapshots_->prepare("container-rootfs", sha256_digest(layer)).ok());
  ASSERT_TRUE(images_->remove("default", "docker.io/library/c:1").ok());
  auto list = snapshots_->list();
  ASSERT_EQ(list->size(), 2u) << "the layer stays while the active snapshot builds on it";
  ASSERT_TRUE(snapshots_->remove("container-rootfs").ok());
  ASSERT_TRUE(images_->garbage_collect().ok());
  EXPECT_TRUE(snapshots_->list()->empty());
}

// What a crash left unreferenced goes without an rmi: the periodic collector runs on its own,
// keeps what a lease holds, and says so on the event bus (waited on here, not slept for).
TEST_F(GarbageCollectTest, PeriodicCollectionRespectsLeasesAndPublishesEachRun) {
  std::string base = testing::TarBuilder().file("base", "b").finish();
  add_image("docker.io/library/p:1", {base});
  std::string stray = store("left by a crash");
  std::string leased = store("a pull in flight");
  ASSERT_TRUE(db_->create_lease("default", "pull-live").ok());
  ASSERT_TRUE(db_->add_lease_resource("default", "pull-live", {"content", leased}).ok());
  auto gc_events = events_.subscribe({"/gc/"});
  {
    PeriodicGc periodic(*images_, std::chrono::milliseconds(20));
    auto first = gc_events->next(std::chrono::seconds(30));
    ASSERT_TRUE(first.has_value()) << "no /gc/collected event";
    EXPECT_EQ(first->topic, "/gc/collected");
    EXPECT_EQ(first->subject, "removed 1 blobs, 0 snapshots");
    auto second = gc_events->next(std::chrono::seconds(30));
    ASSERT_TRUE(second.has_value()) << "collection ran once only";
    EXPECT_EQ(second->subject, "removed 0 blobs, 0 snapshots");
  }
  EXPECT_FALSE(content_->exists(stray));
  EXPECT_TRUE(content_->exists(leased));
  EXPECT_TRUE(content_->exists(sha256_digest(base)));
  EXPECT_EQ(snapshots_->list()->size(), 1u);
}

TEST_F(GarbageCollectTest, ZeroIntervalNeverCollects) {
  std::string stray = store("nobody's");
  auto gc_events = events_.subscribe({"/gc/"});
  { PeriodicGc off(*images_, std::chrono::milliseconds(0)); }
  EXPECT_TRUE(content_->exists(stray));
  EXPECT_FALSE(gc_events->next(std::chrono::milliseconds(0)).has_value());
}

TEST_F(GarbageCollectTest, RecoverDropsWhatDeadPullsLeftBehind) {
  std::string orphan = store("downloaded by a pull that died");
  ASSERT_TRUE(db_->create_lease("default", "pull-dead").ok());
  ASSERT_TRUE(db_->add_lease_resource("default", "pull-dead", {"content", orphan}).ok());
  ASSERT_TRUE(db_->create_lease("default", "user-lease").ok());
  ASSERT_TRUE(snapshots_->prepare("extract-123-sha256:abc", "").ok());
  ASSERT_TRUE(snapshots_->prepare("container-rootfs", "").ok());
  ASSERT_TRUE(images_->recover().ok());
  EXPECT_FALSE(content_->exists(orphan));
  EXPECT_EQ(*db_->list_leases("default"), std::vector<std::string>{"user-lease"});
  auto left = snapshots_->list();
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].key, "container-rootfs");
}

}  // namespace
}  // namespace berth::manager
