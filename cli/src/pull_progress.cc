#include "pull_progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ostream>

#include "output.h"

namespace berth::cli {

std::string progress_line(const pb::PullProgress& p, size_t width, double bytes_per_second) {
  std::string ref = p.ref();
  if (auto colon = ref.find("sha256:"); colon != std::string::npos) ref = ref.substr(0, colon + 19);
  std::string head = fmt::format("{:<25} {:<11}", ref, p.status());
  if ((p.status() != "downloading" && p.status() != "pushing") || p.total() <= 0) {
    std::string text = p.total() > 0 ? fmt::format("{} {}", head, human_size(p.total())) : head;
    return text.size() < width ? text : text.substr(0, width > 0 ? width - 1 : 0);
  }
  std::string sizes = fmt::format(" {} / {}", human_size(p.offset()), human_size(p.total()));
  std::string rate;
  if (bytes_per_second > 0) {
    auto eta = static_cast<int64_t>(static_cast<double>(p.total() - p.offset()) / bytes_per_second);
    rate = fmt::format(" {}/s {}s", human_size(static_cast<int64_t>(bytes_per_second)), eta);
  }
  // Widest first; fields are dropped and the bar shrinks until the line fits (the last column of a
  // terminal is left free so that no line wraps).
  for (const auto& tail : {sizes + rate, sizes, std::string()}) {
    size_t fixed = head.size() + 3 + tail.size();
    if (fixed + 10 < width) {
      size_t bar = std::min<size_t>(30, width - 1 - fixed);
      auto filled = static_cast<size_t>(static_cast<double>(bar) * static_cast<double>(p.offset()) /
                                        static_cast<double>(p.total()));
      filled = std::min(filled, bar);
      return fmt::format("{} |{}{}|{}", head, std::string(filled, '='), std::string(bar - filled, ' '), tail);
    }
  }
  return head.size() < width ? head : head.substr(0, width > 0 ? width - 1 : 0);
}

void PullProgressView::update(const pb::PullProgress& p) {
  bool known = state_.count(p.ref()) > 0;
  bool changed = !known || state_[p.ref()].status() != p.status();
  if (!known) order_.push_back(p.ref());
  state_[p.ref()] = p;
  if (!tty_) {
    if (changed) out_ << progress_line(p, SIZE_MAX, 0) << "\n" << std::flush;
    return;
  }
  // Redraw the block of lines in place, each cut to the terminal's width.
  auto now = std::chrono::steady_clock::now();
  auto& started = started_[p.ref()];
  if (p.status() == "downloading" && started.second == std::chrono::steady_clock::time_point{})
    started = {p.offset(), now};
  struct winsize ws {};
  size_t width = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
  if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "A";
  for (const auto& ref : order_) {
    const auto& [offset0, t0] = started_[ref];
    double seconds = std::chrono::duration<double>(now - t0).count();
    double rate = t0 != std::chrono::steady_clock::time_point{} && seconds > 0.5
                      ? static_cast<double>(state_[ref].offset() - offset0) / seconds
                      : 0;
    out_ << "\r\x1b[2K" << progress_line(state_[ref], width, rate) << "\n";
  }
  drawn_ = order_.size();
  out_ << std::flush;
}

}  // namespace berth::cli

namespace berth::cli {

Result<std::string> pull_with_progress(Context& ctx, const pb::PullRequest& req) {
  auto call = ctx.call();
  auto reader = pb::Transfer::NewStub(ctx.channel)->Pull(call.get(), req);
  PullProgressView view(ctx.err, !ctx.json && ::isatty(STDERR_FILENO));
  pb::PullProgress p;
  std::string name;
  while (reader->Read(&p)) {
    if (p.status() == "pulled") {
      name = p.ref();
      continue;
    }
    if (!ctx.json) view.update(p);
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);
  return name;
}

}  // namespace berth::cli
