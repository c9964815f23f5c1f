#include "providers/chunk_ring.h"

#include <cerrno>
#include <memory>

#include "base/full_io.h"

namespace upager::internal {

ChunkRing* ChunkRing::ForThisThread() {
  thread_local std::unique_ptr<ChunkRing> t_ring;
  thread_local bool t_tried = false;
  if (!t_tried) {
    t_tried = true;
    std::unique_ptr<ChunkRing> ring(new ChunkRing());
    if (ring->Init()) t_ring = std::move(ring);
  }
  return t_ring && !t_ring->broken_ ? t_ring.get() : nullptr;
}

bool ChunkRing::Init() {
  ready_ = io_uring_queue_init(kDepth, &ring_, 0) == 0;
  return ready_;
}

ChunkRing::~ChunkRing() {
  if (ready_) io_uring_queue_exit(&ring_);
}

void ChunkRing::Pread(Read* read) {
  const IoResult r = PreadFull(read->fd, read->buffer, read->length, read->offset);
  read->done = r.done;
  read->error = r.error;
  read->complete = true;
}

bool ChunkRing::Queue(size_t i, bool first) {
  Read& read = reads_[i];
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return false;
  io_uring_prep_read(sqe, read.fd, read.buffer + read.done,
                     static_cast<unsigned>(read.length - read.done), read.offset + read.done);
  io_uring_sqe_set_data64(sqe, i);
  if (first) ++in_flight_;
  return true;
}

void ChunkRing::Submit(Read* reads, size_t n) {
  reads_ = reads;
  count_ = n;
  in_flight_ = 0;
  size_t queued = 0;
  while (queued < n && Queue(queued, true)) ++queued;
  for (;;) {
    const int r = io_uring_submit(&ring_);
    if (r >= 0 || (r != -EINTR && r != -EAGAIN)) {
      if (r < 0) {
        // The ring took nothing and never will: this thread reads with pread from now on.
        broken_ = true;
        in_flight_ = 0;
        queued = 0;
      }
      break;
    }
  }
  for (size_t i = queued; i < n; ++i) Pread(&reads_[i]);
}

void ChunkRing::Reap() {
  // Submits what is queued (a continued read, or what a short submit left) and waits.
  const int w = io_uring_submit_and_wait(&ring_, 1);
  if (w < 0 && w != -EINTR && w != -EAGAIN) {
    // Cannot wait on the ring: finish what is left with pread and use the ring no more.
    broken_ = true;
    for (size_t i = 0; i < count_; ++i) {
      if (!reads_[i].complete) Pread(&reads_[i]);
    }
    in_flight_ = 0;
    return;
  }
  io_uring_cqe* cqe = nullptr;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const auto i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
    Read& read = reads_[i];
    const int res = cqe->res;
    if (res == -EINTR || res == -EAGAIN) {
      Queue(i, false);  // again; submitted by the next wait
      continue;
    }
    if (res > 0) read.done += static_cast<uint64_t>(res);
    if (res > 0 && read.done < read.length) {
      Queue(i, false);  // short: the rest
      continue;
    }
    read.error = res < 0 ? -res : 0;
    read.complete = true;
    --in_flight_;
  }
  io_uring_cq_advance(&ring_, seen);
}

void ChunkRing::WaitFor(Read* read) {
  while (!read->complete && in_flight_ > 0 && !broken_) Reap();
  if (!read->complete) Pread(read);
}

void ChunkRing::WaitAll() {
  while (in_flight_ > 0 && !broken_) Reap();
  for (size_t i = 0; i < count_; ++i) {
    if (!reads_[i].complete) Pread(&reads_[i]);
  }
}

}  // namespace upager::internal
