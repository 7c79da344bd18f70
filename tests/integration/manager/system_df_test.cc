// docker system df through a real berthd: counts, sizes and reclaimable bytes follow run, volumes,
// stop, rm, rmi and a pull, as docker's do.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "berth/common/json.h"
#include "container_fixture.h"
#include "images/oci.h"
#include "layout_builder.h"
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
  auto registry = testing::Registry::start();
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  testing::LayoutBuilder builder(dir_.path() + "/pushed");
  auto built = builder.write({{"linux", host_platform().architecture, {testing::busybox_layer()}, {}}}, "1");
  ASSERT_TRUE(built.ok()) << built.error().what();
  auto pushed = builder.push((*registry)->host(), "test/busybox", "1");
  ASSERT_TRUE(pushed.ok()) << pushed.error().what();
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

}  // namespace
}  // namespace berth::manager
