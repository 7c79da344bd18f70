// Renders a pull's progress stream: live per-layer bars on a terminal, one line per change otherwise.
#pragma once

#include <chrono>
#include <iosfwd>
#include <map>
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

// docker run's --pull: "missing" pulls an image that is not stored (saying so on stderr, as
// docker does), "always" pulls every time, "never" fails when it is not stored.
Status ensure_image(Context& ctx, const std::string& image, const std::string& policy);

}  // namespace berth::cli
