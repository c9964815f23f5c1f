// One VMO of a clone tree as a peer test of Zircon's snapshot.cc reaches it (clone_peer_test.cc):
// through Vmo::Read/Write, or through a read/write mapping of the whole VMO (Zircon's tests
// load and store through mappings; the Vmo variant runs the same steps through the calls).
#ifndef UPAGER_TESTS_CLONE_NODE_H_
#define UPAGER_TESTS_CLONE_NODE_H_

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "pager_vmar_util.h"
#include "upager/mapping.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {

enum class Access { kVmo, kVmar };

class CloneNode {
 public:
  // A pager-backed root of `pages` pages; nullptr if it cannot be created or mapped.
  static std::unique_ptr<CloneNode> Root(UserPager& pager, uint64_t pages, Access access,
                                         uint32_t options = 0) {
    auto vmo = pager.CreateVmo(pages, options);
    if (vmo == nullptr) return nullptr;
    return Make(std::move(vmo), access);
  }

  // A child of `options` over [P(first), P(first) + bytes) of this node, reached the same way.
  std::unique_ptr<CloneNode> Child(uint32_t options, uint64_t first, uint64_t bytes) const {
    auto child = std::make_unique<TestVmo>();
    child->key = vmo_->key;
    if (vmo_->vmo.CreateChild(options, P(first), bytes, &child->vmo) != Status::kOk) {
      return nullptr;
    }
    return Make(std::move(child), access_);
  }
  // A child over the whole node.
  std::unique_ptr<CloneNode> Child(uint32_t options) const { return Child(options, 0, size_); }

  uint64_t Get(uint64_t offset) const {
    uint64_t word = ~0ull;
    if (access_ == Access::kVmar) {
      EXPECT_TRUE(Load(map_.data() + offset, &word).ok) << offset;
    } else {
      EXPECT_EQ(vmo_->vmo.Read(&word, offset, sizeof(word)), Status::kOk) << offset;
    }
    return word;
  }

  // Stores one word; false if the store (or the write) failed.
  bool Set(uint64_t offset, uint64_t word) const {
    if (access_ == Access::kVmar) return ProbeStore(map_.data() + offset, word).ok;
    return vmo_->vmo.Write(&word, offset, sizeof(word)) == Status::kOk;
  }

  // Whole page `page`, or an empty vector if it could not be read.
  std::vector<char> Page(uint64_t page) const {
    std::vector<char> data(P(1));
    if (access_ == Access::kVmar) {
      if (!LoadMapped(map_.data(), page, 1, &data).ok) return {};
    } else if (vmo_->vmo.Read(data.data(), P(page), P(1)) != Status::kOk) {
      return {};
    }
    return data;
  }

  // Writes a whole page (Zircon's vmo().write of a generated buffer, or stores through the
  // mapping word by word).
  bool WritePage(uint64_t page, const std::vector<char>& data) const {
    if (access_ == Access::kVmo) {
      return vmo_->vmo.Write(data.data(), P(page), P(1)) == Status::kOk;
    }
    for (uint64_t i = 0; i < kWordsPerPage; ++i) {
      uint64_t word = 0;
      std::memcpy(&word, data.data() + i * sizeof(word), sizeof(word));
      if (!ProbeStore(map_.data() + P(page) + i * sizeof(word), word).ok) return false;
    }
    return true;
  }

  VmoInfo Info() const {
    VmoInfo info{};
    EXPECT_EQ(vmo_->vmo.GetInfo(&info), Status::kOk);
    return info;
  }
  uint64_t populated() const { return Info().populated_bytes; }
  uint64_t committed() const { return Info().committed_bytes; }
  uint64_t children() const { return Info().num_children; }

  const TestVmo& test_vmo() const { return *vmo_; }
  const Vmo& vmo() const { return vmo_->vmo; }
  uint64_t key() const { return vmo_->key; }

 private:
  CloneNode(std::unique_ptr<TestVmo> vmo, Access access) : vmo_(std::move(vmo)), access_(access) {}

  static std::unique_ptr<CloneNode> Make(std::unique_ptr<TestVmo> vmo, Access access) {
    std::unique_ptr<CloneNode> node(new CloneNode(std::move(vmo), access));
    if (node->vmo_->vmo.GetSize(&node->size_) != Status::kOk) return nullptr;
    if (access == Access::kVmar && MapVmo(*node->vmo_, &node->map_) != Status::kOk) {
      return nullptr;
    }
    return node;
  }

  std::unique_ptr<TestVmo> vmo_;
  Mapping map_;  // after vmo_: unmapped before the handle goes
  Access access_;
  uint64_t size_ = 0;
};

// Page `page` of the pattern UserPager supplies to `root`, its first word replaced by `word0`.
inline std::vector<char> PatternPage(const CloneNode& root, uint64_t page, uint64_t word0) {
  std::vector<char> data(P(1));
  UserPager::Pattern(root.key(), page, data.data());
  std::memcpy(data.data(), &word0, sizeof(word0));
  return data;
}
inline std::vector<char> PatternPage(const CloneNode& root, uint64_t page) {
  std::vector<char> data(P(1));
  UserPager::Pattern(root.key(), page, data.data());
  return data;
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_CLONE_NODE_H_
