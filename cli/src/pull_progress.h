// Renders a pull's progress stream: live per-layer bars on a terminal, one line per change otherwise.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

class PullProgressView {
 public:
  PullProgressView(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
  void update(const pb::PullProgress& p);

 private:
  std::string line(const pb::PullProgress& p) const;
  std::ostream& out_;
  bool tty_;
  std::vector<std::string> order_;
  std::map<std::string, pb::PullProgress> state_;
  size_t drawn_ = 0;
};

}  // namespace berth::cli
