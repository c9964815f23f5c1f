// ChunkCache: a bounded cache of decompressed blob chunks, least recently used out first.
//
// It holds `capacity` chunks in buffers allocated once, when it is made: a hit copies out of
// a slot, a miss decompresses straight into the slot it reserved, so neither allocates. A
// slot is pinned while its bytes are read or written (outside the lock); only unpinned slots
// are reused. A reserved slot becomes visible to lookups only once Publish is called, after
// its chunk passed every check: a bad chunk is never cached.
//
// Thread-safe. The lock is held for a few field updates only, never across a copy, a read
// or a decompression, so a lookup never waits for I/O.
#ifndef UPAGER_SRC_PROVIDERS_CHUNK_CACHE_H_
#define UPAGER_SRC_PROVIDERS_CHUNK_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "upager/internal/mutex.h"
#include "upager/internal/thread_annotations.h"

namespace upager::internal {

class ChunkCache {
 public:
  // Room for `capacity` chunks of `chunk_bytes` bytes each (0: the cache is off) of a blob
  // of `chunk_count` chunks.
  ChunkCache(size_t capacity, uint64_t chunk_bytes, uint64_t chunk_count);
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  size_t capacity() const { return capacity_; }

  // A pinned slot: its bytes stay put until Release.
  struct Ref {
    int slot = -1;
    uint8_t* data = nullptr;
  };

  // Pins the slot of `chunk` if it is cached (and marks it most recently used).
  bool Acquire(uint64_t chunk, Ref* out);
  // Pins the least recently used unpinned slot for `chunk` to be filled; false if the cache
  // is off or every slot is pinned. The slot holds nothing until Publish.
  bool Reserve(uint64_t chunk, Ref* out);
  // The slot reserved for its chunk now holds it: lookups find it from now on.
  void Publish(const Ref& ref);
  // Unpins; a reserved slot that was never published goes back empty.
  void Release(Ref* ref);

  // Copies [offset, offset + len) of `chunk`'s bytes to `dst` if the chunk is cached;
  // false (nothing copied) otherwise or if the range leaves the chunk.
  bool CopyIfCached(uint64_t chunk, uint64_t offset, uint64_t len, void* dst);

  // Chunks cached (published) now.
  size_t cached_chunks() const;

 private:
  struct Slot {
    int64_t chunk = -1;  // the chunk it holds or is being filled with; -1: empty
    bool ready = false;  // published
    uint32_t pins = 0;
    uint64_t last_use = 0;
  };

  const size_t capacity_;
  const uint64_t chunk_bytes_;
  const std::unique_ptr<uint8_t[]> memory_;  // every slot's bytes, one after the other
  mutable Mutex mutex_;
  std::vector<Slot> slots_ UPAGER_GUARDED_BY(mutex_);
  // chunk -> its ready slot, or -1 (4 bytes a chunk: an eighth of what the blob's index
  // takes already); empty when the cache is off.
  std::vector<int32_t> slot_of_ UPAGER_GUARDED_BY(mutex_);
  uint64_t clock_ UPAGER_GUARDED_BY(mutex_) = 0;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_PROVIDERS_CHUNK_CACHE_H_
