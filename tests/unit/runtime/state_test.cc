#include <signal.h>

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/runtime/container.h"
#include "berth/runtime/state.h"

namespace berth::runtime {
namespace {

TEST(StateStore, SaveLoadRoundTripAndListing) {
  auto dir = TempDir::create();
  StateStore store(dir->path() + "/root");
  ContainerState s;
  s.id = "abc";
  s.pid = 4242;
  s.start_time = 99;
  s.bundle = "/b";
  s.rootfs = "/b/rootfs";
  s.created = rfc3339_now();
  s.oci_version = "1.1.0";
  s.annotations = {{"k", "v"}};
  ASSERT_TRUE(store.create_dir("abc").ok());
  EXPECT_EQ(store.create_dir("abc").error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(store.save(s).ok());
  auto loaded = store.load("abc");
  ASSERT_TRUE(loaded.ok()) << loaded.error().what();
  EXPECT_EQ(loaded->pid, 4242);
  EXPECT_EQ(loaded->annotations.at("k"), "v");
  EXPECT_EQ(*store.list_ids(), std::vector<std::string>{"abc"});
  EXPECT_EQ(store.load("nope").error().code(), ErrorCode::kNotFound);
}

TEST(StateStore, IdsAreValidated) {
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "x\n"}) {
    EXPECT_FALSE(StateStore::validate_id(bad).ok()) << bad;
  }
  for (const char* good : {"a", "A-b_c.d+e", "0123456789abcdef"}) {
    EXPECT_TRUE(StateStore::validate_id(good).ok()) << good;
  }
}

TEST(State, DeadInitIsStoppedWithPidZero) {
  auto dir = TempDir::create();
  StateStore store(dir->path());
  ContainerState s;
  s.id = "gone";
  s.pid = ::getpid();
  s.start_time = process_start_time(::getpid()) + 1;  // a reused pid: start time differs
  EXPECT_FALSE(init_alive(s));
  EXPECT_EQ(compute_status(store, s), ContainerStatus::kStopped);
  std::string json = state_json(s, ContainerStatus::kStopped, false);
  EXPECT_NE(json.find("\"pid\":0"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\":\"stopped\""), std::string::npos) << json;
  s.start_time = process_start_time(::getpid());
  EXPECT_TRUE(init_alive(s));
}

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(*parse_signal("9"), SIGKILL);
  EXPECT_EQ(*parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(*parse_signal("sigterm"), SIGTERM);
  EXPECT_EQ(*parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_FALSE(parse_signal("SIGNOPE").ok());
  EXPECT_EQ(*parse_signal("0"), 0);  // as runc: a liveness probe
  EXPECT_FALSE(parse_signal("999").ok());
}

TEST(List, TableIsAlignedAndJsonIsAnArray) {
  ContainerState s;
  s.id = "c1";
  s.pid = 10;
  s.bundle = "/b";
  std::vector<ListEntry> entries = {{s, ContainerStatus::kRunning}};
  std::string table = list_table(entries);
  EXPECT_EQ(table.substr(0, table.find('\n')).find("PID"), table.substr(table.find('\n') + 1).find("10"));
  EXPECT_EQ(list_json({}), "[]");
  EXPECT_NE(list_json(entries).find("\"status\":\"running\""), std::string::npos);
}

}  // namespace
}  // namespace berth::runtime
