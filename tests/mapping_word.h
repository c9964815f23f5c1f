// The word UserPager's pattern holds at a given place of a page (tests of mappings compare
// loads through a Mapping against it).
#ifndef UPAGER_TESTS_MAPPING_WORD_H_
#define UPAGER_TESTS_MAPPING_WORD_H_

#include <cstdint>

#include "upager/status.h"

namespace upager::testing {

inline uint64_t Word(uint64_t key, uint64_t page, uint64_t word = 0) {
  return (key << 32) + page * (kPageSize / sizeof(uint64_t)) + word;
}

}  // namespace upager::testing

#endif  // UPAGER_TESTS_MAPPING_WORD_H_
