// One timed pass of `upager bench --faults`: faulting threads touch every page of a mapped
// file once (one checked 8-byte load per 4 KiB page), and what the pass cost the process.
//
// The file's content is a pattern (word 0 of page p is PagePattern(p)), so that every load
// is checked: a configuration that supplies a wrong page fails the run.
#ifndef UPAGER_TOOLS_UPAGER_FAULT_PASS_H_
#define UPAGER_TOOLS_UPAGER_FAULT_PASS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace upager::cli {

inline constexpr uint64_t kBenchPage = 4096;

// The first word of page `page` of a pattern file; word i of the page is this + i.
uint64_t PagePattern(uint64_t page);

// Writes a pattern file of `bytes` (a page multiple) and syncs it. False on any error.
bool WritePatternFile(const std::string& path, uint64_t bytes);

// Drops the file's clean pages from the page cache (posix_fadvise DONTNEED): a cold start on
// a disk; nothing on tmpfs, whose pages are the file.
void DropFileCache(const std::string& path);

// The pages each faulting thread touches, in order: thread t of `threads` takes the pages
// [pages*t/threads, pages*(t+1)/threads), ascending or shuffled with a fixed seed per
// thread. Every page appears exactly once.
std::vector<std::vector<uint32_t>> SplitPages(uint64_t pages, int threads, bool random);

struct PassResult {
  bool ok = false;              // every load read its page's pattern
  double seconds = 0;           // from releasing the threads to the last thread's last load
  uint64_t pages = 0;           // pages touched
  double context_switches = 0;  // voluntary + involuntary, the whole process, during the pass
  double cpu_seconds = 0;       // user + system CPU of the whole process during the pass
  uint64_t first_bad_page = 0;  // when !ok
};

// Starts one thread per list, releases them together and times the pass; the process's
// getrusage(RUSAGE_SELF) is read just before the release and just after the last thread
// ended, so every thread's share (fault threads, loop threads, I/O threads) is counted.
PassResult RunFaultPass(const std::byte* base, const std::vector<std::vector<uint32_t>>& lists);

}  // namespace upager::cli

#endif  // UPAGER_TOOLS_UPAGER_FAULT_PASS_H_
