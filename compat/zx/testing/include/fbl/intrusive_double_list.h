// fbl::DoublyLinkedList for the zx layer's test support (test-only; docs/zx-compat.md): an
// intrusive doubly linked list of std::unique_ptr<T> (or raw T*) whose elements derive from
// fbl::DoublyLinkedListable<PtrType>. The list owns its unique_ptr elements: erase and
// pop return them, and the list frees what is left when it goes. Written for upager with the
// members Fuchsia's pager test harness uses.
#ifndef UPAGER_COMPAT_FBL_INTRUSIVE_DOUBLE_LIST_H_
#define UPAGER_COMPAT_FBL_INTRUSIVE_DOUBLE_LIST_H_

#include <zircon/assert.h>

#include <cstddef>
#include <iterator>
#include <memory>

namespace fbl {

namespace internal {
template <typename Ptr>
struct PtrTraits;
template <typename T>
struct PtrTraits<std::unique_ptr<T>> {
  using Value = T;
  static T* Leak(std::unique_ptr<T>&& p) { return p.release(); }
  static std::unique_ptr<T> Reclaim(T* p) { return std::unique_ptr<T>(p); }
  static void Drop(T* p) { delete p; }
};
template <typename T>
struct PtrTraits<T*> {
  using Value = T;
  static T* Leak(T* p) { return p; }
  static T* Reclaim(T* p) { return p; }
  static void Drop(T*) {}
};
}  // namespace internal

template <typename PtrType>
class DoublyLinkedList;

// The links an element carries. An element is in at most one list at a time.
template <typename PtrType>
class DoublyLinkedListable {
 public:
  using Value = typename internal::PtrTraits<PtrType>::Value;
  DoublyLinkedListable() = default;
  DoublyLinkedListable(const DoublyLinkedListable&) {}
  DoublyLinkedListable& operator=(const DoublyLinkedListable&) { return *this; }
  bool InContainer() const { return in_list_; }

 private:
  friend class DoublyLinkedList<PtrType>;
  Value* prev_ = nullptr;
  Value* next_ = nullptr;
  bool in_list_ = false;
};

template <typename PtrType>
class DoublyLinkedList {
  using Traits = internal::PtrTraits<PtrType>;

 public:
  using ValueType = typename Traits::Value;
  using PtrTraits = Traits;

  template <typename V>
  class Iter {
   public:
    using iterator_category = std::bidirectional_iterator_tag;
    using value_type = ValueType;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;

    Iter() = default;
    V& operator*() const { return *node_; }
    V* operator->() const { return node_; }
    Iter& operator++() {
      node_ = Links(node_).next_;
      return *this;
    }
    Iter operator++(int) {
      Iter old = *this;
      ++*this;
      return old;
    }
    Iter& operator--() {
      node_ = node_ ? Links(node_).prev_ : list_->tail_;
      return *this;
    }
    bool operator==(const Iter& o) const { return node_ == o.node_; }
    bool operator!=(const Iter& o) const { return node_ != o.node_; }
    bool IsValid() const { return node_ != nullptr; }

   private:
    friend class DoublyLinkedList;
    Iter(const DoublyLinkedList* list, V* node) : list_(list), node_(node) {}
    const DoublyLinkedList* list_ = nullptr;
    V* node_ = nullptr;
  };
  using iterator = Iter<ValueType>;
  using const_iterator = Iter<const ValueType>;

  DoublyLinkedList() = default;
  DoublyLinkedList(const DoublyLinkedList&) = delete;
  DoublyLinkedList& operator=(const DoublyLinkedList&) = delete;
  DoublyLinkedList(DoublyLinkedList&& other) noexcept { swap(other); }
  DoublyLinkedList& operator=(DoublyLinkedList&& other) noexcept {
    clear();
    swap(other);
    return *this;
  }
  ~DoublyLinkedList() { clear(); }

  bool is_empty() const { return head_ == nullptr; }
  size_t size_slow() const {
    size_t n = 0;
    for (ValueType* v = head_; v; v = Links(v).next_) ++n;
    return n;
  }

  iterator begin() { return iterator(this, head_); }
  iterator end() { return iterator(this, nullptr); }
  const_iterator begin() const { return const_iterator(this, head_); }
  const_iterator end() const { return const_iterator(this, nullptr); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }

  ValueType& front() { return *head_; }
  const ValueType& front() const { return *head_; }
  ValueType& back() { return *tail_; }
  const ValueType& back() const { return *tail_; }

  void push_front(PtrType ptr) { InsertBefore(head_, Traits::Leak(std::move(ptr))); }
  void push_back(PtrType ptr) { InsertBefore(nullptr, Traits::Leak(std::move(ptr))); }
  // Inserts before `pos` (end() appends).
  void insert(const iterator& pos, PtrType ptr) {
    InsertBefore(pos.node_, Traits::Leak(std::move(ptr)));
  }

  PtrType pop_front() { return head_ ? erase(*head_) : PtrType(); }
  PtrType pop_back() { return tail_ ? erase(*tail_) : PtrType(); }

  // Removes `obj`, which must be in this list, and returns its ownership.
  PtrType erase(ValueType& obj) {
    auto& links = Links(&obj);
    ZX_DEBUG_ASSERT(links.in_list_);
    if (links.prev_) {
      Links(links.prev_).next_ = links.next_;
    } else {
      head_ = links.next_;
    }
    if (links.next_) {
      Links(links.next_).prev_ = links.prev_;
    } else {
      tail_ = links.prev_;
    }
    links.prev_ = links.next_ = nullptr;
    links.in_list_ = false;
    return Traits::Reclaim(&obj);
  }
  PtrType erase(const iterator& it) { return erase(*it); }

  template <typename Pred>
  PtrType erase_if(Pred pred) {
    for (ValueType* v = head_; v; v = Links(v).next_) {
      if (pred(*v)) return erase(*v);
    }
    return PtrType();
  }

  void clear() {
    while (head_) {
      PtrType dropped = erase(*head_);  // a unique_ptr frees its element here
    }
  }

  void swap(DoublyLinkedList& other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
  }

 private:
  static DoublyLinkedListable<PtrType>& Links(ValueType* v) {
    return *static_cast<DoublyLinkedListable<PtrType>*>(v);
  }
  static const DoublyLinkedListable<PtrType>& Links(const ValueType* v) {
    return *static_cast<const DoublyLinkedListable<PtrType>*>(v);
  }

  void InsertBefore(ValueType* pos, ValueType* obj) {
    auto& links = Links(obj);
    ZX_DEBUG_ASSERT(!links.in_list_);
    links.in_list_ = true;
    links.next_ = pos;
    links.prev_ = pos ? Links(pos).prev_ : tail_;
    if (links.prev_) {
      Links(links.prev_).next_ = obj;
    } else {
      head_ = obj;
    }
    if (pos) {
      Links(pos).prev_ = obj;
    } else {
      tail_ = obj;
    }
  }

  ValueType* head_ = nullptr;
  ValueType* tail_ = nullptr;
};

}  // namespace fbl

#endif  // UPAGER_COMPAT_FBL_INTRUSIVE_DOUBLE_LIST_H_
