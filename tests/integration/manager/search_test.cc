// search against a real docker-registry on 127.0.0.1: busybox pushed under three names, more repositories
// than one catalog page (so the pages the registry's Link header names are followed), docker's columns, --limit, --filter,
// --format. docker's own search asks the registry's /v1/search, which this registry lacks (checked).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "container_fixture.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class SearchTest : public testing::ContainerFixture {
 protected:
  void SetUp() override {
    ContainerFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto registry =
        testing::registry_with_busybox(dir_.path() + "/pushed", {"team/app:v1", "team/app:v2", "other:1"});
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    reg_ = registry_->host();
    // 120 more repositories, made in the registry's storage (copies of team/app's metadata): the
    // catalog is then longer than one page of 100.
    std::string repos = registry_->storage() + "/docker/registry/v2/repositories";
    std::error_code ec;
    std::filesystem::create_directories(repos + "/bulk", ec);
    for (int i = 0; i < 120; ++i) {
      std::filesystem::copy(repos + "/team/app", fmt::format("{}/bulk/repo{:03}", repos, i),
                            std::filesystem::copy_options::recursive, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
  }

  std::unique_ptr<testing::Registry> registry_;
  std::string reg_;
};

TEST_F(SearchTest, DockersColumnsFromTheCatalog) {
  CtlResult r = ctl({"search", reg_ + "/app"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 2u) << r.out;
  EXPECT_TRUE(out[0].starts_with("NAME")) << out[0];
  for (const char* column : {"DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"})
    EXPECT_NE(out[0].find(column), std::string::npos) << out[0];
  EXPECT_TRUE(out[1].starts_with(reg_ + "/team/app ")) << out[1];
  EXPECT_NE(out[1].find(" 0"), std::string::npos) << out[1];  // STARS: a registry has none

  // team/app comes after the 120 bulk/ repositories: found only by following the Link page.
  r = ctl({"search", "--format", "{{.Name}} {{.StarCount}} {{.IsOfficial}}", reg_ + "/team"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, reg_ + "/team/app 0 false\n");

  r = ctl({"search", "--format", "json", reg_ + "/other"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, R"([{"Name":")" + reg_ +
                       R"(/other","Description":"","StarCount":0,"IsOfficial":false,"IsAutomated":false,"Tags":["1"]}])"
                       "\n");

  // Every repository (an empty term), pulled by the name search printed.
  r = ctl({"search", "--limit", "100", "--format", "{{.Name}}", reg_ + "/"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 100u);
  r = ctl({"pull", reg_ + "/other:1"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(SearchTest, LimitAndFilters) {
  CtlResult r = ctl({"search", "--limit", "5", "--format", "{{.Name}}", reg_ + "/bulk"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{reg_ + "/bulk/repo000", reg_ + "/bulk/repo001",
                                                     reg_ + "/bulk/repo002", reg_ + "/bulk/repo003",
                                                     reg_ + "/bulk/repo004"}));
  r = ctl({"search", "--limit", "0", reg_ + "/bulk"});  // docker's bounds
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("limit 0 is outside the range of [1, 100]"), std::string::npos) << r.err;
  r = ctl({"search", "--limit", "101", reg_ + "/bulk"});
  EXPECT_EQ(r.code, 1);

  // A registry has no official, automated or starred images.
  r = ctl({"search", "--filter", "is-official=true", reg_ + "/app"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1u) << r.out;  // the header only, as docker with no match
  r = ctl({"search", "--filter", "stars=0", "--filter", "is-automated=false", "--format", "{{.Name}}", reg_ + "/app"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, reg_ + "/team/app\n");
  r = ctl({"search", "--filter", "colour=blue", reg_ + "/app"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid filter 'colour'"), std::string::npos) << r.err;

  // Nothing matches: docker's header alone.
  r = ctl({"search", reg_ + "/no-such-thing"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1u);
}

TEST_F(SearchTest, WhatDockerWouldAskAndUnreachableRegistries) {
  // docker search REGISTRY/TERM calls GET /v1/search?q=TERM there; a distribution registry has no
  // such endpoint, so docker fails where berthctl answers from /v2/_catalog.
  auto v1 = run_command({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                         "http://" + reg_ + "/v1/search?q=app&n=25"});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->out, "404");

  CtlResult r = ctl({"search", "busybox"});  // Docker Hub: not searched
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("REGISTRY/TERM"), std::string::npos) << r.err;
  r = ctl({"search", fmt::format("127.0.0.1:{}/x", testing::free_port())});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("registry 127.0.0.1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace berth::manager
