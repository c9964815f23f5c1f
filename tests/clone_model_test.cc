// A randomized test of clone hierarchies over a pager root (docs/clones.md): children made
// (at-least-on-write, snapshot-modified, slices, resizable), writes, zeroing and commits
// through any node, root evictions, resizes and dropped handles, while a pager thread answers
// every READ; after every step, each node's content is checked against a model of which page
// each node sees.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "pager_test_util.h"
#include "test_util.h"
#include "upager/pager.h"
#include "upager/vmo.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager::testing {
namespace {

// What a page holds: 0 zeros; kPatternBit|i the pager's content of root page i; any other
// value a page filled with that word.
constexpr uint64_t kPatternBit = 1ull << 63;

enum class Kind { kRoot, kClone, kSlice };

struct Node {
  Vmo vmo;  // invalid once the handle is dropped
  Kind kind = Kind::kRoot;
  int parent = -1;
  uint64_t offset = 0;              // pages, in the parent
  uint64_t size = 0;                // pages
  uint64_t limit = 0;               // pages of the parent it, and its children through it, see
  uint64_t own_limit = UINT64_MAX;  // its own shrinks: its own view only, not its children's
  bool resizable = false;
  std::map<uint64_t, uint64_t> own;  // forked pages and zeroed pages of a clone
  std::vector<int> children;
};

class Model {
 public:
  explicit Model(uint64_t key) : key_(key) {}

  std::vector<Node> nodes;
  std::vector<uint64_t> root;  // the root's pages

  // What page `page` of node `n` holds (the lookup of docs/clones.md).
  uint64_t View(int n, uint64_t page, bool own_slots = true) const {
    const Node& node = nodes[n];
    if (node.kind == Kind::kRoot) return root[page];
    if (own_slots && node.kind == Kind::kClone) {
      auto it = node.own.find(page);
      if (it != node.own.end()) return it->second;
    }
    // A clone's own shrink cuts its view (and its slices'), not its clone children's: they
    // are snapshots of it (Snapshot.ResizeShrinkSnapshotWithEmptyParent).
    if (page >= (own_slots ? std::min(node.limit, node.own_limit) : node.limit)) return 0;
    return View(node.parent, page + node.offset, node.kind == Kind::kSlice);
  }
  void Write(int n, uint64_t page, uint64_t token) {
    Node& node = nodes[n];
    if (node.kind == Kind::kRoot) {
      root[page] = token;
    } else if (node.kind == Kind::kSlice) {
      Write(node.parent, page + node.offset, token);
    } else {
      node.own[page] = token;
    }
  }
  void Commit(int n, uint64_t page) {
    Node& node = nodes[n];
    if (node.kind == Kind::kClone && node.own.count(page) == 0) node.own[page] = View(n, page);
    if (node.kind == Kind::kSlice) Commit(node.parent, page + node.offset);
  }
  void Resize(int n, uint64_t pages) {
    Node& node = nodes[n];
    if (pages < node.size) {
      if (node.kind == Kind::kRoot) root.resize(pages);
      node.own.erase(node.own.lower_bound(pages), node.own.end());
      if (node.kind == Kind::kRoot) {
        for (int c : node.children) {
          Node& child = nodes[c];
          child.limit = std::min(child.limit, pages > child.offset ? pages - child.offset : 0);
        }
      } else {
        node.own_limit = std::min(node.own_limit, pages);
      }
    } else if (node.kind == Kind::kRoot) {
      root.resize(pages, 0);
    }
    node.size = pages;
  }

  void Fill(uint64_t token, char* out) const {
    if (token == 0) {
      std::memset(out, 0, kPageSize);
    } else if ((token & kPatternBit) != 0) {
      UserPager::Pattern(key_, token & ~kPatternBit, out);
    } else {
      for (uint64_t i = 0; i < kPageSize; i += sizeof(token)) std::memcpy(out + i, &token, 8);
    }
  }

