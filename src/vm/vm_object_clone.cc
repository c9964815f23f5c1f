// VmObjectPaged: children (Vmo::CreateChild). Creation, the lookup of a page through the
// chain, and the Vmo API of read-through clones and slices. docs/clones.md describes the
// design; section numbers refer to docs/zircon-semantics.md.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "vm/retry_loop.h"
#include "vm/vm_mapping.h"
#include "vm/vm_object_impl.h"
#include "vm/vm_object_paged.h"

namespace upager::internal {

namespace {

// Zeros for a caller's buffer, read from a hole of a sparse memfd rather than stored with
// memset: the buffer may be mapped memory of this very tree, whose fault needs the tree
// lock we hold; a kernel copy that faults there fails (KernelCopyScope) instead of
// deadlocking.
Status ReadZeros(char* out, uint64_t len) {
  static constexpr uint64_t kZeroFileSize = 1ull << 30;
  static const int zero_fd = [] {
    int fd = -1;
    return MakeMemfd(kZeroFileSize, /*resizable=*/false, &fd) == Status::kOk ? fd : -1;
  }();
  if (zero_fd < 0) return Status::kNoResources;
  while (len > 0) {
    const uint64_t chunk = std::min(len, kZeroFileSize);
    if (Status s = PreadAll(zero_fd, out, chunk, 0); s != Status::kOk) return s;
    out += chunk;
    len -= chunk;
  }
  return Status::kOk;
}

}  // namespace

// ---- The tree ----

VmObjectPaged* VmObjectPaged::TreeRoot() const {
  auto* node = const_cast<VmObjectPaged*>(this);
  while (node->reads_through_parent()) node = node->parent_.get();
  return node;
}

VmObjectPaged::Where VmObjectPaged::Resolve(uint64_t page, bool from_parent) {
  VmObjectPaged* node = this;
  // Whether `node`'s own slots count: this node's (unless asked for its parent's view), and
  // the parent of a slice, whose pages the slice shares. A read-through child never sees its
  // parent's slots: it copied them when it was created (CreateChild), so a clone's later
  // forks stay its own (snapshot-modified semantics, docs/clones.md).
  bool own_slots = !from_parent;
  // Whether `node`'s own shrink counts: this node's view (whether or not its slots are
  // looked at), and a slice's parent's; not a read-through child's view through its parent.
  bool own_view = true;
  for (;;) {
    Impl& n = *node->impl_;
    n.mutex.AssertHeld();  // every node of the tree shares the lock the caller holds
    if (!node->reads_through_parent()) {
      // The root: an anonymous one has every byte in its storage (holes read zero); a
      // pager-backed one has what its page list says is there.
      if (node->source_ == nullptr || n.pages.Lookup(page) != SlotKind::kAbsent) {
        return {Where::kStorage, node, page};
      }
      return {Where::kMissing, node, page};
    }
    // A slot of a read-through clone (a forked page or a zero marker) is its own content.
    if (own_slots && node->kind_ == ChildKind::kReadThrough &&
        n.pages.Lookup(page) != SlotKind::kAbsent) {
      return {Where::kStorage, node, page};
    }
    const uint64_t limit = own_view ? std::min(n.parent_limit, n.own_limit) : n.parent_limit;
    own_slots = own_view = node->kind_ == ChildKind::kSlice;
    if (page >= limit) return {Where::kZero, nullptr, 0};
    page += node->parent_offset_;
    node = node->parent_.get();
  }
}

namespace {
// Whether `next`, the resolution of the page `i` pages after the one `first` resolved, goes
// on the same run (one copy, one request).
bool Continues(const VmObjectPaged::Where& first, const VmObjectPaged::Where& next, uint64_t i) {
  if (first.kind != next.kind) return false;
  if (first.kind == VmObjectPaged::Where::kZero) return true;
  return first.node == next.node && next.page == first.page + i;
}
}  // namespace

void VmObjectPaged::Impl::ClipChildren(uint64_t pages_left) {
  for (VmObjectPaged* child : children) {
    Impl& c = *child->impl_;
    c.mutex.AssertHeld();  // the same tree lock
    const uint64_t offset = child->parent_offset_;
    c.parent_limit = std::min(c.parent_limit, pages_left > offset ? pages_left - offset : 0);
    child->HideCutPagesLocked();  // its mappings (docs/clones.md, Mapped clones)
  }
}

// ---- Creation ----

Status VmObjectPaged::CreateChild(CloneType type, uint64_t offset, uint64_t size, bool resizable,
                                  std::shared_ptr<VmObjectPaged>* out) {
  if (offset % kPageSize != 0) return Status::kInvalidArgs;
  if (RangeOverflows(offset, size)) return Status::kOutOfRange;
  const bool pager_tree = TreeRoot()->source_ != nullptr;
  // A slice of a clone cannot be cloned (Zircon's rule, 16); a slice of a slice is a slice of
  // what lies under the slices.
  const VmObjectPaged* under = this;
  while (under->kind_ == ChildKind::kSlice) under = under->parent_.get();
  const bool slice_of_clone = kind_ == ChildKind::kSlice && under->kind_ == ChildKind::kReadThrough;
  ChildKind kind = ChildKind::kNone;
  switch (type) {
    case CloneType::kReference:
      // All of the parent, whatever its size: no range (Zircon's rules).
      if (offset != 0 || size != 0) return Status::kInvalidArgs;
      if (kind_ == ChildKind::kSlice && !reference_) return Status::kNotSupported;
      if (resizable && !is_resizable()) return Status::kNotSupported;
      {
        MutexLock lock(&impl_->mutex);
        size = impl_->size;
      }
      kind = ChildKind::kSlice;
      break;
    case CloneType::kSlice:
      if (is_resizable()) return Status::kNotSupported;
      kind = ChildKind::kSlice;
      break;
    case CloneType::kSnapshot:
      if (pager_tree) return Status::kNotSupported;
      kind = ChildKind::kCopy;
      break;
    case CloneType::kAtLeastOnWrite:
    case CloneType::kSnapshotModified:
      if (!pager_tree) {
        kind = ChildKind::kCopy;  // a snapshot, as Zircon upgrades it
        break;
      }
      if (slice_of_clone) return Status::kNotSupported;
      kind = ChildKind::kReadThrough;
      break;
  }
  if (kind == ChildKind::kSlice) {
    MutexLock lock(&impl_->mutex);
    if (offset + size > impl_->size) return Status::kInvalidArgs;
  }
  int fd;
  // A slice keeps no pages of its own: its storage stays empty.
  if (Status s = MakeMemfd(kind == ChildKind::kSlice ? 0 : size, resizable, &fd);
      s != Status::kOk) {
    return s;
  }
  std::shared_ptr<VmObjectPaged> child(new VmObjectPaged(
      size, resizable ? kVmoResizable : 0, fd, nullptr, 0,
      ChildLink{shared_from_this(), PageOf(offset), kind, type == CloneType::kReference}));
  if (kind == ChildKind::kCopy) {
    impl_->copy_children.fetch_add(1, std::memory_order_relaxed);
    MutexLock lock(&impl_->mutex);
    if (Status s = CopyContentTo(offset, size, fd); s != Status::kOk) return s;
    *out = std::move(child);
    return Status::kOk;
  }
  // The child holds its parent open as a handle does (9.3): the root's source stays open
  // while a child reads through it.
  AddHandle();
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  Impl& c = *child->impl_;
  c.mutex.AssertHeld();  // the same tree lock
  const uint64_t parent_pages = PageOf(m.size);
  const uint64_t first = PageOf(offset);
  const uint64_t seen = std::min(PageOf(size), parent_pages > first ? parent_pages - first : 0);
  // What the parent's own shrink cut from its view is cut from the child's for good.
  c.parent_limit = std::min(seen, m.own_limit > first ? m.own_limit - first : 0);
  m.children.push_back(child.get());
  if (kind == ChildKind::kReadThrough && kind_ == ChildKind::kReadThrough) {
    // The clone child of a clone (a slice of it shares its pages instead) sees at least the
    // clone's state at creation, and a snapshot-modified child (or an at-least-on-write one,
    // which Zircon upgrades to it here) keeps it: what the clone has modified is copied now
    // (docs/clones.md).
    const uint64_t last = first + seen;
    for (auto it = m.pages.pages().lower_bound(first);
         it != m.pages.pages().end() && it->first < last; ++it) {
      if (m.pages.IsRealPage(it->second.kind)) {
        if (Status s = CopyFdRange(m.memfd, Bytes(it->first), c.memfd, Bytes(it->first - first),
                                   kPageSize);
            s != Status::kOk) {
          return s;
        }
        c.pages.SetPage(it->first - first, SlotKind::kDirty);
      } else {
        c.pages.SetPage(it->first - first, SlotKind::kMarker);
      }
    }
  }
  *out = std::move(child);
  return Status::kOk;
}

Status VmObjectPaged::CopyContentTo(uint64_t offset, uint64_t size, int child_fd) {
  // Down through slices to the anonymous VMO that has the bytes; what lies beyond a slice
  // reads as zeros.
  VmObjectPaged* node = this;
  while (node->kind_ == ChildKind::kSlice) {
    Impl& slice = *node->impl_;
    slice.mutex.AssertHeld();
    if (offset >= slice.size) return Status::kOk;
    size = std::min(size, slice.size - offset);
    offset += Bytes(node->parent_offset_);
    node = node->parent_.get();
  }
  Impl& n = *node->impl_;
  n.mutex.AssertHeld();
  if (offset >= n.size) return Status::kOk;  // all beyond the parent: zeros
  const uint64_t stop = std::min(n.size, offset + size);
  // Data extents only: holes stay holes and cost nothing.
  for (uint64_t pos = offset; pos < stop;) {
    const off_t data = ::lseek(n.memfd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 || static_cast<uint64_t>(data) >= stop) break;
    const off_t hole = ::lseek(n.memfd, data, SEEK_HOLE);
    const uint64_t extent_end = hole < 0 ? stop : std::min(stop, static_cast<uint64_t>(hole));
    const auto from = static_cast<uint64_t>(data);
    if (Status s = CopyFdRange(n.memfd, from, child_fd, from - offset, extent_end - from);
        s != Status::kOk) {
      return s;
    }
    pos = extent_end;
  }
  return Status::kOk;
}

// ---- Reading and forking through the chain ----

Status VmObjectPaged::CloneRead(void* data, uint64_t offset, uint64_t len) {
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  auto* out = static_cast<char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  Impl& m = *impl_;
  VmObjectPaged* root = TreeRoot();
  return RunRetryLoop(/*early_wake=*/true, [&](LazyPageRequest& req) {
    MutexLock lock(&m.mutex);
    if (end > m.size) return Status::kOutOfRange;
    const uint64_t last = PageCeil(end);
    while (pos < end) {
      const uint64_t first = PageOf(pos);
      const Where where = Resolve(first, /*from_parent=*/false);
      uint64_t run_end = first + 1;
      while (run_end < last && Continues(where, Resolve(run_end, false), run_end - first)) {
        ++run_end;
      }
      if (where.kind == Where::kMissing) {
        // A READ on the root's key, in the root's offsets (18.5).
        return root->source_->GetPages(Bytes(where.page), Bytes(run_end - first), req.get(),
                                       VmoDebugInfo{root->koid_, "clone"});
      }
      const uint64_t copy_end = std::min(end, Bytes(run_end));
      char* dst = out + (pos - offset);
      if (where.kind == Where::kZero) {
        if (Status s = ReadZeros(dst, copy_end - pos); s != Status::kOk) return s;
      } else {
        Impl& owner = *where.node->impl_;
        owner.mutex.AssertHeld();
        if (Status s = PreadAll(owner.memfd, dst, copy_end - pos,
                                Bytes(where.page) + (pos - Bytes(first)));
            s != Status::kOk) {
          return s;
        }
        // The root's pages a child reads are used: evicted last.
        if (where.node == root) owner.pages.Touch(where.page, where.page + (run_end - first));
      }
      pos = copy_end;
    }
    return Status::kOk;
  });
}

Status VmObjectPaged::ForkRange(uint64_t first, uint64_t last, PageRequest* req) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  for (uint64_t page = first; page < last; ++page) {
    const SlotKind kind = m.pages.Lookup(page);
    if (kind == SlotKind::kDirty) continue;
    if (kind != SlotKind::kAbsent) {
      m.pages.SetPage(page, SlotKind::kDirty);  // a zero marker: its storage is a hole
      if (!m.mappings.empty()) {
        // Mapped from the clone's storage already: a store there must not fault again.
        for (VmMapping* mapping : m.mappings) {
          mapping->WriteProtect(Bytes(page), kPageSize, false);
        }
      }
      continue;
    }
    const Where where = Resolve(page, /*from_parent=*/true);
    if (where.kind == Where::kMissing) {
      // The run missing at the root from here, skipping nothing forked on the way (16).
      uint64_t run_end = page + 1;
      while (run_end < last && m.pages.Lookup(run_end) == SlotKind::kAbsent) {
        const Where next = Resolve(run_end, true);
        if (!Continues(where, next, run_end - page)) break;
        ++run_end;
      }
      VmObjectPaged* root = where.node;
      return root->source_->GetPages(Bytes(where.page), Bytes(run_end - page), req,
                                     VmoDebugInfo{root->koid_, "clone"});
    }
    if (where.kind == Where::kStorage) {
      Impl& owner = *where.node->impl_;
      if (Status s = CopyFdRange(owner.memfd, Bytes(where.page), m.memfd, Bytes(page), kPageSize);
          s != Status::kOk) {
        return s;
      }
    }
    // Forked: the child's own page from now on (never written back, never evicted), and in
    // its mappings (docs/clones.md, Mapped clones), or not at all if one of them cannot
    // take it (the process at its VMA limit: kNoMemory, the pages before it forked).
    m.pages.SetPage(page, SlotKind::kDirty);
    if (m.mappings.empty()) continue;
    bool taken_back = true;
    if (Status s = MapOwnPageLocked(page, /*fork=*/true, &taken_back); s != Status::kOk) {
      m.pages.RemovePage(page);
      // Its storage a hole again, as under every page it does not own; kept if a mapping
      // could not be given the root's page back and shows this copy of it.
      if (taken_back) {
        ::fallocate(m.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(Bytes(page)), kPageSize);
      }
      return s;
    }
  }
  return Status::kOk;
}

