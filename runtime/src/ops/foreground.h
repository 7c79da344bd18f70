// A process in the foreground of `run` or `exec`: signals are forwarded to it, its pty (when berth
// owns one) is relayed to our stdio, and its exit status becomes ours.
#pragma once

#include "../process/launcher.h"

namespace berth::runtime {

// init has exec'd already (launch_exec, start_created awaited it). master: the pty master to relay,
// or -1. Returns the shell-style exit code (128+N on signal N).
Result<int> supervise_foreground(LaunchedInit& init, int master);

}  // namespace berth::runtime
