#include "pull_progress.h"

#include <fmt/format.h>

#include <ostream>

#include "output.h"

namespace berth::cli {

std::string PullProgressView::line(const pb::PullProgress& p) const {
  std::string ref = p.ref();
  if (auto colon = ref.find("sha256:"); colon != std::string::npos) ref = ref.substr(0, colon + 19);
  std::string text = fmt::format("{:<32} {:<12}", ref, p.status());
  if ((p.status() == "downloading" || p.status() == "pushing") && p.total() > 0) {
    constexpr int kWidth = 30;
    int filled = static_cast<int>(kWidth * p.offset() / p.total());
    text += fmt::format(" |{}{}| {} / {}", std::string(static_cast<size_t>(filled), '='),
                        std::string(static_cast<size_t>(kWidth - filled), ' '), human_size(p.offset()),
                        human_size(p.total()));
  } else if (p.total() > 0) {
    text += fmt::format(" {}", human_size(p.total()));
  }
  return text;
}

void PullProgressView::update(const pb::PullProgress& p) {
  bool known = state_.count(p.ref()) > 0;
  bool changed = !known || state_[p.ref()].status() != p.status();
  if (!known) order_.push_back(p.ref());
  state_[p.ref()] = p;
  if (!tty_) {
    if (changed) out_ << line(p) << "\n" << std::flush;
    return;
  }
  // Redraw the block of lines in place.
  if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "A";
  for (const auto& ref : order_) out_ << "\r\x1b[2K" << line(state_[ref]) << "\n";
  drawn_ = order_.size();
  out_ << std::flush;
}

}  // namespace berth::cli
