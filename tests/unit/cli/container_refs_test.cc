#include "container_refs.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

const std::string kGenerated = "3f2a9c0d1e4b5a6978877665544332211ffeeddccbbaa9988776655443322110";

TEST(ContainerRefs, ANameIsNeverMatchedByAPrefix) {
  auto r = resolve_container_ref("web", {"web2"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(std::string(r.error().what()).find("No such container: web"), std::string::npos);
}

TEST(ContainerRefs, ExactNameThenExactIdThenUniqueGeneratedIdPrefix) {
  std::vector<std::string> ids = {"web", "web2", kGenerated};
  EXPECT_EQ(*resolve_container_ref("web", ids), "web");
  EXPECT_EQ(*resolve_container_ref("web2", ids), "web2");
  EXPECT_EQ(*resolve_container_ref(kGenerated, ids), kGenerated);
  EXPECT_EQ(*resolve_container_ref("3f2a", ids), kGenerated);
}

TEST(ContainerRefs, AnExactNameWinsOverAnIdPrefix) {
  // docker: a container named "3f2a" is found by that name although a generated id starts with it.
  EXPECT_EQ(*resolve_container_ref("3f2a", {kGenerated, "3f2a"}), "3f2a");
}

// After docker rename: the new name names the container; its id still does; a name wins over an id.
TEST(ContainerRefs, ARenamedContainerIsFoundByItsNameAndItsId) {
  std::vector<ContainerRef> containers = {{"old", "new"}, {kGenerated, "web"}, {"web", "other"}, {"x", ""}};
  EXPECT_EQ(*resolve_container_ref("new", containers), "old");
  EXPECT_EQ(*resolve_container_ref("old", containers), "old");
  EXPECT_EQ(*resolve_container_ref("web", containers), kGenerated);
  EXPECT_EQ(*resolve_container_ref("other", containers), "web");
  EXPECT_EQ(*resolve_container_ref("3f2a", containers), kGenerated);
  EXPECT_EQ(*resolve_container_ref("x", containers), "x");
  EXPECT_FALSE(resolve_container_ref("", containers).ok());  // no name is not the name ""
  EXPECT_FALSE(resolve_container_ref("ne", containers).ok());
}

TEST(ContainerRefs, AmbiguousPrefixIsRefused) {
  std::string other = kGenerated;
  other[10] = 'f';
  auto r = resolve_container_ref("3f2a", {kGenerated, other});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(resolve_container_ref("", {kGenerated}).ok());
}

TEST(ContainerRefs, GeneratedIdsAreSixtyFourLowercaseHex) {
  EXPECT_TRUE(is_generated_id(kGenerated));
  EXPECT_FALSE(is_generated_id("web"));
  std::string upper = kGenerated;
  upper[0] = 'F';
  EXPECT_FALSE(is_generated_id(upper));
  EXPECT_FALSE(is_generated_id(kGenerated.substr(1)));
}

}  // namespace
}  // namespace berth::cli
