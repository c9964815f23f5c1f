// ChunkRing: a thread's io_uring for reading a batch of byte ranges at once, each to its
// own buffer, every one read whole (short reads are continued, EINTR/EAGAIN retried).
//
// A BlobProvider's loop thread submits the reads of every chunk a request needs (and its
// read-ahead) in one go and decompresses each as soon as its read is in, while the others
// are still being read. One ring per thread, made on first use; a thread whose ring the
// kernel refuses (or that broke) gets none, and its caller reads with pread. (A ring that
// breaks while waiting, which the kernel does not do in practice, has its unfinished reads
// redone with pread; a read still in the kernel writes the same bytes to the same buffer.)
#ifndef UPAGER_SRC_PROVIDERS_CHUNK_RING_H_
#define UPAGER_SRC_PROVIDERS_CHUNK_RING_H_

#include <liburing.h>

#include <cstddef>
#include <cstdint>

namespace upager::internal {

class ChunkRing {
 public:
  static constexpr size_t kDepth = 16;  // reads in one batch at most

  struct Read {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint8_t* buffer = nullptr;
    uint64_t done = 0;      // bytes read (fewer than length: the file ended)
    int error = 0;          // an errno, or 0
    bool complete = false;  // done and error are final
  };

  // The calling thread's ring, or null if io_uring cannot be used.
  static ChunkRing* ForThisThread();

  ~ChunkRing();
  ChunkRing(const ChunkRing&) = delete;
  ChunkRing& operator=(const ChunkRing&) = delete;

  // Starts the `n` (at most kDepth) reads of `reads`, which must stay put until each is
  // complete. Reads the ring could not take are done with pread before this returns.
  void Submit(Read* reads, size_t n);
  // Returns once `read` (of the batch last submitted) is complete.
  void WaitFor(Read* read);
  // Returns once every read of the batch is complete.
  void WaitAll();

 private:
  ChunkRing() = default;
  bool Init();
  bool Queue(size_t i, bool first);  // prepares the (rest of the) read of reads_[i]
  void Reap();                       // waits for one completion at least, handles all in
  static void Pread(Read* read);

  io_uring ring_{};
  bool ready_ = false;
  bool broken_ = false;
  Read* reads_ = nullptr;
  size_t count_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_CHUNK_RING_H_
