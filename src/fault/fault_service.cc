#include "fault/fault_service.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/kernel_copy.h"
#include "base/overtime.h"
#include "base/side_work.h"
#include "base/telemetry.h"
#include "base/thread_state.h"
#include "fault/mapping_object.h"
#include "pager/inline_loops.h"
#include "upager/thread.h"

namespace upager::internal {

// A fault thread and the userfaultfd only it reads.
struct FaultService::Lane {
  Userfaultfd uffd;
  std::thread thread;
  size_t mappings = 0;              // registered with it (under FaultService::mutex_)
  std::atomic<uint64_t> faults{0};  // fault messages read, for tests
};

struct FaultService::Generation {
  std::vector<std::unique_ptr<Lane>> lanes;
  int stop_fd = -1;
  ~Generation() {
    if (stop_fd >= 0) ::close(stop_fd);
  }
};

namespace {

// The statuses behind recent SIGBUSes, readable from a signal handler: a small ring of
// (page, status) pairs written before the signal is sent. The newest entry for a page wins.
class FailureLog {
 public:
  void Record(uintptr_t page, Status status) {
    const uint64_t seq = next_.fetch_add(1, std::memory_order_relaxed);
    Slot& slot = slots_[seq % slots_.size()];
    slot.page.store(0, std::memory_order_relaxed);  // invalid while being rewritten
    slot.status.store(static_cast<int32_t>(status), std::memory_order_relaxed);
    slot.seq.store(seq, std::memory_order_relaxed);
    slot.page.store(page, std::memory_order_release);
  }
  // Forgets [start, start+len) (its mapping is gone; the addresses may be reused).
  void Forget(uintptr_t start, uint64_t len) {
    for (Slot& slot : slots_) {
      const uintptr_t page = slot.page.load(std::memory_order_acquire);
      if (page >= start && page - start < len) {
        uintptr_t expected = page;
        slot.page.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
      }
    }
  }
  bool Find(uintptr_t page, Status* out) const {
    bool found = false;
    uint64_t best = 0;
    for (const Slot& slot : slots_) {
      if (slot.page.load(std::memory_order_acquire) != page) continue;
      const uint64_t seq = slot.seq.load(std::memory_order_relaxed);
      if (!found || seq > best) {
        found = true;
        best = seq;
        *out = static_cast<Status>(slot.status.load(std::memory_order_relaxed));
      }
    }
    return found;
  }

