// The stderr progress bar / progress lines (see progress.h).
#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace upager::cli {

Progress::Progress(std::string label, uint64_t total, uint64_t unit_bytes)
    : label_(std::move(label)),
      total_(total),
      unit_bytes_(unit_bytes),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { Run(); });
}

Progress::~Progress() { Finish(); }

void Progress::Finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) {
      return;
    }
    finished_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  Draw(/*final=*/true);
}

void Progress::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; });
    if (!stop_) {
      Draw(/*final=*/false);
    }
  }
}

void Progress::Draw(bool final) {
  const uint64_t done = std::min(done_.load(std::memory_order_relaxed), total_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double mib = static_cast<double>(done * unit_bytes_) / (1024.0 * 1024.0);
  const double rate = seconds > 0 ? mib / seconds : 0.0;
  const double fraction =
      total_ == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
  if (tty_) {
    constexpr int kWidth = 30;
    char bar[kWidth + 1];
    int filled = static_cast<int>(fraction * kWidth);
    for (int i = 0; i < kWidth; ++i) {
      bar[i] = i < filled ? '#' : '.';
    }
    bar[kWidth] = '\0';
    std::fprintf(stderr, "\r%-7s [%s] %" PRIu64 "/%" PRIu64 " pages %5.1f%% %8.1f MiB/s%s",
                 label_.c_str(), bar, done, total_, fraction * 100.0, rate, final ? "\n" : "");
    std::fflush(stderr);
    return;
  }
  // Plain lines: one when a 25% step is passed (the highest one, if several were passed
  // since the last look), and where a run stopped short.
  int reached = 0;
  while (next_quarter_ + reached <= 4 &&
         done * 4 >= static_cast<uint64_t>(next_quarter_ + reached) * total_) {
    ++reached;
  }
  if (reached > 0) {
    next_quarter_ += reached;
    std::fprintf(stderr, "progress: %s %3d%% (%" PRIu64 "/%" PRIu64 " pages, %.1f MiB/s)\n",
                 label_.c_str(), (next_quarter_ - 1) * 25, done, total_, rate);
  }
  if (final && next_quarter_ <= 4) {
    std::fprintf(stderr, "progress: %s stopped at %.1f%% (%" PRIu64 "/%" PRIu64 " pages)\n",
                 label_.c_str(), fraction * 100.0, done, total_);
    next_quarter_ = 5;
  }
  std::fflush(stderr);
}

}  // namespace upager::cli
