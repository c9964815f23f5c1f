#include "providers/request_queue.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "base/clock.h"

namespace upager::internal {

bool RequestQueue::Push(uint64_t offset, uint64_t length, uint64_t queued_ns) {
  if (queued_ns == 0) queued_ns = SteadyNowNs();
  {
    MutexLock lock(&mutex_);
    if (closed_) return false;
    pending_.push_back({{offset, length}, queued_ns});
    cv_.NotifyOne();
  }
  if (notify_) notify_();
  return true;
}

bool RequestQueue::WaitPending() {
  MutexLock lock(&mutex_);
  while (pending_.empty() && !closed_) cv_.Wait(&mutex_);
  return !closed_ || !pending_.empty();
}

bool RequestQueue::HasPending() {
  MutexLock lock(&mutex_);
  return !pending_.empty();
}

std::vector<ByteRange> RequestQueue::TakeMerged() {
  std::vector<Pending> pending;
  std::vector<ByteRange> pieces;
  std::vector<ByteRange> covers;
  MutexLock lock(&mutex_);
  pending.swap(pending_);
  for (const Pending& p : pending) {
    // What already answers this request: reads in flight, and reads that ended after it
    // was queued.
    covers.clear();
    for (const auto& [start, end] : in_flight_) {
      if (start < p.range.end() && end > p.range.offset) covers.push_back({start, end - start});
    }
    for (const Ended& e : ended_) {
      if (e.end_ns > p.queued_ns && e.range.offset < p.range.end() &&
          e.range.end() > p.range.offset) {
        covers.push_back(e.range);
      }
    }
    std::sort(covers.begin(), covers.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
    uint64_t start = p.range.offset;
    for (const ByteRange& c : covers) {
      if (c.offset > start) pieces.push_back({start, std::min(c.offset, p.range.end()) - start});
      start = std::max(start, c.end());
      if (start >= p.range.end()) break;
    }
    if (start < p.range.end()) pieces.push_back({start, p.range.end() - start});
  }
  // Forget flights that ended long ago.
  const uint64_t now = SteadyNowNs();
  const auto old = std::find_if(ended_.begin(), ended_.end(),
                                [now](const Ended& e) { return e.end_ns + kEndedMemory > now; });
  ended_.erase(ended_.begin(), old);
  std::sort(pieces.begin(), pieces.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  // Join adjacent and overlapping pieces, up to max_batch_ bytes a range.
  std::vector<ByteRange> out;
  for (const ByteRange& p : pieces) {
    if (out.empty() || p.offset > out.back().end()) {
      out.push_back(p);
      continue;
    }
    ByteRange& last = out.back();
    if (p.end() <= last.end()) continue;  // covered
    const uint64_t joined = p.end() - last.offset;
    if (joined <= max_batch_) {
      last.length = joined;
    } else {
      const uint64_t start = last.end();
      out.push_back({start, p.end() - start});
    }
  }
  return out;
}

uint64_t RequestQueue::StartFlight(uint64_t offset, uint64_t length) {
  MutexLock lock(&mutex_);
  auto it = in_flight_.upper_bound(offset);
  if (it != in_flight_.begin() && std::prev(it)->second > offset) return 0;
  uint64_t end = offset + length;
  if (it != in_flight_.end() && it->first < end) end = it->first;
  if (end <= offset) return 0;
  in_flight_.emplace(offset, end);
  return end - offset;
}

void RequestQueue::EndFlight(uint64_t offset, uint64_t length) {
  MutexLock lock(&mutex_);
  auto it = in_flight_.find(offset);
  if (it != in_flight_.end() && it->second == offset + length) {
    in_flight_.erase(it);
    // A packet stamped at this same nanosecond may come after the end: it is kept (the
    // comparison is strict), and at worst read again.
    last_ns_ = std::max(last_ns_, SteadyNowNs());
    if (ended_.size() == kMaxEnded) ended_.erase(ended_.begin());
    ended_.push_back({{offset, length}, last_ns_});
  }
}

ByteRange RequestQueue::ClearOfFlights(uint64_t offset, ByteRange range) {
  MutexLock lock(&mutex_);
  uint64_t lo = range.offset;
  uint64_t hi = range.end();
  auto it = in_flight_.upper_bound(offset);
  if (it != in_flight_.end()) hi = std::min(hi, it->first);
  if (it != in_flight_.begin()) {
    const uint64_t prev_end = std::prev(it)->second;
    if (prev_end > offset) return {};
    lo = std::max(lo, prev_end);
  }
  return {lo, hi > lo ? hi - lo : 0};
}

size_t RequestQueue::InFlight() {
  MutexLock lock(&mutex_);
  return in_flight_.size();
}

void RequestQueue::Close() {
  {
    MutexLock lock(&mutex_);
    closed_ = true;
    cv_.NotifyAll();
  }
  if (notify_) notify_();
}

bool RequestQueue::closed() {
  MutexLock lock(&mutex_);
  return closed_;
}

}  // namespace upager::internal
