// RawFaultHandler: the smallest userfaultfd pager that maps a file, the baseline of
// `upager bench --faults`.
//
// An anonymous private region as large as the file is registered for MISSING faults with a
// userfaultfd of its own; one handler thread reads the fault messages and resolves each
// fault by pread of that page from the file into a buffer and UFFDIO_COPY of the buffer.
// Nothing else: no read-ahead, no de-duplication beyond the kernel's (a second fault on a
// page already copied is woken with UFFDIO_WAKE), no eviction.
#ifndef UPAGER_TOOLS_UPAGER_RAW_HANDLER_H_
#define UPAGER_TOOLS_UPAGER_RAW_HANDLER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace upager::cli {

class RawFaultHandler {
 public:
  // Opens `path`, maps a region of its size (rounded up to pages) and starts the handler
  // thread. False, with the reason in `why`, if any step fails (userfaultfd refused, ...).
  static bool Create(const std::string& path, std::unique_ptr<RawFaultHandler>* out,
                     std::string* why);
  ~RawFaultHandler();  // Close()
  RawFaultHandler(const RawFaultHandler&) = delete;
  RawFaultHandler& operator=(const RawFaultHandler&) = delete;

  const std::byte* data() const { return base_; }
  uint64_t size() const { return len_; }
  // Pages copied in so far.
  uint64_t pages_copied() const { return copied_.load(std::memory_order_relaxed); }
  // True if a read or a copy failed (the page was filled with zeros or left to re-fault).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Stops the handler thread, unmaps the region and closes the descriptors: the raw
  // handler's teardown. No access to data() may run or follow. Idempotent.
  void Close();

 private:
  RawFaultHandler() = default;
  void Serve();
  void Resolve(uint64_t address, std::byte* buffer);

  int file_fd_ = -1;
  int uffd_ = -1;
  int stop_fd_ = -1;
  std::byte* base_ = nullptr;
  uint64_t len_ = 0;
  uint64_t file_size_ = 0;
  std::atomic<uint64_t> copied_{0};
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_RAW_HANDLER_H_
