// The compiled-seccomp cache: a hit gives the very program a compile gives, anything that does not
// match exactly (other profile, damaged file, notify profile) compiles again.
#include <linux/seccomp.h>

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "process/seccomp_cache.h"
#include "process/seccomp_filter.h"

namespace berth::runtime {
namespace {

constexpr const char* kProfile = R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
  "flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]})";

struct Profile {
  explicit Profile(const std::string& text) : tree(std::move(json::parse(text, "test")).value()) {}
  std::optional<json::Value> value() const { return json::root(tree, "linux.seccomp"); }
  json::Tree tree;
};

bool same(const SeccompProgram& a, const SeccompProgram& b) {
  return a.flags == b.flags && a.filter.size() == b.filter.size() &&
         std::memcmp(a.filter.data(), b.filter.data(), a.filter.size() * sizeof(sock_filter)) == 0;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') out.push_back(join_path(dir, e->d_name));
  }
  ::closedir(d);
  return out;
}

class SeccompCacheTest : public ::testing::Test {
 protected:
  TempDir tmp = std::move(TempDir::create("/tmp/berth-seccomp-cache-")).value();
  std::string dir = seccomp_cache_dir(tmp.path());
};

TEST_F(SeccompCacheTest, SecondCompileComesFromTheCacheAndMatches) {
  Profile p(kProfile);
  auto plain = compile_seccomp(p.value());
  ASSERT_TRUE(plain.ok()) << plain.error().what();
  auto first = compile_seccomp(p.value(), dir);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(entries(dir).size(), 1u);
  auto cached = SeccompCache(dir).find(seccomp_cache_key(*p.value()));
  ASSERT_TRUE(cached.has_value());
  EXPECT_TRUE(same(*cached, **plain));
  auto second = compile_seccomp(p.value(), dir);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(same(**second, **plain));
  EXPECT_EQ((*second)->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
}

TEST_F(SeccompCacheTest, KeyIgnoresFormattingButNotContent) {
  Profile a(kProfile);
  Profile spaced(R"({ "defaultAction" : "SCMP_ACT_ERRNO", "defaultErrnoRet" : 1, "flags" : ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls" : [ { "names" : ["read", "write", "exit_group"], "action" : "SCMP_ACT_ALLOW" } ] })");
  Profile other(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"flags":["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(seccomp_cache_key(*a.value()), seccomp_cache_key(*spaced.value()));
  EXPECT_NE(seccomp_cache_key(*a.value()), seccomp_cache_key(*other.value()));
  ASSERT_TRUE(compile_seccomp(a.value(), dir).ok());
  EXPECT_FALSE(SeccompCache(dir).find(seccomp_cache_key(*other.value())).has_value());
}

TEST_F(SeccompCacheTest, DamagedEntryIsAMissAndIsRewritten) {
  Profile p(kProfile);
  auto plain = compile_seccomp(p.value());
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(compile_seccomp(p.value(), dir).ok());
  auto files = entries(dir);
  ASSERT_EQ(files.size(), 1u);
  auto text = read_file(files[0]);
  ASSERT_TRUE(text.ok());
  for (size_t cut : {text->size() - 1, text->size() / 2, size_t{3}}) {
    ASSERT_TRUE(write_file_atomic(files[0], text->substr(0, cut)).ok());
    EXPECT_FALSE(SeccompCache(dir).find(seccomp_cache_key(*p.value())).has_value()) << cut;
    auto again = compile_seccomp(p.value(), dir);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(same(**again, **plain));
    EXPECT_EQ(read_file(files[0]).value(), *text);
  }
}

TEST_F(SeccompCacheTest, NotifyProfilesAndErrorsAreNotCached) {
  Profile notify(R"({"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock",
    "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]})");
  auto prog = compile_seccomp(notify.value(), dir);
  ASSERT_TRUE(prog.ok()) << prog.error().what();
  EXPECT_TRUE((*prog)->notify);
  Profile bad(R"({"defaultAction":"SCMP_ACT_NOPE"})");
  EXPECT_FALSE(compile_seccomp(bad.value(), dir).ok());
  EXPECT_TRUE(entries(dir).empty());
}

TEST_F(SeccompCacheTest, KeepsAtMostMaxEntries) {
  SeccompProgram program;
  program.filter.push_back({0x06, 0, 0, 0x7fff0000});  // ret ALLOW
  for (size_t i = 0; i < SeccompCache::kMaxEntries + 5; ++i) SeccompCache(dir).store("key " + std::to_string(i), program);
  EXPECT_EQ(entries(dir).size(), SeccompCache::kMaxEntries);
  auto last = SeccompCache(dir).find("key " + std::to_string(SeccompCache::kMaxEntries + 4));
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(same(*last, program));
}

}  // namespace
}  // namespace berth::runtime
