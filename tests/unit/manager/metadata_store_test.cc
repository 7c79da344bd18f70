#include "metadata/metadata_store.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "metadata/sqlite.h"

namespace berth::manager {
namespace {

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("/tmp/berth-meta-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto db = MetadataStore::open(dir_.path() + "/meta.db");
    ASSERT_TRUE(db.ok()) << db.error().what();
    db_ = std::move(*db);
  }
  TempDir dir_;
  std::unique_ptr<MetadataStore> db_;
};

// Issue 16: SQLite errors were all one message ("already exists" on a full disk).
TEST(SqliteErrors, MappedByCause) {
  EXPECT_EQ(sql::error_code_for(SQLITE_CONSTRAINT_UNIQUE), ErrorCode::kAlreadyExists);
  EXPECT_EQ(sql::error_code_for(SQLITE_CONSTRAINT_PRIMARYKEY), ErrorCode::kAlreadyExists);
  EXPECT_EQ(sql::error_code_for(SQLITE_CONSTRAINT_FOREIGNKEY), ErrorCode::kNotFound);
  EXPECT_EQ(sql::error_code_for(SQLITE_CONSTRAINT_NOTNULL), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(sql::error_code_for(SQLITE_FULL), ErrorCode::kResourceExhausted);
  EXPECT_EQ(sql::error_code_for(SQLITE_BUSY), ErrorCode::kUnavailable);
  EXPECT_EQ(sql::error_code_for(SQLITE_READONLY_DBMOVED), ErrorCode::kPermissionDenied);
  EXPECT_EQ(sql::error_code_for(SQLITE_CORRUPT), ErrorCode::kDataLoss);
  EXPECT_EQ(sql::error_code_for(SQLITE_IOERR_WRITE), ErrorCode::kInternal);
}

// A database that may not grow (max_page_count) fails like a full disk: SQLITE_FULL.
TEST(SqliteErrors, FullDatabaseIsResourceExhausted) {
  auto dir = TempDir::create("/tmp/berth-sqlite-test-");
  ASSERT_TRUE(dir.ok());
  auto db = sql::Database::open(dir->path() + "/t.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->exec("CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB)").ok());
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES('a', 'x')").ok());
  auto dup = db->exec("INSERT INTO t VALUES('a', 'y')");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(db->exec("PRAGMA max_page_count=8").ok());
  auto full = db->exec("INSERT INTO t VALUES('b', zeroblob(1000000))");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), ErrorCode::kResourceExhausted) << full.error().what();
  EXPECT_NE(full.error().message().find("no space"), std::string::npos) << full.error().what();
}

// The whole store on a really full filesystem (a 512 KiB tmpfs, filled up): namespace create says
// "no space", not "already exists"; an image write does not claim the namespace is missing.
TEST(SqliteErrors, FullDiskIsReportedAsSuch) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts a small tmpfs)";
  auto dir = TempDir::create("/tmp/berth-full-disk-");
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::mount("tmpfs", dir->path().c_str(), "tmpfs", 0, "size=512k"), 0);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{dir->path()};
  {
    auto store = MetadataStore::open(dir->path() + "/meta.db");
    ASSERT_TRUE(store.ok()) << store.error().what();
    ASSERT_TRUE((*store)->create_namespace("before").ok());
    int fd = ::open((dir->path() + "/filler").c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
    auto ns = (*store)->create_namespace("after");
    ASSERT_FALSE(ns.ok());
    EXPECT_EQ(ns.error().code(), ErrorCode::kResourceExhausted) << ns.error().what();
    EXPECT_EQ(ns.error().message().find("already exists"), std::string::npos) << ns.error().what();
    EXPECT_NE(ns.error().message().find("no space"), std::string::npos) << ns.error().what();
    ImageRecord img{"x:1", "application/vnd.oci.image.manifest.v1+json", "sha256:" + std::string(64, 'a'), 1, {}, 0, 0};
    img.labels["k"] = std::string(200000, 'v');
    auto put = (*store)->put_image("before", img);
    ASSERT_FALSE(put.ok());
    EXPECT_EQ(put.error().code(), ErrorCode::kResourceExhausted) << put.error().what();
  }
}

TEST_F(MetadataStoreTest, MigratesAndReopens) {
  EXPECT_EQ(db_->schema_version(), MetadataStore::kSchemaVersion);
  ASSERT_TRUE(db_->create_namespace("other").ok());
  db_.reset();
  auto again = MetadataStore::open(dir_.path() + "/meta.db");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->list_namespaces(), (std::vector<std::string>{"default", "other"}));
}