 private:
  uint64_t key_;
};

void RunSeed(uint32_t seed) {
  SCOPED_TRACE(seed);
  std::mt19937 rng(seed);
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  UserPager pager;
  constexpr uint64_t kRootPages = 8;
  auto vmo = pager.CreateVmo(kRootPages, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  Model model(vmo->key);
  model.root.resize(kRootPages);
  for (uint64_t i = 0; i < kRootPages; ++i) model.root[i] = kPatternBit | i;
  Node root;
  ASSERT_EQ(vmo->vmo.Duplicate(&root.vmo), Status::kOk);
  root.size = kRootPages;
  root.resizable = true;
  model.nodes.push_back(std::move(root));

  std::atomic<bool> stop{false};
  std::thread server;
  struct Joiner {  // stops and joins the server on every way out, failed assertions included
    std::atomic<bool>* stop;
    std::thread* thread;
    ~Joiner() {
      stop->store(true);
      if (thread->joinable()) thread->join();
    }
  } joiner{&stop, &server};
  server = std::thread([&] {
    while (!stop.load()) {
      uint64_t offset = 0;
      uint64_t length = 0;
      if (pager.GetPageReadRequest(*vmo, std::chrono::milliseconds(2), &offset, &length)) {
        EXPECT_EQ(pager.SupplyPages(*vmo, offset, length), Status::kOk);
      }
    }
  });
  uint64_t next_token = 1;
  auto check = [&](int n, int step) {
    const Node& node = model.nodes[n];
    if (!node.vmo.is_valid()) return;
    std::vector<char> got(P(node.size));
    ASSERT_EQ(node.vmo.Read(got.data(), 0, got.size()), Status::kOk) << step << " node " << n;
    std::vector<char> want(kPageSize);
    for (uint64_t page = 0; page < node.size; ++page) {
      model.Fill(model.View(n, page), want.data());
      ASSERT_EQ(std::memcmp(got.data() + P(page), want.data(), kPageSize), 0)
          << "step " << step << " node " << n << " page " << page;
    }
  };

  for (int step = 0; step < 300 && !::testing::Test::HasFatalFailure(); ++step) {
    std::vector<int> live;
    for (int i = 0; i < static_cast<int>(model.nodes.size()); ++i) {
      if (model.nodes[i].vmo.is_valid()) live.push_back(i);
    }
    const int n = live[pick(live.size())];
    Node& node = model.nodes[n];
    switch (pick(8)) {
      case 0: {  // a child
        if (model.nodes.size() >= 12) break;
        const uint32_t kind = pick(3);
        const uint64_t offset = pick(node.size + 1);
        const uint64_t size = 1 + pick(6);
        const bool resizable = kind != 2 && pick(2) == 0;
        const uint32_t options = (kind == 0   ? kVmoChildSnapshotAtLeastOnWrite
                                  : kind == 1 ? kVmoChildSnapshotModified
                                              : kVmoChildSlice) |
                                 (resizable ? kVmoChildResizable : 0);
        Status expected = Status::kOk;
        if (kind == 2) {
          if (node.resizable) {
            expected = Status::kNotSupported;
          } else if (offset + size > node.size) {
            expected = Status::kInvalidArgs;
          }
        } else if (node.kind == Kind::kSlice) {
          int under = node.parent;
          while (model.nodes[under].kind == Kind::kSlice) under = model.nodes[under].parent;
          if (model.nodes[under].kind == Kind::kClone) expected = Status::kNotSupported;
        }
        Node child;
        ASSERT_EQ(node.vmo.CreateChild(options, P(offset), P(size), &child.vmo), expected) << step;
        if (expected != Status::kOk) break;
        child.kind = kind == 2 ? Kind::kSlice : Kind::kClone;
        child.parent = n;
        child.offset = offset;
        child.size = size;
        const uint64_t seen = std::min(size, node.size > offset ? node.size - offset : 0);
        child.limit =
            std::min(seen, node.own_limit > offset ? node.own_limit - offset : uint64_t{0});
        child.resizable = resizable;
        if (child.kind == Kind::kClone && node.kind == Kind::kClone) {
          for (auto it = node.own.lower_bound(offset);
               it != node.own.end() && it->first < offset + seen; ++it) {
            child.own[it->first - offset] = it->second;
          }
        }
        node.children.push_back(static_cast<int>(model.nodes.size()));
        model.nodes.push_back(std::move(child));
        check(static_cast<int>(model.nodes.size()) - 1, step);
        break;
      }
      case 1:
      case 2: {  // a page written
        if (node.size == 0) break;
        const uint64_t page = pick(node.size);
        const uint64_t token = next_token++;
        std::vector<char> data(kPageSize);
        model.Fill(token, data.data());
        ASSERT_EQ(node.vmo.Write(data.data(), P(page), kPageSize), Status::kOk) << step;
        model.Write(n, page, token);
        break;
      }
      case 3: {  // a page zeroed
        if (node.size == 0) break;
        const uint64_t page = pick(node.size);
        ASSERT_EQ(node.vmo.OpRange(kVmoOpZero, P(page), kPageSize), Status::kOk) << step;
        model.Write(n, page, 0);
        break;
      }
      case 4: {  // committed
        if (node.size == 0 || node.kind == Kind::kRoot) break;
        const uint64_t first = pick(node.size);
        const uint64_t count = 1 + pick(node.size - first);
        ASSERT_EQ(node.vmo.OpRange(kVmoOpCommit, P(first), P(count)), Status::kOk) << step;
        for (uint64_t page = first; page < first + count; ++page) model.Commit(n, page);
        break;
      }
      case 5:  // a root page evicted (its content stays the pager's)
        internal::HandleAccess::Object(vmo->vmo)->EvictPage(pick(model.nodes[0].size + 1));
        break;
      case 6: {  // resized
        if (!node.resizable) break;
        const uint64_t pages = pick(10);
        ASSERT_EQ(node.vmo.SetSize(P(pages)), Status::kOk) << step;
        model.Resize(n, pages);
        break;
      }
      case 7:  // a handle dropped (the node lives on under its children)
        if (n != 0 && pick(4) == 0) node.vmo.Reset();
        break;
    }
    for (int i : live) check(i, step);
  }
}

TEST(CloneModel, RandomHierarchies) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    RunSeed(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Memory, Vmo variant: 16 at-least-on-write children of a 64 MiB pager-backed VMO, each read
// in full, hold nothing of their own (every page they read is the root's, counted once); a
// child writing one page holds exactly that page.
TEST(CloneMemory, SixteenChildrenOneCopy) {
  UserPager pager;
  constexpr uint64_t kPages = (64ull << 20) / kPageSize;
  auto vmo = pager.CreateVmo(kPages);
  ASSERT_NE(vmo, nullptr);
  std::vector<char> data(P(kPages));
  for (uint64_t page = 0; page < kPages; ++page) {
    UserPager::Pattern(vmo->key, page, data.data() + P(page));
  }
  ASSERT_EQ(pager.pager().SupplyPagesFromBuffer(vmo->vmo, 0, P(kPages), data.data()), Status::kOk);
  std::vector<Vmo> children(16);
  std::vector<char> got(P(kPages));
  for (Vmo& child : children) {
    ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(kPages), &child),
              Status::kOk);
    ASSERT_EQ(child.Read(got.data(), 0, P(kPages)), Status::kOk);
    ASSERT_EQ(std::memcmp(got.data(), data.data(), P(kPages)), 0);
  }
  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(kPages));
  EXPECT_EQ(info.num_children, 16u);
  for (size_t i = 0; i < children.size(); ++i) {
    ASSERT_EQ(children[i].GetInfo(&info), Status::kOk);
    EXPECT_EQ(info.committed_bytes, 0u);
    const uint64_t word = i;
    ASSERT_EQ(children[i].Write(&word, P(i * 7), sizeof(word)), Status::kOk);
    ASSERT_EQ(children[i].GetInfo(&info), Status::kOk);
    EXPECT_EQ(info.committed_bytes, P(1));
  }
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, P(kPages));
  EXPECT_FALSE(pager.AnyPacket());
}

}  // namespace
}  // namespace upager::testing
