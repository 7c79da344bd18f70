// A test over real stores in a temp dir: content, metadata, a native snapshotter (no mounts needed)
// and an ImageManager over them. Tests derive from it and call open_stores() in SetUp.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "berth/common/temp_dir.h"
#include "images/image_manager.h"

namespace berth::manager {

class StoreTest : public ::testing::Test {
 protected:
  // dir_ = a new directory named prefix + random; the stores in it.
  void open_stores(const std::string& prefix) {
    auto dir = TempDir::create(prefix);
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto content = ContentStore::open(dir_.path() + "/content");
    ASSERT_TRUE(content.ok());
    content_.emplace(std::move(*content));
    auto db = MetadataStore::open(dir_.path() + "/meta.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto snaps = Snapshotter::open("native", dir_.path() + "/snapshots", *db_);
    ASSERT_TRUE(snaps.ok());
    snapshots_ = std::move(*snaps);
    images_ = std::make_unique<ImageManager>(*content_, *db_, *snapshots_, events_, RegistryOptions{});
  }

  TempDir dir_;
  std::optional<ContentStore> content_;
  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<Snapshotter> snapshots_;
  EventBus events_;
  std::unique_ptr<ImageManager> images_;
};

}  // namespace berth::manager
