#include "berth/grpc/status.h"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

TEST(GrpcStatus, EveryCodeSurvivesTheRoundTrip) {
  for (int code = 1; code <= 15; ++code) {  // kCancelled .. kDataLoss
    Error original(static_cast<ErrorCode>(code), "message " + std::to_string(code));
    grpc::Status status = to_grpc_status(original);
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
    EXPECT_EQ(status.error_message(), original.what());
    Error back = from_grpc_status(status);
    EXPECT_EQ(back.code(), original.code());
    EXPECT_EQ(back.what(), original.what());
  }
}

TEST(GrpcStatus, BackWithContextAndLongMessagesCut) {
  grpc::Status status(grpc::StatusCode::NOT_FOUND, "no such task");
  Error e = from_grpc_status(status, "shim Start c1");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.what(), "shim Start c1: no such task");
  grpc::Status cut = to_grpc_status(Error(ErrorCode::kInvalidArgument, std::string(100000, 'x')));
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(cut.error_message().size(), kMaxStatusMessage + 64);
  EXPECT_NE(cut.error_message().find("(100000 bytes in all)"), std::string::npos);
}

}  // namespace
}  // namespace berth
