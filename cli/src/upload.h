// Client-streaming uploads to berthd (content push, cp into a container, load, import): the call is
// opened in one place, a file descriptor streams into it in one loop, and it ends in one place, with
// berthd's reason first when it stopped the stream.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "berth/common/error.h"
#include "context.h"

namespace berth::cli {

// Reads fd to its end in 1 MiB chunks and hands each to sink, stopping early when sink returns false
// (the receiver ended the stream: its Finish says why). A read error names `what`.
Status stream_fd(int fd, const std::string& what, const std::function<bool(std::string_view)>& sink);

template <class Request, class Reply>
struct Upload {
  std::unique_ptr<grpc::ClientContext> call;
  std::unique_ptr<Reply> reply;  // what berthd answers once the upload is finished
  std::unique_ptr<grpc::ClientWriter<Request>> writer;

  // Ends the upload (cancelled when sent failed): berthd's error first, else sent's.
  Status finish(const Status& sent) {
    if (!sent) call->TryCancel();
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    if (!st.ok()) return from_grpc(st);
    return sent;
  }
};

// open_upload(ctx, &pb::Content::Stub::Write): a stub's client-streaming method, called with the
// namespace header.
template <class Stub, class Request, class Reply>
Upload<Request, Reply> open_upload(const Context& ctx,
                                   std::unique_ptr<grpc::ClientWriter<Request>> (Stub::*method)(grpc::ClientContext*,
                                                                                                Reply*)) {
  Upload<Request, Reply> upload{ctx.call(), std::make_unique<Reply>(), nullptr};
  Stub stub(ctx.channel);
  upload.writer = (stub.*method)(upload.call.get(), upload.reply.get());
  return upload;
}

}  // namespace berth::cli
