// Renders a pull's progress stream: live per-layer bars on a terminal, one line per change otherwise.
#pragma once

#include <chrono>
#include <iosfwd>
#include <map>
#include <functional>
#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

// One layer's line, at most width - 1 columns: name, state, then for a download a bar, sizes, speed
// and ETA, dropping speed, sizes and bar width as the terminal narrows.
std::string progress_line(const pb::PullProgress& p, size_t width, double bytes_per_second);

class PullProgressView {
 public:
  PullProgressView(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
  void update(const pb::PullProgress& p);

 private:
  std::ostream& out_;
  bool tty_;
  std::vector<std::string> order_;
  std::map<std::string, pb::PullProgress> state_;
  size_t drawn_ = 0;
  std::map<std::string, std::pair<int64_t, std::chrono::steady_clock::time_point>> started_;  // download start
};

// Pulls through berthd's Transfer service, drawing progress on ctx.err; the stored image's name.
Result<std::string> pull_with_progress(Context& ctx, const pb::PullRequest& req);

// docker run's --pull around a call that needs the image stored and says when it is not (call
// returns false; berthd's Containers/Create does, so nothing asks first): "missing" then pulls it
// (saying so on stderr, as docker does) and calls again, "always" pulls before the call, "never"
// fails.
Status with_image(Context& ctx, const std::string& image, const std::string& policy,
                  const std::function<Result<bool>()>& call);

}  // namespace berth::cli
