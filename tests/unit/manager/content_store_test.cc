#include "content/content_store.h"

#include <gtest/gtest.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth::manager {
namespace {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp/berth-content-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto store = ContentStore::open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.error().what();
    store_.emplace(std::move(*store));
  }
  TempDir dir_;
  std::optional<ContentStore> store_;
};

TEST(DigestTest, ValidatesForm) {
  EXPECT_TRUE(validate_digest(sha256_digest("x")).ok());
  EXPECT_FALSE(validate_digest("sha256:../../etc/passwd").ok());
  EXPECT_FALSE(validate_digest("md5:abc").ok());
  EXPECT_FALSE(validate_digest("sha256:" + std::string(64, 'A')).ok());
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ContentStoreTest, CommitVerifiesAndStores) {
  std::string data = "hello blob";
  std::string digest = sha256_digest(data);
  auto w = store_->writer("ref1", digest, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w.ok()) << w.error().what();
  ASSERT_TRUE((*w)->write(data).ok());
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_TRUE(store_->exists(digest));
  EXPECT_EQ(*store_->read(digest, 1024), data);
  EXPECT_EQ(store_->info(digest)->size, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(store_->list_ingests()->empty());
  auto again = store_->writer("ref1", digest, static_cast<int64_t>(data.size()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
}

TEST_F(ContentStoreTest, WrongDigestIsRejectedAndNothingCommitted) {
  std::string digest = sha256_digest("the real content");
  auto w = store_->writer("bad", digest, 16);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("corrupt content!").ok());
  auto st = (*w)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().what().find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(store_->exists(digest));
  EXPECT_TRUE(store_->list_ingests()->empty());
}

TEST_F(ContentStoreTest, OversizedWriteIsRefused) {
  auto w = store_->writer("big", sha256_digest("abc"), 3);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE((*w)->write("abcd").ok());
}

TEST_F(ContentStoreTest, IngestResumesAtOffset) {
  std::string data(100000, 'z');
  data += "tail";
  std::string digest = sha256_digest(data);
  {
    auto w = store_->writer("resume", digest, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write(std::string_view(data).substr(0, 70000)).ok());
  }  // the writer goes away as on a broken transfer
  auto w = store_->writer("resume", digest, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->offset(), 70000);
  ASSERT_TRUE((*w)->write(std::string_view(data).substr(70000)).ok());
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_EQ(*store_->read(digest, 1 << 20), data);
}

TEST_F(ContentStoreTest, RemoveAndListAndBadRefs) {
  ASSERT_TRUE(store_->write_blob("a", sha256_digest("a")).ok());
  ASSERT_TRUE(store_->write_blob("b", sha256_digest("b")).ok());
  EXPECT_EQ(store_->list()->size(), 2u);
  ASSERT_TRUE(store_->remove(sha256_digest("a")).ok());
  EXPECT_EQ(store_->list()->size(), 1u);
  EXPECT_EQ(store_->remove(sha256_digest("a")).error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(store_->writer("../escape", sha256_digest("b"), 1).ok());
  EXPECT_FALSE(store_->writer("a/b", sha256_digest("b"), 1).ok());
  EXPECT_FALSE(store_->read("sha256:../../x", 10).ok());
}

}  // namespace
}  // namespace berth::manager
