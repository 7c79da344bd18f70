// docker system df through a real berthd: counts, sizes and reclaimable bytes follow run, volumes,
// stop, rm, rmi and a pull, as docker's do.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "berth/common/json.h"
#include "container_fixture.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

struct Row {
  int64_t total = -1, active = -1, size = -1, reclaimable = -1;
};

class SystemDfTest : public testing::ContainerFixture {
 protected:
  std::map<std::string, Row> df() {
    CtlResult r = ctl({"system", "df", "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, Row> rows;
    auto tree = json::parse(r.out, "system df");
    if (!tree) {
      ADD_FAILURE() << tree.error().what() << ": " << r.out;
      return rows;
    }
    auto list = json::root(*tree).as_array();
    if (!list) {
      ADD_FAILURE() << r.out;
      return rows;
    }
    for (const auto& v : *list) {
      Row row{v.require("total")->as_int64().value(), v.require("active")->as_int64().value(),
              v.require("size")->as_int64().value(), v.require("reclaimable")->as_int64().value()};
      rows[v.require("type")->as_string().value()] = row;
    }
    return rows;
  }
};

TEST_F(SystemDfTest, FollowsRunVolumesStopRmAndImages) {
  auto before = df();
  ASSERT_EQ(before.size(), 4u);
  EXPECT_EQ(before["Images"].total, 1);
  EXPECT_EQ(before["Images"].active, 0);
  EXPECT_GT(before["Images"].size, 0);
  EXPECT_EQ(before["Images"].reclaimable, before["Images"].size);  // no container uses it
  EXPECT_EQ(before["Containers"].total, 0);
  EXPECT_EQ(before["Local Volumes"].total, 0);
  EXPECT_EQ(before["Build Cache"].total, 0);

  ASSERT_EQ(ctl({"run", "-d", "--name", "big", "-v", "vol:/vol", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult w = ctl({"exec", "big", "/bin/busybox", "sh", "-c",
                     "dd if=/dev/zero of=/blob bs=1024 count=2048 2>/dev/null && "
                     "dd if=/dev/zero of=/vol/data bs=1024 count=512 2>/dev/null"});
  ASSERT_EQ(w.code, 0) << w.err;
  auto running = df();
  EXPECT_EQ(running["Images"].active, 1);
  EXPECT_EQ(running["Images"].reclaimable, 0);  // its only image is in use
  EXPECT_EQ(running["Containers"].total, 1);
  EXPECT_EQ(running["Containers"].active, 1);
  EXPECT_GE(running["Containers"].size, 2048 * 1024);  // the writable layer holds /blob
  EXPECT_LT(running["Containers"].size, 2048 * 1024 + 512 * 1024);  // and not the volume's data
  EXPECT_EQ(running["Containers"].reclaimable, 0);
  EXPECT_EQ(running["Local Volumes"].total, 1);
  EXPECT_EQ(running["Local Volumes"].active, 1);
  EXPECT_GE(running["Local Volumes"].size, 512 * 1024);
  EXPECT_EQ(running["Local Volumes"].reclaimable, 0);

  ASSERT_EQ(ctl({"stop", "-t", "0", "big"}).code, 0);
  auto stopped = df();
  EXPECT_EQ(stopped["Containers"].active, 0);
  EXPECT_EQ(stopped["Containers"].reclaimable, stopped["Containers"].size);

  CtlResult table = ctl({"system", "df"});  // docker's table: its columns, units and percentages
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.substr(0, table.out.find('\n')).find("TYPE"), 0u) << table.out;
  for (const char* text : {"TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE", "Images", "Containers", "Local Volumes",
                           "Build Cache", "MB", "(100%)"})
    EXPECT_NE(table.out.find(text), std::string::npos) << text << " in\n" << table.out;
  CtlResult verbose = ctl({"system", "df", "-v"});
  ASSERT_EQ(verbose.code, 0) << verbose.err;
  for (const char* text : {"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "big", "vol"})
    EXPECT_NE(verbose.out.find(text), std::string::npos) << text << " in\n" << verbose.out;

  ASSERT_EQ(ctl({"rm", "big"}).code, 0);
  ASSERT_EQ(ctl({"volume", "rm", "vol"}).code, 0);
  auto removed = df();
  EXPECT_EQ(removed["Containers"].total, 0);
  EXPECT_EQ(removed["Containers"].size, 0);
  EXPECT_EQ(removed["Local Volumes"].total, 0);
  EXPECT_EQ(removed["Images"].active, 0);

  ASSERT_EQ(ctl({"rmi", image_}).code, 0);
  auto no_images = df();
  EXPECT_EQ(no_images["Images"].total, 0);
  EXPECT_EQ(no_images["Images"].size, 0);  // its blobs went with it

  // A pull from a plain-HTTP registry on 127.0.0.1 brings an image (and its blobs) back.
  auto registry = testing::registry_with_busybox(dir_.path() + "/pushed", {"test/busybox:1"});
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  CtlResult pulled = ctl({"pull", (*registry)->host() + "/test/busybox:1"});
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  auto after_pull = df();
  EXPECT_EQ(after_pull["Images"].total, 1);
  EXPECT_GT(after_pull["Images"].size, 0);
  EXPECT_EQ(after_pull["Images"].reclaimable, after_pull["Images"].size);

  // A build's RUN step is cached (in the namespace build keeps for it): the Build Cache row. Last: a
  // blob the cache shares stays in the namespace's store after its image is gone, as berthd collects it.
  std::string context = dir_.path() + "/ctx";
  std::filesystem::create_directories(context);
  std::ofstream(context + "/Dockerfile") << "FROM " << (*registry)->host()
                                         << "/test/busybox:1\nRUN dd if=/dev/zero of=/cached bs=1024 count=256\n";
  CtlResult build = ctl({"build", "-q", "-t", "cached:1", context});
  ASSERT_EQ(build.code, 0) << build.err;
  auto cached = df();
  EXPECT_GE(cached["Build Cache"].total, 1);
  EXPECT_EQ(cached["Build Cache"].active, 0);
  EXPECT_EQ(cached["Build Cache"].reclaimable, cached["Build Cache"].size);
  EXPECT_EQ(cached["Images"].total, 2);
  ASSERT_EQ(ctl({"rmi", "cached:1"}).code, 0);
  auto uncached = df();
  EXPECT_EQ(uncached["Images"].total, 1);
  EXPECT_GT(uncached["Build Cache"].size, 0);  // the RUN step's layer: now only the cache holds it

  CtlResult bad = ctl({"system", "df", "extra"});
  EXPECT_EQ(bad.code, 2);
  expect_nothing_left();
}

// docker 20.10's image sizes: unpacked layers; a layer two images have is SHARED SIZE in both and
// counted once in the Images row; -v lists each image's SHARED / UNIQUE SIZE and CONTAINERS, each
// container's COMMAND and LOCAL VOLUMES.
TEST_F(SystemDfTest, TwoImagesSharingABaseLayer) {
  // layered:1 = the busybox layer + a commit's layer holding 1 MiB.
  ASSERT_EQ(ctl({"run", "--name", "maker", image_, "/bin/busybox", "dd", "if=/dev/zero", "of=/mib", "bs=1024",
                 "count=1024"}).code, 0);
  CtlResult committed = ctl({"commit", "maker", "layered:1"});
  ASSERT_EQ(committed.code, 0) << committed.err;
  ASSERT_EQ(ctl({"rm", "maker"}).code, 0);
  ASSERT_EQ(ctl({"run", "-d", "--name", "user", "-v", "dfvol:/vol", "layered:1", "/bin/busybox", "sleep", "1000"}).code, 0);

  CtlResult r = ctl({"--format", "json", "system", "df", "-v"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = json::parse(r.out, "system df -v");
  ASSERT_TRUE(tree.ok()) << r.out;
  auto root = json::root(*tree);
  std::map<std::string, std::map<std::string, int64_t>> images;  // name → field → value
  auto image_list = root.require("images")->as_array();
  ASSERT_TRUE(image_list.ok()) << r.out;
  for (const auto& v : *image_list) {
    auto& fields = images[v.require("name")->as_string().value()];
    for (const char* key : {"size", "shared_size", "unique_size", "containers"}) fields[key] = v.require(key)->as_int64().value();
  }
  ASSERT_EQ(images.size(), 2u) << r.out;
  auto base = images.begin()->first == "docker.io/library/layered:1" ? images.rbegin()->second : images.begin()->second;
  auto layered = images.at("docker.io/library/layered:1");
  int64_t busybox_bytes = static_cast<int64_t>(std::filesystem::file_size("/bin/busybox"));
  // The base layer unpacked: busybox itself and a few directories, not the compressed blob.
  EXPECT_GE(base["size"], busybox_bytes) << r.out;
  EXPECT_LT(base["size"], busybox_bytes + 256 * 1024) << r.out;
  EXPECT_EQ(base["shared_size"], base["size"]) << "its one layer is layered:1's base";
  EXPECT_EQ(base["unique_size"], 0);
  EXPECT_EQ(base["containers"], 0);
  EXPECT_EQ(layered["shared_size"], base["size"]);
  EXPECT_GE(layered["unique_size"], 1024 * 1024) << "the commit's layer holds /mib";
  EXPECT_LT(layered["unique_size"], 1024 * 1024 + 64 * 1024);
  EXPECT_EQ(layered["size"], layered["shared_size"] + layered["unique_size"]);
  EXPECT_EQ(layered["containers"], 1);
  auto containers = root.require("containers")->as_array();
  ASSERT_TRUE(containers.ok() && containers->size() == 1u) << r.out;
  EXPECT_EQ((*containers)[0].require("local_volumes")->as_int64().value(), 1);
  EXPECT_EQ((*containers)[0].require("command")->as_string().value(), "/bin/busybox sleep 1000");

  auto rows = df();  // the shared layer once; reclaimable: all but the unique bytes of images in use
  EXPECT_EQ(rows["Images"].total, 2);
  EXPECT_EQ(rows["Images"].active, 1);
  EXPECT_EQ(rows["Images"].size, base["size"] + layered["unique_size"]);
  EXPECT_EQ(rows["Images"].reclaimable, rows["Images"].size - layered["unique_size"]);

  CtlResult table = ctl({"system", "df", "-v"});
  ASSERT_EQ(table.code, 0) << table.err;
  for (const char* header : {"SHARED SIZE", "UNIQUE SIZE", "CONTAINERS", "COMMAND", "LOCAL VOLUMES", "VOLUME NAME"})
    EXPECT_NE(table.out.find(header), std::string::npos) << header << " in\n" << table.out;
  EXPECT_NE(table.out.find("\"/bin/busybox slee...\""), std::string::npos) << table.out;  // docker cuts at 20

  ASSERT_EQ(ctl({"rm", "-f", "user"}).code, 0);
  ASSERT_EQ(ctl({"volume", "rm", "dfvol"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "layered:1"}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
