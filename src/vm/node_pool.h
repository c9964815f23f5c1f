// NodePool and PoolAllocator: the nodes of one node-based container (a PageList's map of
// pages) carved out of a few large blocks rather than allocated one by one.
//
// A VMO's page map gets a node per page, in the order the pages arrive: random faults
// scatter them over the heap, so that the walk of every insert and lookup misses the cache
// and the TLB at nearly every level (the hottest user-space cost of a random fault). From a
// pool, the nodes of one map lie together, a handful of pages hold them all, and an insert
// is a pop from a free list (no malloc). Freed nodes go back on the list for the next
// insert; the blocks go with the pool. Not thread-safe: the container's lock covers it.
#ifndef UPAGER_SRC_VM_NODE_POOL_H_
#define UPAGER_SRC_VM_NODE_POOL_H_

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace upager::internal {

class NodePool {
 public:
  NodePool() = default;
  ~NodePool() {
    for (void* block : blocks_) ::operator delete (block, std::align_val_t{kBlockAlign});
  }
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // A block of `size` bytes aligned to `align` (at most kBlockAlign). The pool serves the
  // first size it is asked for; any other (a container's rare array) comes from the heap.
  void* Allocate(size_t size, size_t align) {
    if (!Serves(size, align)) return ::operator new (size, std::align_val_t{align});
    if (free_ != nullptr) {
      Free* node = free_;
      free_ = node->next;
      return node;
    }
    if (next_ == end_) Grow();
    void* node = next_;
    next_ += slot_;
    return node;
  }
  void Deallocate(void* p, size_t size, size_t align) {
    if (!Serves(size, align)) {
      ::operator delete (p, std::align_val_t{align});
      return;
    }
    auto* node = static_cast<Free*>(p);
    node->next = free_;
    free_ = node;
  }

 private:
  struct Free {
    Free* next;
  };
  static constexpr size_t kBlockAlign = 64;
  static constexpr size_t kFirstBlock = 4096;        // a small VMO's map fits in one page
  static constexpr size_t kLargestBlock = 1u << 20;  // blocks double up to this

  bool Serves(size_t size, size_t align) {
    if (slot_ == 0) {
      if (align > kBlockAlign) return false;
      size_ = size;
      slot_ = (std::max(size, sizeof(Free)) + align - 1) / align * align;
    }
    return size == size_ && align <= kBlockAlign;
  }
  void Grow() {
    const size_t bytes = std::max(block_bytes_, slot_);
    block_bytes_ = std::min(block_bytes_ * 2, kLargestBlock);
    blocks_.push_back(::operator new (bytes, std::align_val_t{kBlockAlign}));
    next_ = static_cast<char*>(blocks_.back());
    end_ = next_ + bytes / slot_ * slot_;
  }

  size_t size_ = 0;  // the size served
  size_t slot_ = 0;  // its slot, aligned
  Free* free_ = nullptr;
  char* next_ = nullptr;  // the unused rest of the newest block
  char* end_ = nullptr;
  size_t block_bytes_ = kFirstBlock;
  std::vector<void*> blocks_;
};

// A std allocator drawing single objects from a NodePool (arrays from the heap).
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;
  explicit PoolAllocator(NodePool* pool) : pool_(pool) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& other) : pool_(other.pool()) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (n != 1) return std::allocator<T>().allocate(n);
    return static_cast<T*>(pool_->Allocate(sizeof(T), alignof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n != 1) {
      std::allocator<T>().deallocate(p, n);
      return;
    }
    pool_->Deallocate(p, sizeof(T), alignof(T));
  }
  NodePool* pool() const { return pool_; }
  template <typename U>
  bool operator==(const PoolAllocator<U>& other) const {
    return pool_ == other.pool();
  }

 private:
  NodePool* pool_;
};

}  // namespace upager::internal

#endif  // UPAGER_SRC_VM_NODE_POOL_H_
