#include "providers/lane_ring.h"

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "base/full_io.h"
#include "upager/status.h"

namespace upager::internal {
namespace {
thread_local std::unique_ptr<LaneRing> t_ring;
thread_local bool t_refused = false;  // io_uring refused on this thread: never tried again
}  // namespace

LaneRing* LaneRing::IfThisThread() { return t_ring.get(); }

LaneRing* LaneRing::ForThisThread() {
  // UPAGER_NO_LANE_READS: misses go to the providers' I/O threads, as before lanes had rings
  // (for comparisons, and a way out should a kernel's io_uring misbehave).
  static const bool disabled = std::getenv("UPAGER_NO_LANE_READS") != nullptr;
  SideWork* side = SideWork::Current();
  if (side == nullptr || t_refused || disabled) return nullptr;
  if (!t_ring) {
    std::unique_ptr<LaneRing> ring(new LaneRing());
    if (!ring->Init()) {
      t_refused = true;
      return nullptr;
    }
    t_ring = std::move(ring);
  }
  if (!t_ring->watched_) {
    if (!side->Add(t_ring->ring_.ring_fd, t_ring.get())) return nullptr;
    t_ring->watched_ = true;
  }
  return t_ring.get();
}

bool LaneRing::Init() {
  ready_ = io_uring_queue_init(2 * kSlots, &ring_, 0) == 0;
  return ready_;
}

LaneRing::~LaneRing() {
  // OnStop has finished every read (a ring is only used while its loop runs).
  if (ready_) io_uring_queue_exit(&ring_);
  for (Slot& slot : slots_) std::free(slot.buffer);
}

bool LaneRing::Queue(size_t i) {
  Slot& slot = slots_[i];
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  io_uring_prep_read(sqe, slot.fd, slot.buffer + slot.done,
                     static_cast<unsigned>(slot.length - slot.done), slot.offset + slot.done);
  io_uring_sqe_set_data64(sqe, i);
  return true;
}

bool LaneRing::Start(Client* client, int fd, uint64_t offset, uint64_t length) {
  if (!ready_ || !watched_ || busy_ == kSlots || length == 0 || length > kSlotBytes) {
    return false;
  }
  size_t i = 0;
  while (slots_[i].client != nullptr) ++i;
  Slot& slot = slots_[i];
  if (slot.buffer == nullptr) {
    slot.buffer = static_cast<std::byte*>(std::aligned_alloc(kPageSize, kSlotBytes));
    if (slot.buffer == nullptr) return false;
  }
  slot.client = client;
  slot.fd = fd;
  slot.offset = offset;
  slot.length = length;
  slot.done = 0;
  if (!Queue(i)) {
    slot.client = nullptr;
    return false;
  }
  ++busy_;
  // Submitted now: the read starts while the fault thread goes on with other faults.
  for (;;) {
    const int r = io_uring_submit(&ring_);
    if (r >= 0) return true;
    if (r == -EINTR || r == -EAGAIN) continue;
    // The ring refuses work: this read is not started (its entry is never submitted) and
    // the ring takes no more; the caller reads another way.
    ready_ = false;
    --busy_;
    slot.client = nullptr;
    return false;
  }
}

void LaneRing::Finish(size_t i, int error) {
  Slot& slot = slots_[i];
  Client* client = slot.client;
  client->ReadDone(slot.offset, slot.length, slot.buffer, error != 0 ? 0 : slot.done, error);
  slot.client = nullptr;
  --busy_;
}

bool LaneRing::HandleCompletions() {
  // Ended reads are collected first and their clients called after the ring has moved on,
  // so that a client may start reads from ReadDone.
  size_t ended[kSlots];
  int errors[kSlots];
  size_t count = 0;
  bool requeued = false;
  io_uring_cqe* cqe = nullptr;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const auto i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
    Slot& slot = slots_[i];
    const int res = cqe->res;
    if (res == -EINTR || res == -EAGAIN) {
      requeued = Queue(i) || requeued;
      continue;
    }
    if (res > 0) slot.done += static_cast<uint64_t>(res);
    if (res > 0 && slot.done < slot.length) {
      requeued = Queue(i) || requeued;  // short: the rest
      continue;
    }
    ended[count] = i;
    errors[count] = res < 0 ? -res : 0;
    ++count;
  }
  io_uring_cq_advance(&ring_, seen);
  if (requeued) io_uring_submit(&ring_);
  for (size_t k = 0; k < count; ++k) Finish(ended[k], errors[k]);
  return seen > 0;
}

void LaneRing::OnReady() { HandleCompletions(); }

void LaneRing::ReapOnce() {
  if (busy_ == 0) return;
  const int w = io_uring_submit_and_wait(&ring_, 1);
  if (w < 0 && w != -EINTR && w != -EAGAIN) {
    // Cannot wait on the ring: finish what is in flight with pread (a read still in the
    // kernel writes the same bytes to the same buffer) and take no more reads.
    ready_ = false;
    for (size_t i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[i];
      if (slot.client == nullptr) continue;
      const IoResult r = PreadFull(slot.fd, slot.buffer + slot.done, slot.length - slot.done,
                                   slot.offset + slot.done);
      slot.done += r.done;
      Finish(i, r.error);
    }
    return;
  }
  HandleCompletions();
}

void LaneRing::OnStop() {
  while (busy_ > 0) ReapOnce();
  watched_ = false;
}

}  // namespace upager::internal
