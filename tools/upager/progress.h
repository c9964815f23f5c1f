// A progress display on stderr for a run over a known number of pages: a bar redrawn about
// ten times a second with \r when stderr is a terminal, otherwise a plain line at each 25%.
#ifndef UPAGER_TOOLS_UPAGER_PROGRESS_H_
#define UPAGER_TOOLS_UPAGER_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace upager::cli {

class Progress {
 public:
  // `total` pages of `unit_bytes` each; `label` names the run ("upager", "mmap").
  Progress(std::string label, uint64_t total, uint64_t unit_bytes);
  ~Progress();  // Finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Workers call this as they finish pages.
  void Add(uint64_t n) { done_.fetch_add(n, std::memory_order_relaxed); }
  // Draws the last state and stops the display thread. Idempotent.
  void Finish();

 private:
  void Run();
  void Draw(bool final);

  const std::string label_;
  const uint64_t total_;
  const uint64_t unit_bytes_;
  const bool tty_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  int next_quarter_ = 1;  // plain mode: the next 25% step to print
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_PROGRESS_H_
