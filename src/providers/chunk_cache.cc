#include "providers/chunk_cache.h"

#include <cstring>

namespace upager::internal {

ChunkCache::ChunkCache(size_t capacity, uint64_t chunk_bytes, uint64_t chunk_count)
    : capacity_(capacity),
      chunk_bytes_(chunk_bytes),
      memory_(capacity == 0 ? nullptr : new uint8_t[capacity * chunk_bytes]),
      slots_(capacity),
      slot_of_(capacity == 0 ? 0 : chunk_count, -1) {}

bool ChunkCache::Acquire(uint64_t chunk, Ref* out) {
  MutexLock lock(&mutex_);
  if (chunk >= slot_of_.size() || slot_of_[chunk] < 0) return false;
  const int i = slot_of_[chunk];
  Slot& slot = slots_[static_cast<size_t>(i)];
  ++slot.pins;
  slot.last_use = ++clock_;
  *out = Ref{i, memory_.get() + static_cast<size_t>(i) * chunk_bytes_};
  return true;
}

bool ChunkCache::Reserve(uint64_t chunk, Ref* out) {
  MutexLock lock(&mutex_);
  if (chunk >= slot_of_.size()) return false;
  int victim = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (slot.pins != 0) continue;
    if (victim < 0 || slot.chunk < 0 ||
        (slots_[static_cast<size_t>(victim)].chunk >= 0 &&
         slot.last_use < slots_[static_cast<size_t>(victim)].last_use)) {
      victim = static_cast<int>(i);
      if (slot.chunk < 0) break;  // an empty slot: nothing to throw out
    }
  }
  if (victim < 0) return false;
  Slot& slot = slots_[static_cast<size_t>(victim)];
  if (slot.chunk >= 0 && slot.ready) slot_of_[static_cast<uint64_t>(slot.chunk)] = -1;
  slot.chunk = static_cast<int64_t>(chunk);
  slot.ready = false;
  slot.pins = 1;
  slot.last_use = ++clock_;
  *out = Ref{victim, memory_.get() + static_cast<size_t>(victim) * chunk_bytes_};
  return true;
}

void ChunkCache::Publish(const Ref& ref) {
  MutexLock lock(&mutex_);
  Slot& slot = slots_[static_cast<size_t>(ref.slot)];
  const auto chunk = static_cast<uint64_t>(slot.chunk);
  // Two threads may have filled the same chunk (each into its own slot): the later one
  // wins, the earlier slot goes back empty once unpinned.
  if (const int old = slot_of_[chunk]; old >= 0 && old != ref.slot) {
    Slot& other = slots_[static_cast<size_t>(old)];
    other.ready = false;
    if (other.pins == 0) other.chunk = -1;
  }
  slot.ready = true;
  slot_of_[chunk] = ref.slot;
}

void ChunkCache::Release(Ref* ref) {
  if (ref->slot < 0) return;
  MutexLock lock(&mutex_);
  Slot& slot = slots_[static_cast<size_t>(ref->slot)];
  if (--slot.pins == 0 && !slot.ready) slot.chunk = -1;
  *ref = Ref{};
}

bool ChunkCache::CopyIfCached(uint64_t chunk, uint64_t offset, uint64_t len, void* dst) {
  if (offset > chunk_bytes_ || len > chunk_bytes_ - offset) return false;
  Ref ref;
  if (!Acquire(chunk, &ref)) return false;
  std::memcpy(dst, ref.data + offset, len);
  Release(&ref);
  return true;
}

size_t ChunkCache::cached_chunks() const {
  MutexLock lock(&mutex_);
  size_t n = 0;
  for (const Slot& slot : slots_) n += slot.ready ? 1 : 0;
  return n;
}

}  // namespace upager::internal