Status VmObjectPaged::CloneWrite(const void* data, uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  if (RangeOverflows(offset, len)) return Status::kOutOfRange;
  if (kind_ == ChildKind::kSlice) {
    {
      MutexLock lock(&m.mutex);
      if (offset + len > m.size) return Status::kOutOfRange;
    }
    // The parent's own write: its DIRTY requests, its modified flag (16).
    return parent_->Write(data, offset + Bytes(parent_offset_), len);
  }
  const auto* in = static_cast<const char*>(data);
  const uint64_t end = offset + len;
  uint64_t pos = offset;
  return RunRetryLoop(/*early_wake=*/false, [&](LazyPageRequest& req) {
    MutexLock lock(&m.mutex);
    if (end > m.size) return Status::kOutOfRange;
    while (pos < end) {
      const uint64_t first = PageOf(pos);
      const uint64_t last = std::min(PageCeil(end), first + WriteBatchPages());
      if (Status s = ForkRange(first, last, req.get()); s != Status::kOk) return s;
      const uint64_t copy_end = std::min(end, Bytes(last));
      if (Status s = PwriteAll(m.memfd, in + (pos - offset), copy_end - pos, pos);
          s != Status::kOk) {
        return s;
      }
      pos = copy_end;
    }
    return Status::kOk;
  });
}

