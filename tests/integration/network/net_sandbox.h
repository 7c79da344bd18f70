// What every networking test shares: the private network namespace it runs in (so the host's
// network is never touched), and waiting on a condition with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::network_testing {

// Moves this process (it must still be single-threaded) into a new network namespace with its
// loopback up; every child it starts afterwards lives there too. Idempotent.
Status enter_private_netns();

// Polls `ready` until it returns true or `limit` passes.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit = std::chrono::seconds(10));

// Runs a command, returning its stdout ("" with the error when it fails).
std::string output_of(const std::vector<std::string>& argv);

// An HTTP GET through curl (2 s budget); nullopt-like "" plus false when it failed.
bool http_get(const std::string& url, std::string* body);

}  // namespace berth::network_testing
