#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/manager/daemon.h"
#include "socket_group.h"

namespace berth::manager {
namespace {

Result<DaemonConfig> load(const std::string& text) {
  auto dir = TempDir::create("/tmp/berthd-config-test-");
  if (!dir) return dir.error();
  std::string path = dir->path() + "/berthd.json";
  BERTH_TRY(write_file_atomic(path, text));
  DaemonConfig config;
  BERTH_TRY(load_config_file(path, config));
  return config;
}

TEST(DaemonConfigTest, ReadsEverySetting) {
  auto c = load(R"({"address": "/x.sock", "root": "/r", "state": "/s", "snapshotter": "native",
                    "auth_config": "/a.json", "max_manifest_bytes": 1000, "max_config_bytes": 2000,
                    "registries": {"127.0.0.1:5000": {"plain_http": true},
                                   "r.example": {"skip_verify": true, "ca_file": "/ca.pem"}}})");
  ASSERT_TRUE(c.ok()) << c.error().what();
  EXPECT_EQ(c->address, "/x.sock");
  EXPECT_EQ(c->root, "/r");
  EXPECT_EQ(c->state, "/s");
  EXPECT_EQ(c->snapshotter, "native");
  EXPECT_EQ(c->registry.auth_config, "/a.json");
  EXPECT_EQ(c->registry.max_manifest_size, 1000u);
  EXPECT_EQ(c->registry.max_config_size, 2000u);
  EXPECT_TRUE(c->registry.hosts.at("127.0.0.1:5000").plain_http);
  EXPECT_TRUE(c->registry.hosts.at("r.example").skip_verify);
  EXPECT_EQ(c->registry.hosts.at("r.example").ca_file, "/ca.pem");
  auto defaults = load("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->address, "/run/berth/berthd.sock");
  EXPECT_EQ(defaults->root, "/var/lib/berth");
}

// The CRI socket: unset is "<state>/cri.sock" (decided at open), "" turns the CRI off.
TEST(DaemonConfigTest, CriSocketUnsetEmptyOrGiven) {
  auto unset = load("{}");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->cri_socket.has_value());
  auto off = load(R"({"cri_socket": ""})");
  ASSERT_TRUE(off.ok()) << off.error().what();
  ASSERT_TRUE(off->cri_socket.has_value());
  EXPECT_EQ(*off->cri_socket, "");
  auto given = load(R"({"cri_socket": "/run/k/cri.sock", "pause": "/opt/berth-pause"})");
  ASSERT_TRUE(given.ok()) << given.error().what();
  EXPECT_EQ(given->cri_socket.value_or(""), "/run/k/cri.sock");
  EXPECT_EQ(given->pause, "/opt/berth-pause");
  EXPECT_FALSE(load(R"({"cri_socket": 5})").ok());
}

TEST(DaemonConfigTest, GcIntervalDefaultsToAnHourAndZeroTurnsItOff) {
  auto defaults = load("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->gc_interval, std::chrono::seconds(3600));
  auto off = load(R"({"gc_interval_seconds": 0})");
  ASSERT_TRUE(off.ok()) << off.error().what();
  EXPECT_EQ(off->gc_interval, std::chrono::seconds(0));
  auto often = load(R"({"gc_interval_seconds": 60})");
  ASSERT_TRUE(often.ok()) << often.error().what();
  EXPECT_EQ(often->gc_interval, std::chrono::seconds(60));
  auto negative = load(R"({"gc_interval_seconds": -5})");
  EXPECT_FALSE(negative.ok());
  auto huge = load(R"({"gc_interval_seconds": 99999999999})");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().what().find("gc_interval_seconds"), std::string::npos) << huge.error().what();
}

TEST(DaemonConfigTest, RejectsTyposAndWrongTypes) {
  auto typo = load(R"({"adress": "/x"})");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().what().find("unknown key \"adress\""), std::string::npos) << typo.error().what();
  auto nested = load(R"({"registries": {"h": {"plain-http": true}}})");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().what().find("registries.h"), std::string::npos) << nested.error().what();
  auto type = load(R"({"registries": {"h": {"plain_http": "yes"}}})");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().what().find("plain_http"), std::string::npos) << type.error().what();
  EXPECT_FALSE(load("not json").ok());
}

TEST(DaemonConfigTest, SocketGroupDefaultsToBerthWhenItExists) {
  auto unset = load("{}");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->socket_group.has_value());
  auto off = load(R"({"socket_group": ""})");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->socket_group, std::optional<std::string>(""));
  GroupLookup with_berth = [](const std::string& name) -> std::optional<gid_t> {
    return name == "berth" ? std::optional<gid_t>(990) : std::nullopt;
  };
  GroupLookup none = [](const std::string&) -> std::optional<gid_t> { return std::nullopt; };
  auto found = resolve_socket_group(std::nullopt, with_berth);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "berth");
  EXPECT_EQ((*found)->gid, 990u);
  auto absent = resolve_socket_group(std::nullopt, none);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value()) << "no berth group: root only, as before";
  auto root_only = resolve_socket_group(std::string(""), with_berth);
  ASSERT_TRUE(root_only.ok());
  EXPECT_FALSE(root_only->has_value());
  auto missing = resolve_socket_group(std::string("dockerish"), with_berth);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().what().find("socket group \"dockerish\": no such group"), std::string::npos)
      << missing.error().what();
}

}  // namespace
}  // namespace berth::manager