Status VmObjectPaged::FetchThrough(uint64_t first, uint64_t last) {
  Impl& m = *impl_;
  uint64_t page = first;
  return RunRetryLoop(/*early_wake=*/false, [&](LazyPageRequest& req) {
    MutexLock lock(&m.mutex);
    last = std::min(last, PageOf(m.size));
    for (; page < last; ++page) {
      const Where where = Resolve(page, /*from_parent=*/false);
      if (where.kind != Where::kMissing) continue;
      uint64_t run_end = page + 1;
      while (run_end < last && Continues(where, Resolve(run_end, false), run_end - page)) {
        ++run_end;
      }
      VmObjectPaged* root = where.node;
      return root->source_->GetPages(Bytes(where.page), Bytes(run_end - page), req.get(),
                                     VmoDebugInfo{root->koid_, "clone"});
    }
    return Status::kOk;
  });
}

// ---- Ranges and size ----

Status VmObjectPaged::CloneOpRange(uint32_t op, uint64_t offset, uint64_t len) {
  Impl& m = *impl_;
  const bool hint = op == kVmoOpPrefetch || op == kVmoOpAlwaysNeed || op == kVmoOpDontNeed;
  {
    MutexLock lock(&m.mutex);
    if (RangeOverflows(offset, len)) return Status::kOutOfRange;
    const uint64_t limit = hint ? Bytes(PageCeil(offset + len)) : offset + len;
    if (limit > m.size) return Status::kOutOfRange;
  }
  if (kind_ == ChildKind::kSlice) {
    // The parent's own operation on the same pages.
    return parent_->OpRange(op, offset + Bytes(parent_offset_), len);
  }
  const uint64_t first = PageOf(offset);
  const uint64_t last = PageCeil(offset + len);
  switch (op) {
    case kVmoOpCommit: {
      return RunRetryLoop(/*early_wake=*/false, [&](LazyPageRequest& req) {
        MutexLock lock(&m.mutex);
        // A range cut off by a shrink simply ends the commit (18.6).
        return ForkRange(first, std::min(last, PageOf(m.size)), req.get());
      });
    }
    case kVmoOpDecommit: return Status::kNotSupported;  // as on its pager-backed root (16)
    case kVmoOpZero: {
      if (len == 0) return Status::kOk;
      const uint64_t end = offset + len;
      // Partial pages are written as zeros (a write: forking, after a READ if needed).
      const uint64_t head_end = std::min(end, Bytes(PageCeil(offset)));
      if (offset % kPageSize != 0) {
        std::vector<char> zeros(head_end - offset, 0);
        if (Status s = CloneWrite(zeros.data(), offset, zeros.size()); s != Status::kOk) return s;
      }
      const uint64_t tail_start = std::max(head_end, Bytes(PageOf(end)));
      if (end % kPageSize != 0 && tail_start < end) {
        std::vector<char> zeros(end - tail_start, 0);
        if (Status s = CloneWrite(zeros.data(), tail_start, zeros.size()); s != Status::kOk) {
          return s;
        }
      }
      // Whole pages become the child's own zeros: no request, nothing in any ancestor.
      MutexLock lock(&m.mutex);
      const uint64_t zero_first = PageCeil(offset);
      uint64_t zero_last = std::min(PageOf(end), PageOf(m.size));
      Status status = Status::kOk;
      for (uint64_t page = zero_first; page < zero_last; ++page) {
        const bool owned = m.pages.Lookup(page) != SlotKind::kAbsent;
        bool taken_back = true;
        // Placed in every mapping first (the storage there is a hole): at the VMA limit, the
        // zeroing stops before this page (kNoMemory), the pages before it zeroed.
        if (!owned && !m.mappings.empty() &&
            (status = MapOwnPageLocked(page, /*fork=*/false, &taken_back)) != Status::kOk) {
          // A mapping that keeps the clone's storage there shows what the clone sees.
          const Where where = Resolve(page, /*from_parent=*/true);
          if (!taken_back && where.kind == Where::kStorage) {
            where.node->impl_->mutex.AssertHeld();  // the same tree lock
            CopyFdRange(where.node->impl_->memfd, Bytes(where.page), m.memfd, Bytes(page),
                        kPageSize);
          }
          zero_last = page;
          break;
        }
        m.pages.SetPage(page, SlotKind::kMarker);
      }
      // Write-protects them in the mappings too: a store makes a marker a real page again.
      m.PunchHole(zero_first, std::max(zero_first, zero_last));
      return status;
    }
    case kVmoOpPrefetch: return FetchThrough(first, last);
    case kVmoOpAlwaysNeed: {
      if (FetchThrough(first, last) == Status::kOk) {
        // The root's pages this clone reads are never evicted from now on.
        MutexLock lock(&m.mutex);
        const uint64_t end = std::min(last, PageOf(m.size));
        for (uint64_t page = first; page < end; ++page) {
          const Where where = Resolve(page, /*from_parent=*/false);
          if (where.kind != Where::kStorage || where.node->reads_through_parent()) continue;
          Impl& root = *where.node->impl_;
          root.mutex.AssertHeld();
          if (root.pages.IsRealPage(root.pages.Lookup(where.page))) {
            root.pages.SetAlwaysNeed(where.page);
          }
        }
      }
      return Status::kOk;  // best effort, as on a root
    }
    case kVmoOpDontNeed: return Status::kOk;  // accepted; the root's order is the root's own
    default: return Status::kNotSupported;
  }
}