TEST_F(MetadataStoreTest, NamespacesIsolateImages) {
  ASSERT_TRUE(db_->create_namespace("a").ok());
  EXPECT_EQ(db_->create_namespace("a").error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(db_->create_namespace("Bad/Name").error().code(), ErrorCode::kInvalidArgument);
  ImageRecord img{"docker.io/library/busybox:latest",
                  "application/vnd.oci.image.manifest.v1+json",
                  "sha256:" + std::string(64, 'a'),
                  123,
                  {{"k", "v"}}};
  ASSERT_TRUE(db_->put_image("a", img).ok());
  EXPECT_EQ(db_->get_image("a", img.name)->labels.at("k"), "v");
  EXPECT_EQ(db_->get_image("default", img.name).error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(db_->list_images("default")->empty());
  EXPECT_EQ(db_->put_image("missing", img).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(db_->delete_namespace("a").error().code(), ErrorCode::kFailedPrecondition);
  img.digest = "sha256:" + std::string(64, 'b');
  ASSERT_TRUE(db_->put_image("a", img).ok());
  EXPECT_EQ(db_->get_image("a", img.name)->digest, img.digest);
  ASSERT_TRUE(db_->delete_image("a", img.name).ok());
  EXPECT_EQ(db_->delete_image("a", img.name).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(db_->delete_namespace("a").ok());
}

TEST_F(MetadataStoreTest, SnapshotRecords) {
  auto a = db_->add_snapshot("extract-1", "", "active");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(db_->add_snapshot("extract-1", "", "active").error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(db_->rename_snapshot("extract-1", "sha256:layer", "committed").ok());
  auto found = db_->find_snapshot("sha256:layer");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, a->id);
  EXPECT_EQ((*found)->kind, "committed");
  ASSERT_TRUE(db_->add_snapshot("child", "sha256:layer", "active").ok());
  EXPECT_EQ(*db_->count_children("sha256:layer"), 1);
  ASSERT_TRUE(db_->delete_snapshot("child").ok());
  EXPECT_EQ(*db_->count_children("sha256:layer"), 0);
}

TEST_F(MetadataStoreTest, LeasesHoldResources) {
  ASSERT_TRUE(db_->create_lease("default", "pull-1").ok());
  ASSERT_TRUE(db_->add_lease_resource("default", "pull-1", {"content", "sha256:x"}).ok());
  EXPECT_EQ(db_->all_leased_resources()->size(), 1u);
  EXPECT_FALSE(db_->add_lease_resource("default", "nope", {"content", "sha256:x"}).ok());
  ASSERT_TRUE(db_->delete_lease("default", "pull-1").ok());
  EXPECT_TRUE(db_->all_leased_resources()->empty());
}

TEST_F(MetadataStoreTest, ContainersArePerNamespaceAndPinTheirImage) {
  ContainerRecord c{"web", "docker.io/library/busybox:latest", "container/default/web", "berth", "{}",
                    {{"a", "b"}}, 0};
  ASSERT_TRUE(db_->add_container("default", c).ok());
  EXPECT_EQ(db_->add_container("default", c).error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(db_->create_namespace("other").ok());
  ASSERT_TRUE(db_->add_container("other", c).ok());  // same id, other namespace
  auto got = db_->get_container("default", "web");
  ASSERT_TRUE(got.ok()) << got.error().what();
  EXPECT_EQ(got->image, c.image);
  EXPECT_EQ(got->labels, c.labels);
  EXPECT_GT(got->created_unix, 0);
  EXPECT_EQ(*db_->containers_using_image("default", c.image), std::vector<std::string>{"web"});
  EXPECT_TRUE(db_->containers_using_image("default", "docker.io/library/other:1")->empty());
  EXPECT_EQ(db_->delete_namespace("other").error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(db_->delete_container("other", "web").ok());
  EXPECT_EQ(db_->delete_container("other", "web").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(db_->list_containers("default")->size(), 1u);
  EXPECT_EQ(db_->get_container("other", "web").error().code(), ErrorCode::kNotFound);
}

TEST_F(MetadataStoreTest, TypedContainerFactsRoundTrip) {
  ContainerRecord c{"t", "img", "container/default/t", "berth", "{}", {{"owner", "me"}}, 0};
  c.terminal = true;
  c.open_stdin = true;
  c.auto_remove = true;
  ASSERT_TRUE(db_->add_container("default", c).ok());
  auto got = db_->get_container("default", "t");
  ASSERT_TRUE(got.ok()) << got.error().what();
  EXPECT_TRUE(got->terminal && got->open_stdin && got->auto_remove);
  EXPECT_EQ(got->last_exited_at_unix_nano, 0) << "never exited";
  ASSERT_TRUE(db_->set_container_last_exit("default", "t", 4000000000u, 1234567890123456789).ok());
  got = db_->get_container("default", "t");
  EXPECT_EQ(got->last_exit_status, 4000000000u) << "unsigned 32 bits, all of them";
  EXPECT_EQ(got->last_exited_at_unix_nano, 1234567890123456789);
  EXPECT_EQ(got->labels, (Labels{{"owner", "me"}}));
  EXPECT_EQ(db_->set_container_last_exit("default", "nope", 1, 1).error().code(), ErrorCode::kNotFound);
}

// docker rename: a name apart from the id, unique among the namespace's names and ids.
TEST_F(MetadataStoreTest, RenamedContainersKeepTheirIdAndHoldTheirName) {
  for (const char* id : {"a", "b"})
    ASSERT_TRUE(db_->add_container("default", {id, "img", std::string("container/default/") + id, "berth", "{}", {}, 0}).ok());
  ASSERT_TRUE(db_->rename_container("default", "a", "web").ok());
  EXPECT_EQ(db_->get_container("default", "a")->name, "web");
  EXPECT_EQ(db_->rename_container("default", "b", "web").error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(db_->rename_container("default", "b", "a").error().code(), ErrorCode::kAlreadyExists) << "a is an id";
  EXPECT_EQ(db_->rename_container("default", "nope", "x").error().code(), ErrorCode::kNotFound);
  auto taken = db_->add_container("default", {"web", "img", "container/default/web", "berth", "{}", {}, 0});
  EXPECT_EQ(taken.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(std::string(taken.error().what()).find("in use by container \"a\""), std::string::npos) << taken.error().what();
  ASSERT_TRUE(db_->create_namespace("other").ok());
  EXPECT_TRUE(db_->add_container("other", {"web", "img", "container/other/web", "berth", "{}", {}, 0}).ok());
  ASSERT_TRUE(db_->rename_container("default", "a", "a").ok());  // back to its id: no name apart
  EXPECT_EQ(db_->get_container("default", "a")->name, "");
  ASSERT_TRUE(db_->delete_container("other", "web").ok());
}

// A database written by the schema before typed container facts (version 3): the facts it kept in
// "berth.*" labels, and the terminal flag it kept only in the spec, move into the columns.
TEST(MetadataMigration, ReservedLabelsOfAnOldDatabaseBecomeColumns) {
  auto dir = TempDir::create("/tmp/berth-meta-test-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/meta.db";
  {
    auto old = sql::Database::open(path);
    ASSERT_TRUE(old.ok()) << old.error().what();
    auto made = old->exec(R"(
      CREATE TABLE namespaces(name TEXT PRIMARY KEY, created INTEGER NOT NULL);
      CREATE TABLE images(namespace TEXT NOT NULL REFERENCES namespaces(name), name TEXT NOT NULL,
        media_type TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL, labels TEXT NOT NULL,
        created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(namespace, name));
      CREATE TABLE content(namespace TEXT NOT NULL REFERENCES namespaces(name), digest TEXT NOT NULL,
        labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(namespace, digest));
      CREATE TABLE snapshots(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
        parent TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE TABLE leases(namespace TEXT NOT NULL REFERENCES namespaces(name), id TEXT NOT NULL,
        created INTEGER NOT NULL, PRIMARY KEY(namespace, id));
      CREATE TABLE lease_resources(namespace TEXT NOT NULL, lease TEXT NOT NULL, kind TEXT NOT NULL,
        resource TEXT NOT NULL, PRIMARY KEY(namespace, lease, kind, resource),
        FOREIGN KEY(namespace, lease) REFERENCES leases(namespace, id) ON DELETE CASCADE);
      INSERT INTO namespaces VALUES('default', 1);
      CREATE TABLE containers(namespace TEXT NOT NULL REFERENCES namespaces(name), id TEXT NOT NULL,
        image TEXT NOT NULL, snapshot_key TEXT NOT NULL, runtime TEXT NOT NULL, spec TEXT NOT NULL,
        labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(namespace, id));
      CREATE INDEX containers_by_image ON containers(namespace, image);
      CREATE TABLE networks(name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, bridge TEXT NOT NULL UNIQUE,
        subnet TEXT NOT NULL, gateway TEXT NOT NULL, internal INTEGER NOT NULL, labels TEXT NOT NULL,
        created INTEGER NOT NULL);
      INSERT INTO containers VALUES('default', 'old', 'img', 'container/default/old', 'berth',
        '{"process":{"terminal":true,"args":["sh"]}}',
        '{"owner":"me","berth.open-stdin":"true","berth.auto-remove":"true","berth.last-exit-status":"137","berth.last-exited-at":"1700000000000000000"}',
        5);
      INSERT INTO containers VALUES('default', 'plain', 'img', 'container/default/plain', 'berth',
        '{"process":{"args":["true"]}}', '{}', 6);
      PRAGMA user_version=3;)");
    ASSERT_TRUE(made.ok()) << made.error().what();
  }
  auto db = MetadataStore::open(path);
  ASSERT_TRUE(db.ok()) << db.error().what();
  EXPECT_EQ((*db)->schema_version(), MetadataStore::kSchemaVersion);
  auto old = (*db)->get_container("default", "old");
  ASSERT_TRUE(old.ok()) << old.error().what();
  EXPECT_TRUE(old->terminal);
  EXPECT_TRUE(old->open_stdin);
  EXPECT_TRUE(old->auto_remove);
  EXPECT_EQ(old->last_exit_status, 137u);
  EXPECT_EQ(old->last_exited_at_unix_nano, 1700000000000000000);
  EXPECT_EQ(old->labels, (Labels{{"owner", "me"}})) << "the reserved labels are gone";
  EXPECT_EQ(old->created_unix, 5);
  auto plain = (*db)->get_container("default", "plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->terminal || plain->open_stdin || plain->auto_remove);
  EXPECT_EQ(plain->last_exited_at_unix_nano, 0);
  EXPECT_TRUE(plain->labels.empty());
}

}  // namespace
}  // namespace berth::manager
