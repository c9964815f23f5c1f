// Helpers of the tests of mapped slices of clones (clone_slice_vmar_test.cc and
// clone_slice_vmar_more_test.cc): children, and the bytes of VMOs and mappings.
#ifndef UPAGER_TESTS_CLONE_SLICE_UTIL_H_
#define UPAGER_TESTS_CLONE_SLICE_UTIL_H_

#include <cstring>
#include <memory>
#include <vector>

#include "pager_vmar_util.h"
#include "upager/mapping.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {

inline std::unique_ptr<TestVmo> Child(const TestVmo& parent, uint32_t options, uint64_t first,
                                      uint64_t pages) {
  auto child = std::make_unique<TestVmo>();
  child->key = parent.key;
  if (parent.vmo.CreateChild(options, P(first), P(pages), &child->vmo) != Status::kOk) {
    return nullptr;
  }
  return child;
}

inline std::unique_ptr<TestVmo> Clone(const TestVmo& parent, uint64_t first, uint64_t pages) {
  return Child(parent, kVmoChildSnapshotAtLeastOnWrite, first, pages);
}

inline std::unique_ptr<TestVmo> Slice(const TestVmo& parent, uint64_t first, uint64_t pages) {
  return Child(parent, kVmoChildSlice, first, pages);
}

inline uint64_t Word(const Vmo& vmo, uint64_t offset) {
  uint64_t word = 0;
  EXPECT_EQ(vmo.Read(&word, offset, sizeof(word)), Status::kOk);
  return word;
}

inline uint64_t MappedWord(const Mapping& map, uint64_t offset) {
  uint64_t word = 0;
  EXPECT_TRUE(Load(map.data() + offset, &word).ok);
  return word;
}

// The pattern UserPager supplies for pages [first, first+count) of the root `vmo`.
inline std::vector<char> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  for (uint64_t i = 0; i < count; ++i) UserPager::Pattern(vmo.key, first + i, &data[P(i)]);
  return data;
}

// Pages [first, first+count) of `vmo` through Vmo::Read; empty if the read fails.
inline std::vector<char> VmoPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<char> data(P(count));
  if (vmo.vmo.Read(data.data(), P(first), P(count)) != Status::kOk) return {};
  return data;
}

// Pages [first, first+count) of the mapping; empty if the access faults.
inline std::vector<char> MappedPages(const Mapping& map, uint64_t first, uint64_t count) {
  std::vector<char> data;
  if (!LoadMapped(map.data(), first, count, &data).ok) return {};
  return data;
}

// `page` with `word` stored at byte `at`.
inline std::vector<char> WithWord(std::vector<char> page, uint64_t at, uint64_t word) {
  std::memcpy(page.data() + at, &word, sizeof(word));
  return page;
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_CLONE_SLICE_UTIL_H_
