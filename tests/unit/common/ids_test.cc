#include "berth/common/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace berth {
namespace {

TEST(Ids, ContainerNamesFollowDockersRule) {
  for (const char* good : {"ab", "a1", "web_1.v2-x", "0abc"}) EXPECT_TRUE(is_valid_id(IdKind::kContainerName, good)) << good;
  // docker refuses one-character names, a leading '_', '.' or '-', and '+' (which runc allows).
  for (const char* bad : {"", "a", "_ab", ".ab", "-ab", "a+b", "a/b", "a b", "..", "ab\n"})
    EXPECT_FALSE(is_valid_id(IdKind::kContainerName, bad)) << bad;
  EXPECT_TRUE(is_valid_id(IdKind::kContainerName, std::string(76, 'a')));
  EXPECT_FALSE(is_valid_id(IdKind::kContainerName, std::string(77, 'a')));
}

TEST(Ids, RuntimeIdsFollowRuncsRule) {
  for (const char* good : {"a", "A-b_c.d+e", "_x", ".x", "0123456789abcdef"})
    EXPECT_TRUE(is_valid_id(IdKind::kRuntimeId, good)) << good;
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b", "x\n", "a:b"})
    EXPECT_FALSE(is_valid_id(IdKind::kRuntimeId, bad)) << bad;
  EXPECT_TRUE(is_valid_id(IdKind::kRuntimeId, std::string(255, 'a')));
  EXPECT_FALSE(is_valid_id(IdKind::kRuntimeId, std::string(256, 'a'))) << "longer than a directory name";
}

TEST(Ids, NamespacesAreLowercase) {
  for (const char* good : {"default", "k8s.io", "a", "x_y-z"}) EXPECT_TRUE(is_valid_id(IdKind::kNamespace, good)) << good;
  for (const char* bad : {"", "Default", "a/b", "a b", ".", ".."}) EXPECT_FALSE(is_valid_id(IdKind::kNamespace, bad)) << bad;
  EXPECT_TRUE(is_valid_id(IdKind::kNamespace, std::string(76, 'n')));
  EXPECT_FALSE(is_valid_id(IdKind::kNamespace, std::string(77, 'n')));
}

TEST(Ids, EachKindHasOneLimit) {
  EXPECT_EQ(id_max_length(IdKind::kContainerName), 76u);
  EXPECT_EQ(id_max_length(IdKind::kRuntimeId), 255u);
  EXPECT_EQ(id_max_length(IdKind::kExecId), 128u);
  EXPECT_EQ(id_max_length(IdKind::kNamespace), 76u);
  EXPECT_EQ(id_max_length(IdKind::kVolumeName), 128u);
  EXPECT_EQ(id_max_length(IdKind::kNetworkName), 64u);
  for (IdKind kind : {IdKind::kContainerName, IdKind::kRuntimeId, IdKind::kExecId, IdKind::kNamespace,
                      IdKind::kVolumeName, IdKind::kNetworkName}) {
    EXPECT_TRUE(is_valid_id(kind, std::string(id_max_length(kind), 'a'))) << id_kind_name(kind);
    EXPECT_FALSE(is_valid_id(kind, std::string(id_max_length(kind) + 1, 'a'))) << id_kind_name(kind);
  }
  EXPECT_TRUE(is_valid_id(IdKind::kExecId, "a")) << "exec ids may be one character";
  EXPECT_FALSE(is_valid_id(IdKind::kVolumeName, "a")) << "docker wants two";
}

TEST(Ids, TheMessageNamesKindIdAndRuleAndStaysPrintableAndShort) {
  auto st = validate_id(IdKind::kContainerName, "bad/name");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.error().what(),
            "invalid container name \"bad/name\" (8 bytes): use [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 76 characters");
  auto ns = validate_id(IdKind::kNamespace, std::string("\x01\x1bn\x7f\xff", 5));
  ASSERT_FALSE(ns.ok());
  EXPECT_NE(ns.error().what().find("invalid namespace \"??n??\" (5 bytes)"), std::string::npos) << ns.error().what();
  auto long_id = validate_id(IdKind::kRuntimeId, std::string(100000, 'x'));
  ASSERT_FALSE(long_id.ok());
  EXPECT_NE(long_id.error().what().find(std::string(80, 'x') + "...\" (100000 bytes)"), std::string::npos);
  EXPECT_LT(long_id.error().what().size(), 300u);
  EXPECT_TRUE(validate_id(IdKind::kContainerName, "web").ok());
}

TEST(Ids, RandomHexIsHexOfTheSizeAskedAndDiffers) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string id = random_hex(16);
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(is_valid_id(IdKind::kContainerName, random_hex(32)));
  EXPECT_EQ(random_hex(0), "");
}

}  // namespace
}  // namespace berth