Status VmObjectPaged::CloneSetSize(uint64_t new_size) {
  Impl& m = *impl_;
  MutexLock lock(&m.mutex);
  if (new_size == m.size) return Status::kOk;
  if (new_size < m.size) {
    const uint64_t pages_left = PageOf(new_size);
    m.pages.Truncate(pages_left);
    // What the child stops seeing of its parent stays hidden if it grows again. Its children
    // keep what they see (a child of a clone is a snapshot of it), so they are not clipped;
    // a resizable clone has no slices.
    m.own_limit = std::min(m.own_limit, pages_left);
    HideCutPagesLocked();
  }
  if (::ftruncate(m.memfd, static_cast<off_t>(new_size)) != 0) return Status::kNoMemory;
  m.size = new_size;
  FollowSizeLocked(new_size);
  return Status::kOk;
}

void VmObjectPaged::FollowSizeLocked(uint64_t new_size) {
  Impl& m = *impl_;
  m.mutex.AssertHeld();
  for (VmObjectPaged* child : m.children) {
    if (!child->reference_) continue;
    Impl& c = *child->impl_;
    c.mutex.AssertHeld();  // the same tree lock
    // The reference's own children see what they saw through it, less what is cut now.
    if (new_size < c.size) c.ClipChildren(PageOf(new_size));
    c.size = new_size;
    c.parent_limit = PageOf(new_size);  // it sees all of its parent again after a growth
    child->FollowSizeLocked(new_size);
  }
}

}  // namespace upager::internal
