// A StreamingRuntime that runs a few built-in commands against the StreamIo it gets, so the
// server's protocols can be checked end to end without containers:
//   echo ARGS...      ARGS joined by spaces and a newline on stdout
//   cat               stdin to stdout until EOF
//   fail N            "oops\n" on stderr, exit code N
//   sizes N           waits for N terminal sizes, prints each as WxH
//   big N             N bytes of a pattern on stdout
//   broken            an error (the command could not run)
// port_forward connects to 127.0.0.1:<port> in the test's own network namespace.
#pragma once

#include <mutex>
#include <vector>

#include "cri/streaming/streaming_runtime.h"

namespace berth::cri::streaming::testing {

class FakeRuntime : public StreamingRuntime {
 public:
  Result<int> exec(const ExecRequest& request, StreamIo& io) override;
  Status attach(const AttachRequest& request, StreamIo& io) override;
  Status port_forward(const std::string& pod_sandbox_id, int32_t port, UniqueFd&& conn) override;

  std::mutex mu;
  std::vector<ExecRequest> execs;  // every exec seen
  std::vector<std::string> forwarded_pods;
};

// The pattern "big N" writes (byte i is 'a' + i % 26).
std::string big_output(size_t n);

}  // namespace berth::cri::streaming::testing
