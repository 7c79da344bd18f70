// Content.Write over a real berthd: upload, idempotence, resume after an interrupted stream,
// digest mismatch, and Images.Update — through berthctl and through the gRPC API directly.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "content/digest.h"
#include "berth/manager/v1/manager.grpc.pb.h"
#include "berthd_fixture.h"

namespace berth::manager {
namespace {

namespace pb = ::berth::manager::v1;
using testing::Berthd;

class ContentWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (berthd's overlay snapshotter)";
    auto d = Berthd::start();
    ASSERT_TRUE(d.ok()) << d.error().what();
    daemon_ = std::move(*d);
    std::mt19937_64 rng(42);
    data_.resize(3 << 20);
    for (auto& c : data_) c = static_cast<char>(rng());
    file_ = dir_.path() + "/blob";
    ASSERT_TRUE(write_file_atomic(file_, data_).ok());
    Sha256 h;
    h.update(data_);
    digest_ = h.digest();
    channel_ = grpc::CreateChannel("unix://" + daemon_->socket(), grpc::InsecureChannelCredentials());
  }
  std::unique_ptr<grpc::ClientContext> call() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("berth-namespace", "default");
    return c;
  }
  std::unique_ptr<Berthd> daemon_;
  TempDir dir_ = std::move(TempDir::create("/var/tmp/berth-content-test-").value());
  std::string data_, file_, digest_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ContentWrite, PushListGetAndPushAgain) {
  auto pushed = daemon_->ctl({"content", "push", file_, "origin=test"});
  ASSERT_EQ(pushed.code, 0) << pushed.err;
  EXPECT_EQ(pushed.out, digest_ + "\n");
  auto listed = daemon_->ctl({"content", "ls"});
  EXPECT_NE(listed.out.find(digest_), std::string::npos) << listed.out;
  auto got = daemon_->ctl({"content", "get", digest_});
  EXPECT_TRUE(got.out == data_) << "content get returned " << got.out.size() << " bytes";
  EXPECT_EQ(daemon_->ctl({"content", "push", file_}).code, 0) << "pushing a present blob is fine";
}

TEST_F(ContentWrite, InterruptedUploadResumesFromTheIngestOffset) {
  auto stub = pb::Content::NewStub(channel_);
  {
    auto c = call();
    pb::ContentInfo info;
    auto w = stub->Write(c.get(), &info);
    pb::WriteContentRequest first;
    first.set_ref("push-" + digest_.substr(7));
    first.set_expected_digest(digest_);
    first.set_expected_size(static_cast<int64_t>(data_.size()));
    first.set_data(data_.substr(0, 1 << 20));
    ASSERT_TRUE(w->Write(first));
    c->TryCancel();  // the client dies mid-upload
    (void)w->Finish();
  }
  pb::IngestRequest req;
  req.set_ref("push-" + digest_.substr(7));
  pb::IngestInfo status;
  // The daemon notices the cancellation asynchronously: wait (bounded) for the ingest to settle.
  for (int i = 0; i < 200; ++i) {
    auto c = call();
    ASSERT_TRUE(stub->IngestStatus(c.get(), req, &status).ok());
    if (status.offset() == (1 << 20)) break;
    ::usleep(10000);
  }
  EXPECT_EQ(status.offset(), 1 << 20);
  auto pushed = daemon_->ctl({"content", "push", file_});
  ASSERT_EQ(pushed.code, 0) << pushed.err;
  EXPECT_TRUE(daemon_->ctl({"content", "get", digest_}).out == data_);
}

TEST_F(ContentWrite, DigestMismatchCommitsNothing) {
  auto stub = pb::Content::NewStub(channel_);
  auto c = call();
  pb::ContentInfo info;
  auto w = stub->Write(c.get(), &info);
  pb::WriteContentRequest first;
  first.set_ref("liar");
  first.set_expected_digest("sha256:" + std::string(64, 'a'));
  first.set_data(data_);
  ASSERT_TRUE(w->Write(first));
  w->WritesDone();
  grpc::Status st = w->Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error_message().find("digest"), std::string::npos) << st.error_message();
  EXPECT_EQ(daemon_->ctl({"content", "ls"}).out.find("sha256:aaaa"), std::string::npos);
}

TEST_F(ContentWrite, ImagesUpdateChangesLabels) {
  ASSERT_EQ(daemon_->ctl({"content", "push", file_}).code, 0);
  auto images = pb::Images::NewStub(channel_);
  pb::Image image;
  image.set_name("example.org/team/blob:1");
  image.mutable_target()->set_digest(digest_);
  image.mutable_target()->set_media_type("application/octet-stream");
  image.mutable_target()->set_size(static_cast<int64_t>(data_.size()));
  pb::Image out;
  auto c1 = call();
  ASSERT_TRUE(images->Create(c1.get(), image, &out).ok());
  (*image.mutable_labels())["tier"] = "gold";
  image.clear_target();
  auto c2 = call();
  grpc::Status st = images->Update(c2.get(), image, &out);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(out.labels().at("tier"), "gold");
  EXPECT_EQ(out.target().digest(), digest_) << "the target is kept when not given";
  image.set_name("example.org/team/missing:1");
  auto c3 = call();
  EXPECT_EQ(images->Update(c3.get(), image, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace berth::manager