 private:
  struct Slot {
    std::atomic<uintptr_t> page{0};
    std::atomic<int32_t> status{0};
    std::atomic<uint64_t> seq{0};
  };
  std::array<Slot, 256> slots_;
  std::atomic<uint64_t> next_{0};
};

FailureLog& Failures() {
  static FailureLog* log = new FailureLog;  // never destroyed: signal handlers may read it
  return *log;
}

// Which threads sleep in a fault waiting for a pager: a fixed table, so that marking a
// fault allocates nothing; scanned only by IsBlockedOnPager.
std::array<std::atomic<pid_t>, 1024> g_blocked_tids{};

bool IsFaultBlocked(int tid) {
  for (const auto& slot : g_blocked_tids) {
    if (slot.load(std::memory_order_acquire) == tid) return true;
  }
  return false;
}

constexpr uintptr_t kPageMask = ~static_cast<uintptr_t>(kPageSize - 1);

std::atomic<bool> g_drop_next_fault{false};
std::atomic<uint64_t> g_watch_scans{0};

// Periodic work shared by the fault threads: true for the one thread whose turn it is
// (`interval_ns` since the last turn, recorded in *last), false for all others.
bool TakeTurn(std::atomic<int64_t>* last, uint64_t now, int64_t interval_ns) {
  const auto now_ns = static_cast<int64_t>(now);
  int64_t previous = last->load(std::memory_order_relaxed);
  return now_ns - previous >= interval_ns &&
         last->compare_exchange_strong(previous, now_ns, std::memory_order_relaxed);
}

}  // namespace

void FaultService::DropNextFaultForTesting() {
  g_drop_next_fault.store(true, std::memory_order_relaxed);
}

uint64_t FaultService::WatchScansForTesting() {
  return g_watch_scans.load(std::memory_order_relaxed);
}

int FaultService::LaneForTesting(const void* start) {
  FaultService& self = Get();
  MutexLock lock(&self.mutex_);
  auto it = self.ranges_.find(reinterpret_cast<uintptr_t>(start));
  if (it == self.ranges_.end() || it->second.first_lane == nullptr || self.generation_ == nullptr) {
    return -1;
  }
  const auto& lanes = self.generation_->lanes;
  for (size_t i = 0; i < lanes.size(); ++i) {
    if (lanes[i].get() == it->second.first_lane) return static_cast<int>(i);
  }
  return -1;
}

uint32_t FaultService::StripesForTesting(const void* start, uint64_t* stripe) {
  FaultService& self = Get();
  MutexLock lock(&self.mutex_);
  auto it = self.ranges_.find(reinterpret_cast<uintptr_t>(start));
  if (it == self.ranges_.end()) return 0;
  const Stripes& s = it->second.stripes;
  *stripe = s.count > 1 ? uint64_t{1} << s.shift : 0;
  return s.count;
}

uint64_t FaultService::LaneFaultsForTesting(int lane) {
  FaultService& self = Get();
  MutexLock lock(&self.mutex_);
  if (self.generation_ == nullptr || lane < 0 ||
      static_cast<size_t>(lane) >= self.generation_->lanes.size()) {
    return 0;
  }
  return self.generation_->lanes[static_cast<size_t>(lane)]->faults.load(std::memory_order_relaxed);
}

namespace {
// The service once Get has made it (IfCreated reads it from signal handlers).
std::atomic<FaultService*> g_created{nullptr};
}  // namespace

FaultService& FaultService::Get() {
  // Never destroyed: fault threads and late mapping destructors may still use it at exit.
  static FaultService* service = [] {
    SetFaultBlockedQuery(&IsFaultBlocked);
    SetFaultSuspendHooks(&FaultService::OnSuspendChanged, &FaultService::IsHeld);
    KernelCopyScope::SetCloseHook(&FaultService::ClearPoisons);
    ServeHolderMappings();  // other processes' mappings of this process's VMOs
    auto* made = new FaultService;
    g_created.store(made, std::memory_order_release);
    return made;
  }();
  return *service;
}

FaultService* FaultService::IfCreated() { return g_created.load(std::memory_order_acquire); }

int FaultService::MarkBlocked(pid_t tid) {
  for (size_t i = 0; i < g_blocked_tids.size(); ++i) {
    pid_t expected = 0;
    if (g_blocked_tids[i].compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void FaultService::UnmarkBlocked(int token) {
  if (token >= 0) g_blocked_tids[static_cast<size_t>(token)].store(0, std::memory_order_release);
}

Status FaultService::Support(std::string* why) {
  MutexLock lock(&mutex_);
  if (!probed_) {
    probed_ = true;
    Userfaultfd probe;
    if (std::getenv("UPAGER_NO_USERFAULTFD") != nullptr) {
      // For testing the fallback, and for users who want to be sure nothing is mapped.
      support_ = Status::kNotSupported;
      why_ = "disabled by UPAGER_NO_USERFAULTFD";
    } else {
      support_ = probe.Open(&why_);
    }
    if (support_ != Status::kOk) {
      std::fprintf(stderr,
                   "upager: mappings unavailable (%s); Mapping::Create returns kNotSupported\n",
                   why_.c_str());
    }
  }
  if (why) *why = why_;
  return support_;
}

Status FaultService::SetThreads(size_t threads) {
  if (threads == 0 || threads > 64) return Status::kInvalidArgs;
  MutexLock lock(&mutex_);
  threads_ = threads;
  return Status::kOk;
}

Status FaultService::Attach(MappingObject* mapping, uintptr_t start, uint64_t len, bool faults,
                            std::shared_ptr<Generation>* generation, Stripes* stripes) {
  if (faults) {
    if (Status s = Support(nullptr); s != Status::kOk) return s;
  }
  MutexLock lock(&mutex_);
  Lane* lane = nullptr;
  Stripes assigned;
  if (faults) {
    if (generation_ == nullptr) {
      auto fresh = std::make_shared<Generation>();
      fresh->stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (fresh->stop_fd < 0) return Status::kNoResources;
      for (size_t i = 0; i < threads_; ++i) {
        auto next = std::make_unique<Lane>();
        std::string why;
        if (Status s = next->uffd.Open(&why); s != Status::kOk) {
          if (i == 0) return s;
          break;  // fewer lanes than asked for (out of descriptors): still correct
        }
        fresh->lanes.push_back(std::move(next));
      }
      for (auto& each : fresh->lanes) {
        each->thread = std::thread([this, g = fresh, l = each.get()] { Run(g, l); });
      }
      generation_ = std::move(fresh);
    }
    // The lane with the fewest mappings (the first of equals) takes it, or its first stripe.
    auto& lanes = generation_->lanes;
    size_t first = 0;
    for (size_t i = 0; i < lanes.size(); ++i) {
      if (lanes[i]->mappings < lanes[first]->mappings) first = i;
    }
    lane = lanes[first].get();
    // Stripes of at least kMinStripe, at most kMaxStripes of them (each is a VMA of its own
    // once its neighbours are registered with other userfaultfds), dealt out in turn.
    const size_t used =
        lanes.size() > 1 && len >= 2 * kMinStripe ? std::min(lanes.size(), Stripes::kMaxLanes) : 1;
    if (used > 1) {
      uint32_t shift = 21;  // kMinStripe
      while ((len >> shift) > kMaxStripes) ++shift;
      assigned.shift = shift;
    }
    assigned.count = static_cast<uint32_t>(used);
    for (size_t k = 0; k < used; ++k) {
      Lane* each = lanes[(first + k) % lanes.size()].get();
      ++each->mappings;
      assigned.uffd[k] = &each->uffd;
    }
    ++faulting_mappings_;
    *generation = generation_;
    *stripes = assigned;
  }
  ranges_[start] = Entry{mapping, len, 0, assigned, lane};
  return Status::kOk;
}

void FaultService::Detach(MappingObject* mapping, bool faults, const Stripes& stripes) {
  std::shared_ptr<Generation> stopping;
  struct Piece {
    uintptr_t start;
    uint64_t len;
  };
  std::vector<Piece> pieces;
  {
    MutexLock lock(&mutex_);
    // Every piece of it still registered (a replace may have cut it up, or taken it whole).
    for (auto it = ranges_.begin(); it != ranges_.end();) {
      if (it->second.mapping != mapping) {
        ++it;
        continue;
      }
      while (it->second.users > 0) idle_.Wait(&mutex_);
      pieces.push_back({it->first, it->second.len});
      it = ranges_.erase(it);
    }
    if (generation_ != nullptr) {
      for (auto& lane : generation_->lanes) {
        for (uint32_t k = 0; k < stripes.count; ++k) {
          if (stripes.uffd[k] == &lane->uffd) --lane->mappings;
        }
      }
    }
    if (faults && --faulting_mappings_ == 0) stopping = std::move(generation_);
  }
  if (faults) {
    for (const Piece& piece : pieces) Failures().Forget(piece.start, piece.len);
  }
  if (stopping) Stop(std::move(stopping));
}

void FaultService::Stop(std::shared_ptr<Generation> generation) {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(generation->stop_fd, &one, sizeof(one));
  for (auto& lane : generation->lanes) {
    if (lane->thread.get_id() == std::this_thread::get_id()) {
      lane->thread.detach();  // the last mapping went away on a fault thread; it exits by itself
    } else {
      lane->thread.join();
    }
  }
}

void FaultService::Run(const std::shared_ptr<Generation>& generation, Lane* lane) {
  const int uffd = lane->uffd.fd();
  // Reads that fault fillers started on this thread, and the like (side_work.h); declared
  // first so that it ends last: its watchers finish their work once the loop is over.
  SideWork side;
  pollfd fds[2 + SideWork::kMaxWatches] = {{uffd, POLLIN, 0}, {generation->stop_fd, POLLIN, 0}};
  uffd_msg msgs[32];
  for (;;) {
    // While faults wait for a pager, wake up now and then to hold them to the overtime
    // limits; otherwise sleep until a fault comes.
    // Otherwise, now and then, look for faults nobody knows of (untracked_faults.h).
    const bool waiting = waiting_faults.load(std::memory_order_relaxed) > 0;
    const int64_t watch_ms = WatchInterval().count();
    const int timeout_ms = waiting        ? static_cast<int>(ScanInterval().count())
                           : watch_ms > 0 ? static_cast<int>(watch_ms)
                                          : -1;
    const size_t watched = side.Fill(fds + 2);
    const int ready = ::poll(fds, 2 + watched, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (waiting) ScanOvertime();
    if (watch_ms > 0) WatchUntracked();
    if (ready == 0) continue;
    // Completions first: they wake faulting threads, and may answer faults read below.
    if (watched > 0) side.Dispatch(fds + 2, watched);
    if (fds[0].revents == 0) continue;
    const ssize_t n = ::read(uffd, msgs, sizeof(msgs));
    if (n <= 0) continue;  // EAGAIN: another thread took them
    lane->faults.fetch_add(static_cast<uint64_t>(n) / sizeof(uffd_msg), std::memory_order_relaxed);
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); ++i) {
      const uffd_msg& msg = msgs[i];
      if (msg.event != UFFD_EVENT_PAGEFAULT) continue;
      if (g_drop_next_fault.load(std::memory_order_relaxed) &&
          g_drop_next_fault.exchange(false, std::memory_order_relaxed)) {
        continue;
      }
      const uint64_t flags = msg.arg.pagefault.flags;
      if ((flags & UFFD_PAGEFAULT_FLAG_MINOR) != 0) {
        DispatchMinor(lane->uffd, static_cast<uintptr_t>(msg.arg.pagefault.address));
        continue;
      }
      Dispatch(lane->uffd, static_cast<uintptr_t>(msg.arg.pagefault.address),
               (flags & UFFD_PAGEFAULT_FLAG_WRITE) != 0, (flags & UFFD_PAGEFAULT_FLAG_WP) != 0,
               static_cast<pid_t>(msg.arg.pagefault.feat.ptid));
    }
    // Pagers that asked to be served here answer the requests just made.
    InlineLoops::Get().PollAll();
  }
}

std::chrono::milliseconds FaultService::ScanInterval() {
  return OvertimeScanInterval(GetPagerTimeouts());
}

std::chrono::milliseconds FaultService::WatchInterval() {
  const PagerTimeouts t = GetPagerTimeouts();
  const std::chrono::milliseconds limit =
      t.overtime_wait.count() > 0 ? t.overtime_wait : t.overtime_timeout;
  if (limit.count() <= 0) return std::chrono::milliseconds(0);
  return std::clamp(limit / 2, std::chrono::milliseconds(50), std::chrono::milliseconds(10000));
}

void FaultService::WatchUntracked() {
  const int64_t interval_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(WatchInterval()).count();
  if (!TakeTurn(&last_watch_ns_, SteadyNowNs(), interval_ns)) return;
  std::vector<pid_t> confirmed;
  {
    MutexLock lock(&watch_mutex_);
    // A thread whose fault a suspension holds sleeps there on purpose (held_faults.cc).
    watch_.Scan([](pid_t tid) { return IsFaultBlocked(tid) || IsHeld(tid); }, &confirmed);
  }
  g_watch_scans.fetch_add(1, std::memory_order_relaxed);
  if (confirmed.empty()) return;
  for (pid_t tid : confirmed) {
    internal::telemetry::UntrackedFault();
    std::fprintf(stderr,
                 "upager: thread %d slept in a page fault that upager had no record of for "
                 "over %lld ms (a lost fault or wake-up); waking it to retry\n",
                 static_cast<int>(tid), static_cast<long long>(interval_ns / 1'000'000));
  }
  // The woken threads retry their accesses; those whose pages are still missing fault
  // again, and those faults are handled. Threads whose faults are tracked are woken too,
  // harmlessly: they fault again and join the request they were waiting on.
  MutexLock lock(&mutex_);
  for (const auto& [start, entry] : ranges_) {
    // Each of its lanes: a wake on a userfaultfd wakes only the threads faulting through it.
    for (uint32_t k = 0; k < entry.stripes.count; ++k)
      entry.stripes.uffd[k]->Wake(start, entry.len);
  }
}

void FaultService::ScanOvertime() {
  const auto now = std::chrono::steady_clock::now();
  const int64_t interval_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(ScanInterval()).count();
  if (!TakeTurn(&last_scan_ns_, SteadyNs(now), interval_ns)) return;
  ForEachMapping([now](MappingObject* mapping) { mapping->CheckOvertime(now); });
}

FaultService::Entry* FaultService::EnterRange(uintptr_t page) {
  MutexLock lock(&mutex_);
  // A fault in a range being replaced is dispatched once the replacement is registered.
  while (page >= replacing_start_ && page - replacing_start_ < replacing_len_) {
    idle_.Wait(&mutex_);
  }
  auto it = ranges_.upper_bound(page);
  if (it == ranges_.begin()) return nullptr;
  --it;
  if (page - it->first >= it->second.len) return nullptr;
  ++it->second.users;
  return &it->second;
}

void FaultService::LeaveRange(Entry* entry) {
  MutexLock lock(&mutex_);
  if (--entry->users == 0) idle_.NotifyAll();
}

void FaultService::Dispatch(const Userfaultfd& uffd, uintptr_t address, bool write, bool wp,
                            pid_t tid) {
  internal::telemetry::Fault(address, write);
  const uintptr_t page = address & kPageMask;
  Entry* entry = EnterRange(page);
  if (entry == nullptr) {
    // Unmapped since the fault was raised: the retried access finds nothing (SIGSEGV).
    uffd.Wake(page, kPageSize);
    return;
  }
  entry->mapping->OnFault(address, write, wp, tid);
  LeaveRange(entry);
}

void FaultService::FailAccess(const Userfaultfd& uffd, uintptr_t address, pid_t tid,
                              Status status) {
  const uintptr_t page = address & kPageMask;
  Failures().Record(page, status);
  // A thread copying in the kernel for a library call cannot be stopped by a signal: fail
  // its copy instead (the poisoned page makes it EFAULT); the call returns the status.
  if (uffd.has_poison() && KernelCopyScope::FailCopy(tid, status)) {
    {
      MutexLock lock(&mutex_);
      poisoned_.push_back({tid, page});
    }
    // A write-protect marker would be in the way (poison takes an empty entry only); the
    // close hook re-arms it.
    uffd.ClearWriteProtectMarker(page, kPageSize);
    if (uffd.Poison(page, kPageSize)) return;
  }
  // Only the kernel may send another thread a SIGBUS with BUS_ADRERR; a queued signal
  // carries the address in the same place (si_addr), with si_code SI_QUEUE.
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  info.si_signo = SIGBUS;
  info.si_code = SI_QUEUE;
  info.si_addr = reinterpret_cast<void*>(address);
  ::syscall(SYS_rt_tgsigqueueinfo, ::getpid(), tid, SIGBUS, &info);
  // The pending signal interrupts the fault; waking also covers a thread that blocks SIGBUS
  // (it retries the access, which asks the pager again).
  uffd.Wake(page, kPageSize);
}

void FaultService::ClearPoisons(int tid) {
  FaultService& self = Get();
  MutexLock lock(&self.mutex_);
  for (auto it = self.poisoned_.begin(); it != self.poisoned_.end();) {
    if (it->tid != tid) {
      ++it;
      continue;
    }
    // Zapping the entry removes the marker; a writable mapping then re-arms write
    // protection there (the page is clean whenever it comes back).
    auto range = self.ranges_.upper_bound(it->page);
    if (range != self.ranges_.begin()) {
      --range;
      if (it->page - range->first < range->second.len) {
        ::madvise(reinterpret_cast<void*>(it->page), kPageSize, MADV_DONTNEED);
        range->second.mapping->RearmWriteProtect(it->page);
      }
    }
    it = self.poisoned_.erase(it);
  }
}

void FaultService::ForgetFailures(uintptr_t start, uint64_t len) { Failures().Forget(start, len); }

Status FaultService::StatusForAddress(uintptr_t address) {
  const uintptr_t page = address & kPageMask;
  {
    // Beyond the end of a shrunk VMO the kernel raises SIGBUS itself, and that is what the
    // latest SIGBUS there was, whatever failed before.
    MutexLock lock(&mutex_);
    auto it = ranges_.upper_bound(page);
    if (it != ranges_.begin()) {
      --it;
      if (page - it->first < it->second.len && it->second.mapping->IsBeyondVmoEnd(page)) {
        return Status::kOutOfRange;
      }
    }
  }
  Status status;
  if (Failures().Find(page, &status)) return status;
  return Status::kNotFound;
}

}  // namespace upager::internal
