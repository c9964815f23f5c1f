// The synthetic data set's generator (see dataset.h).
#include "dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/full_io.h"
#include "common.h"

namespace upager::cli::dataset {
namespace {

constexpr uint64_t kRegionWordsLog2 = 13;       // 64 KiB regions, each weights or text
constexpr uint64_t kSeed = 0x7570616765722d31;  // "upager-1"

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

constexpr char kText[] =
    "In Zircon a thread that touches a page of a pager-backed VMO that is not there yet "
    "does not fail: the kernel records a page request and the pager supplies the pages. "
    "{\"layer\": 12, \"name\": \"attention.wq\", \"dtype\": \"f32\", \"shape\": [4096, 4096]}\n";
constexpr uint64_t kTextLen = sizeof(kText) - 1;

// One float of a weights region: 8 bits of information, at the region's scale.
uint32_t WeightBits(uint32_t exponent, uint64_t byte) {
  uint32_t sign = static_cast<uint32_t>(byte & 0x80) << 24;
  uint32_t mantissa = static_cast<uint32_t>(byte & 0x7f) << 16;
  return sign | (exponent << 23) | mantissa;
}

// kText twice, so that any 8 bytes of the repeated phrase are one memcpy away.
struct DoubledText {
  char bytes[2 * kTextLen];
  DoubledText() {
    for (uint64_t i = 0; i < 2 * kTextLen; ++i) {
      bytes[i] = kText[i % kTextLen];
    }
  }
};
const DoubledText kDoubled;

// A region's parameters, from its hash.
struct Region {
  uint64_t hash;
  bool text;
  uint32_t exponent;
  uint64_t text_shift;
  explicit Region(uint64_t region)
      : hash(Mix(region ^ kSeed)),
        text((hash & 7) >= 6),
        exponent(120 + static_cast<uint32_t>((hash >> 8) & 7)),
        text_shift(hash >> 16) {}

  uint64_t Word(uint64_t index) const {
    if (!text) {
      // Weights: two float32 of the region's scale with random 8-bit sign and mantissa.
      const uint64_t h = Mix(index * 0x2545f4914f6cdd1d + hash);
      uint64_t lo = WeightBits(exponent, h & 0xff);
      uint64_t hi = WeightBits(exponent, (h >> 8) & 0xff);
      return lo | (hi << 32);
    }
    // Text: the phrase repeated, starting at a per-region shift.
    uint64_t word;
    std::memcpy(&word, kDoubled.bytes + (index * 8 + text_shift) % kTextLen, sizeof(word));
    return word;
  }
};

}  // namespace

uint64_t Word(uint64_t index) { return Region(index >> kRegionWordsLog2).Word(index); }

void Fill(uint64_t offset, void* buf, size_t len) {
  auto* out = static_cast<unsigned char*>(buf);
  uint64_t index = offset / 8;
  size_t done = 0;
  while (done < len) {
    const uint64_t region_number = index >> kRegionWordsLog2;
    const Region region(region_number);
    const uint64_t region_end = (region_number + 1) << kRegionWordsLog2;
    for (; index < region_end && done < len; ++index) {
      uint64_t w = region.Word(index);
      size_t n = std::min<size_t>(8, len - done);
      std::memcpy(out + done, &w, n);
      done += n;
    }
  }
}

int WriteFile(const std::string& path, uint64_t size, std::string* what) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *what = "create";
    return errno;
  }
  std::vector<char> buffer(4 << 20);
  uint64_t offset = 0;
  int err = 0;
  while (offset < size && err == 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - offset));
    Fill(offset, buffer.data(), n);
    err = internal::WriteFull(fd, buffer.data(), n).error;
    offset += n;
  }
  if (err != 0) {
    *what = "write";
  } else if (::fsync(fd) != 0) {
    err = errno;
    *what = "fsync";
  }
  ::close(fd);
  return err;
}

}  // namespace upager::cli::dataset
