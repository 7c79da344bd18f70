// The remotecommand protocol family (exec and attach) independent of the transport: the versions,
// the exit status the client reads on the error stream, the resize messages, and a session that
// connects the client's streams to a runtime's StreamIo.
//
// Versions (k8s.io/apimachinery remotecommand): v1 (no longer offered by clients), v2 (stdin EOF
// by closing the stream), v3 (adds the resize stream), v4 (exit status as a metav1.Status JSON on
// the error stream, so non-zero exit codes reach the client), v5 (WebSocket only: a close-channel
// message so stdin can reach EOF).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::cri::streaming {

inline constexpr std::string_view kStreamProtocolV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV3 = "v3.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV2 = "v2.channel.k8s.io";
inline constexpr std::string_view kPortForwardProtocolV1 = "portforward.k8s.io";

// The remotecommand version a protocol name stands for (2..5), or nullopt.
std::optional<int> remote_command_version(std::string_view protocol);

// The first of the client's protocols (in its order of preference) the server also speaks.
std::optional<std::string> choose_protocol(const std::vector<std::string>& client,
                                           const std::vector<std::string_view>& server);

// How the command ended, as the error stream reports it.
struct CommandOutcome {
  std::optional<int> exit_code;  // set when the command ran
  std::string error;             // set when it could not run (or attach failed)
  std::vector<std::string> cmd;  // for the message, as the kubelet words it
};

// What goes on the error stream at the end. v4+: a metav1.Status JSON (Success; or Failure with
// reason NonZeroExitCode and an ExitCode cause; or Failure with InternalError). v2/v3: plain text,
// nothing on success. Empty: send nothing.
std::string error_stream_message(int version, const CommandOutcome& outcome);

// Splits the resize stream (a sequence of JSON objects {"Width":w,"Height":h}) into sizes.
class ResizeDecoder {
 public:
  // Feeds bytes; every complete object becomes a size. Malformed JSON or a buffered object larger
  // than 4 KiB is an error.
  Result<std::vector<TerminalSize>> feed(std::string_view bytes);

 private:
  std::string buffer_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

// One exec or attach as a transport serves it.
struct CommandRequest {
  int version = 4;  // remotecommand version of the negotiated protocol
  bool stdin = false, stdout = false, stderr = false, tty = false;
  std::vector<std::string> cmd;  // exec only, for the error message
  // Runs the exec or attach; returns the exit code (attach: 0).
  std::function<Result<int>(StreamIo&)> work;
};

// Connects the client's streams of one exec or attach to the runtime: socketpairs for the
// requested streams (the runtime's ends go into io()), the client's stdin and resizes fed in,
// stdout and stderr pumped out through a callback, until the runtime returns and its output is
// drained.
class CommandSession {
 public:
  enum class Output { kStdout, kStderr };
  // Called from a pump thread per stream; false when the client is gone.
  using OutputFn = std::function<bool(Output, std::string_view)>;

  static Result<std::unique_ptr<CommandSession>> create(bool stdin, bool stdout, bool stderr, bool tty);
  ~CommandSession();

  // Client side, from the transport's reader.
  Status feed_stdin(std::string_view data);  // blocks while the runtime does not read
  void close_stdin();
  Status feed_resize(std::string_view json_bytes);
  // The client went away: stdin ends, output is thrown away, the resize queue closes.
  void client_gone();

  // Runs work(io) on this thread with the output pumps running; returns what work returned once
  // its output has been forwarded.
  Result<int> run(const std::function<Result<int>(StreamIo&)>& work, const OutputFn& out);
  // run() of request.work, then the message for the error stream (see error_stream_message).
  std::string run_and_report(const CommandRequest& request, const OutputFn& out);

 private:
  CommandSession() = default;
  StreamIo io_;
  ResizeQueue resize_;
  ResizeDecoder resize_decoder_;
  UniqueFd stdin_peer_, stdout_peer_, stderr_peer_;  // our ends
};

}  // namespace berth::cri::streaming
