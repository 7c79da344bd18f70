#include "content/layer_stream.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "tar_builder.h"

namespace berth::manager {
namespace {

class LayerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "layer extraction sets owners";
    auto dir = TempDir::create("/tmp/berth-stream-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto store = ContentStore::open(dir_.path() + "/content");
    ASSERT_TRUE(store.ok());
    store_.emplace(std::move(*store));
    ASSERT_TRUE(make_dirs(dir_.path() + "/root").ok());
    std::string big(300000, 'a');
    layer_ = testing::TarBuilder("gzip").file("one", big).file("two", "second file").finish();
    digest_ = sha256_digest(layer_);
  }

  TempDir dir_;
  std::optional<ContentStore> store_;
  std::string layer_, digest_;
};

TEST_F(LayerStreamTest, ExtractsWhileTheBlobArrives) {
  LayerStream stream(*store_, digest_, static_cast<int64_t>(layer_.size()), "fetch-test");
  auto writer = store_->writer("fetch-test", digest_, static_cast<int64_t>(layer_.size()));
  ASSERT_TRUE(writer.ok());
  size_t half = layer_.size() / 2;
  ASSERT_TRUE((*writer)->write(std::string_view(layer_).substr(0, half)).ok());
  stream.advanced(static_cast<int64_t>(half));
  // The reader gets the first half now and must wait for the rest.
  auto extracted = std::async(std::launch::async, [&]() -> Result<AppliedLayer> {
    BERTH_ASSIGN_OR_RETURN(LayerSource source, stream.open());
    return apply_layer(source, dir_.path() + "/root", WhiteoutMode::kOverlay);
  });
  ASSERT_TRUE((*writer)->write(std::string_view(layer_).substr(half)).ok());
  stream.advanced(static_cast<int64_t>(layer_.size()));
  ASSERT_TRUE((*writer)->commit().ok());
  stream.finish({});
  auto applied = extracted.get();
  ASSERT_TRUE(applied.ok()) << applied.error().what();
  EXPECT_EQ(applied->entries, 2);
  EXPECT_EQ(*read_file(dir_.path() + "/root/two"), "second file");
}

TEST_F(LayerStreamTest, DownloadFailureReachesTheReader) {
  LayerStream stream(*store_, digest_, static_cast<int64_t>(layer_.size()), "fetch-fail");
  auto writer = store_->writer("fetch-fail", digest_, static_cast<int64_t>(layer_.size()));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(std::string_view(layer_).substr(0, 100)).ok());
  stream.advanced(100);
  auto extracted = std::async(std::launch::async, [&]() -> Result<AppliedLayer> {
    BERTH_ASSIGN_OR_RETURN(LayerSource source, stream.open());
    return apply_layer(source, dir_.path() + "/root", WhiteoutMode::kOverlay);
  });
  stream.finish(make_error(ErrorCode::kUnavailable, "registry went away"));
  auto applied = extracted.get();
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().what().find("registry went away"), std::string::npos) << applied.error().what();
}

}  // namespace
}  // namespace berth::manager
