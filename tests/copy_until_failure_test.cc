// CopyUntilFailure (tools/upager/fault_guard.h): a copy out of a mapping reports the bytes
// before the first failing page and that page's status, whatever order the copy touches the
// pages in. `upager cat` depends on it; glibc's memcpy copies backward on some CPUs and
// alignments, so the orders below are forced rather than left to the machine's memcpy.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "fault_guard.h"
#include "mapping_util.h"
#include "upager/mapping.h"
#include "upager/pager_loop.h"

namespace upager::cli {
namespace {

constexpr uint64_t kPages = 16;

uint8_t ByteAt(uint64_t offset) { return static_cast<uint8_t>(offset * 7 + offset / 4096); }

// Supplies every page with ByteAt, except `bad` pages: those fail with kIoDataIntegrity,
// `fail_times` times each (then they are supplied too).
class Handler : public PagerLoop::Handler {
 public:
  Handler(std::vector<uint64_t> bad, int fail_times) : bad_(std::move(bad)), left_(fail_times) {}
  void OnRead(const PagerLoop::Request& r) override {
    for (uint64_t off = r.offset; off < r.offset + r.length; off += kPageSize) {
      const bool is_bad = std::find(bad_.begin(), bad_.end(), off / kPageSize) != bad_.end();
      if (is_bad && left_.fetch_sub(1) > 0) {
        ASSERT_EQ(r.loop->pager().OpRange(
                      kPagerOpFail, r.vmo, off, kPageSize,
                      static_cast<uint64_t>(static_cast<int64_t>(Status::kIoDataIntegrity))),
                  Status::kOk);
        continue;
      }
      std::vector<uint8_t> page(kPageSize);
      for (uint64_t i = 0; i < kPageSize; ++i) page[i] = ByteAt(off + i);
      ASSERT_EQ(r.loop->pager().SupplyPagesFromBuffer(r.vmo, off, kPageSize, page.data()),
                Status::kOk);
    }
  }

 private:
  const std::vector<uint64_t> bad_;
  std::atomic<int> left_;
};

// The copy orders under test.
void Forward(void* dst, const void* src, size_t len) { std::memcpy(dst, src, len); }

// Touches the last page first, then the rest backward: what glibc's backward loop does.
void LastPageFirst(void* dst, const void* src, size_t len) {
  auto* out = static_cast<char*>(dst);
  const auto* in = static_cast<const char*>(src);
  for (size_t end = len; end > 0;) {
    const size_t start = end > kPageSize ? end - kPageSize : 0;
    std::memcpy(out + start, in + start, end - start);
    end = start;
  }
}

// The middle first, then outward: no order a reader could rely on.
void MiddleOut(void* dst, const void* src, size_t len) {
  const size_t mid = len / 2;
  std::memcpy(static_cast<char*>(dst) + mid, static_cast<const char*>(src) + mid, len - mid);
  std::memcpy(dst, src, mid);
}

struct Order {
  const char* name;
  CopyFunction copy;
};
const Order kOrders[] = {{"ascending", &CopyAscending},
                         {"memcpy", &Forward},
                         {"last_page_first", &LastPageFirst},
                         {"middle_out", &MiddleOut}};

class CopyUntilFailureTest : public ::testing::TestWithParam<Order> {
 protected:
  void SetUp() override {
    UPAGER_REQUIRE_MAPPINGS();
    ASSERT_EQ(loop_.Start(), Status::kOk);
  }
  PagerLoop loop_{2};
};

// Pages 5 and 11 fail: whatever the order, exactly pages [0, 5) are copied and page 5 is
// the one reported, with its status. The copy starts mid-page to check the offsets.
TEST_P(CopyUntilFailureTest, StopsAtTheFirstFailingPage) {
  Handler handler({5, 11}, 1 << 20);
  Vmo vmo;
  ASSERT_EQ(loop_.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
  constexpr uint64_t kStart = 100;
  std::vector<uint8_t> out(kPages * kPageSize, 0xEE);
  FaultInfo fault;
  const size_t copied = CopyUntilFailure(out.data(), map.data() + kStart,
                                         kPages * kPageSize - kStart, &fault, GetParam().copy);
  EXPECT_EQ(copied, 5 * kPageSize - kStart);
  EXPECT_EQ(fault.status, Status::kIoDataIntegrity);
  EXPECT_EQ(fault.addr, static_cast<const void*>(map.data() + 5 * kPageSize));
  for (size_t i = 0; i < copied; ++i) {
    ASSERT_EQ(out[i], ByteAt(kStart + i)) << "byte " << i;
  }
  loop_.pager().DetachVmo(vmo);
  loop_.RemoveHandler(&handler);
}

// A failure is not sticky: a page that fails once and then reads makes the copy succeed.
TEST_P(CopyUntilFailureTest, PageThatReadsOnRetryIsCopied) {
  Handler handler({9}, 1);
  Vmo vmo;
  ASSERT_EQ(loop_.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
  std::vector<uint8_t> out(kPages * kPageSize);
  FaultInfo fault;
  EXPECT_EQ(CopyUntilFailure(out.data(), map.data(), out.size(), &fault, GetParam().copy),
            out.size());
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], ByteAt(i)) << "byte " << i;
  loop_.pager().DetachVmo(vmo);
  loop_.RemoveHandler(&handler);
}

// The first page fails: nothing is copied.
TEST_P(CopyUntilFailureTest, FirstPageFails) {
  Handler handler({0}, 1 << 20);
  Vmo vmo;
  ASSERT_EQ(loop_.CreateVmo(0, kPages * kPageSize, &handler, &vmo), Status::kOk);
  Mapping map;
  ASSERT_EQ(Mapping::Create(vmo, 0, kPages * kPageSize, kMapRead, &map), Status::kOk);
  std::vector<uint8_t> out(kPages * kPageSize);
  FaultInfo fault;
  EXPECT_EQ(CopyUntilFailure(out.data(), map.data(), out.size(), &fault, GetParam().copy), 0u);
  EXPECT_EQ(fault.status, Status::kIoDataIntegrity);
  EXPECT_EQ(fault.addr, static_cast<const void*>(map.data()));
  loop_.pager().DetachVmo(vmo);
  loop_.RemoveHandler(&handler);
}

INSTANTIATE_TEST_SUITE_P(Orders, CopyUntilFailureTest, ::testing::ValuesIn(kOrders),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace upager::cli
