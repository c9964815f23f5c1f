// The demo's synthetic data set: "model weights" (blocks of low-precision floats of one
// scale each) interleaved with text-like runs. Every 8-byte word is a pure function of its
// offset, so a reader can verify any word it reads without the file; the data compresses
// to about a third, like real weights and text.
#ifndef UPAGER_TOOLS_UPAGER_DATASET_H_
#define UPAGER_TOOLS_UPAGER_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace upager::cli::dataset {

// The 8 bytes at byte offset 8 * `index` (in host byte order).
uint64_t Word(uint64_t index);

// Fills `buf` with the `len` bytes at `offset` (`offset` a multiple of 8).
void Fill(uint64_t offset, void* buf, size_t len);

// Writes a data set of `size` bytes to a new file at `path` and syncs it. On failure
// returns the errno value and sets *what to the operation that failed.
int WriteFile(const std::string& path, uint64_t size, std::string* what);

}  // namespace upager::cli::dataset

#endif  // UPAGER_TOOLS_UPAGER_DATASET_H_
