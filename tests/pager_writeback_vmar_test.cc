// Zircon's pager writeback tests (zircon/system/utest/core/pager-writeback/pager-writeback.cc)
// that access the VMO through a mapping, reproduced with upager::Mapping. Suite
// PagerWritebackVmar (pager_writeback_test.cc owns PagerWriteback and already uses some of the
// same names for its Vmo reproductions):
//  - entries whose peer only accesses memory through a mapping keep the peer's name
//    (TEST_WITH_AND_WITHOUT_TRAP_DIRTY entries as NameTrapDirty / NameNoTrapDirty); where the
//    peer mixes a vmo_write half and a mapped half, both halves are here;
//  - a VMO_VMAR_TEST entry X appears as XVmar;
//  - an entry that pager_writeback_test.cc reproduces through Vmo::Read/Write and whose
//    behaviour applies equally to a mapped load or store appears as XVmar, with the accesses
//    made through a mapping. Mapped faults ask for one page at a time (zircon-semantics.md
//    10.2), so requests that a multi-page vmo_write makes as one run are per page here.
// NotModifiedOnFailedVmoWrite and ModifiedOnPartialVmoWrite are here too: their vmo_write
// copies from a mapping of another pager VMO whose READ the test fails.
// A fatal page fault (the peer's WaitForCrash) is a SIGBUS caught by ProbeLoad/ProbeStore in
// the faulting thread, with si_addr = the faulting address and FaultStatusForAddress = the
// peer's synth code. Data is checked both with Vmo::Read and through the mapping (a checked
// page must be present: reading an absent page through the mapping would send a READ).
//
// Not here, with the reason:
//  - NoDirtyRequestsOnMapRange: needs ZX_VM_MAP_RANGE (pre-populating a mapping).
//  - DirtyAfterMapProtect (TD): needs zx_vmar_protect.
//  - SliceWrite (TD): writes through a mapping of a slice.
//  - NoDirtyRequestsForClones, NoQueryOnClone (TD), OpZeroClone (TD), NotModifiedCloneWrite (TD):
//    clones (their mapped accesses only read the clone).
//  - PinForRead/PinForWrite/PinnedWriteback/ReadPinAwaitingClean/WritePinAwaitingClean (TD),
//    DelayedPinAwaitingClean, FailedPinAwaitingClean, DirtyAfterPin, PinAfterDirty,
//    PinForWriteUnpopulated (TD), NotModifiedFailedPinWrite, NotModifiedPartialFailedPinWrite,
//    SlicePinWrite (TD), OpZeroPinned (TD), NotModifiedOnFailedResize (TD): pinning.
//  - The peer's VerifyDirtyRanges also queries into an unpopulated mapped buffer; Mapping only
//    registers pager-backed VMOs, and QueryDirtyRanges must not copy into an absent page of a
//    pager VMO's mapping (mapping.h), so there is no fault-capture path to exercise.
//  - Entries whose accesses are only zx_vmo_write/read, op_range, resize or pager ops (the
//    Writeback{Combined,OutOfOrder*}, ResizeWriteback{Intersecting*,Sequential,PartialEnd,
//    Repeated,...}, OpZero*, Commit*, Invalid*, Query*) are in pager_writeback_test.cc only;
//    the mapped counterparts of their writes are covered by the Vmar tests below.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mapping_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
constexpr std::chrono::milliseconds kPoll{0};
constexpr uint64_t kZ = kVmoDirtyRangeIsZero;

// A 64-bit word whose bytes are all `byte`.
constexpr uint64_t Bytes(uint8_t byte) { return 0x0101010101010101ull * byte; }

// Expands a TEST_WITH_AND_WITHOUT_TRAP_DIRTY entry into NameTrapDirty and NameNoTrapDirty.
#define TEST_WITH_AND_WITHOUT_TRAP_DIRTY(name, base_options)                          \
  void name(uint32_t create_option);                                                  \
  TEST(PagerWritebackVmar, name##TrapDirty) { name((base_options) | kVmoTrapDirty); } \
  TEST(PagerWritebackVmar, name##NoTrapDirty) { name(base_options); }                 \
  void name(uint32_t create_option)

// The content UserPager supplies for pages [first, first+count) of `vmo`.
std::vector<uint8_t> Pattern(const TestVmo& vmo, uint64_t first, uint64_t count) {
  std::vector<uint8_t> out(P(count));
  for (uint64_t i = 0; i < count; ++i) {
    UserPager::Pattern(vmo.key, first + i, out.data() + P(i));
  }
  return out;
}

// Puts `value` in the word at byte `offset` of `expected`.
void SetWord(std::vector<uint8_t>* expected, uint64_t offset, uint64_t value) {
  std::memcpy(expected->data() + offset, &value, sizeof(value));
}

::testing::AssertionResult Compare(const std::vector<uint8_t>& data, const uint8_t* expected,
                                   uint64_t first, const char* how) {
  for (uint64_t i = 0; i < data.size(); ++i) {
    if (data[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << how << ": byte " << i % kPageSize << " of page " << first + i / kPageSize << " is "
             << int{data[i]} << ", expected " << int{expected[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

// check_buffer_data through Vmo::Read: pages [first, first+count) hold `expected`, which
// covers the whole VMO from page 0.
::testing::AssertionResult CheckData(const TestVmo& vmo, uint64_t first, uint64_t count,
                                     const std::vector<uint8_t>& expected) {
  std::vector<uint8_t> data(P(count));
  if (Status s = vmo.vmo.Read(data.data(), P(first), P(count)); s != Status::kOk) {
    return ::testing::AssertionFailure() << "Vmo::Read failed: " << s;
  }
  return Compare(data, expected.data() + P(first), first, "Vmo::Read");
}

// check_buffer_data through the mapping: pages [first, first+count) of `map` (page indices
// within the mapping) hold `expected` (which covers the whole mapping). A fault fails.
::testing::AssertionResult CheckMapped(const Mapping& map, uint64_t first, uint64_t count,
                                       const std::vector<uint8_t>& expected) {
  std::vector<uint8_t> data(P(count));
  const Probe probe = mapping_util_internal::Run(
      [&] { std::memcpy(data.data(), map.data() + P(first), P(count)); });
  if (!probe.ok) {
    return ::testing::AssertionFailure()
           << "mapped read faulted: signal " << probe.signo << " at " << probe.addr << " ("
           << FaultStatusForAddress(probe.addr) << ")";
  }
  return Compare(data, expected.data() + P(first), first, "mapping");
}

// Both of the above for single pages of a mapping of the whole VMO.
::testing::AssertionResult CheckPages(const TestVmo& vmo, const Mapping& map,
                                      std::initializer_list<uint64_t> pages,
                                      const std::vector<uint8_t>& expected) {
  for (uint64_t page : pages) {
    if (auto r = CheckData(vmo, page, 1, expected); !r) return r;
    if (auto r = CheckMapped(map, page, 1, expected); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

// Fills pages [first, first+count) of `map` with `value` in increasing address order (so the
// pages fault one after the other), catching a fault.
Probe FillPages(const Mapping& map, uint64_t first, uint64_t count, uint8_t value) {
  return mapping_util_internal::Run([&] {
    auto* words = reinterpret_cast<volatile uint64_t*>(map.data() + P(first));
    for (uint64_t i = 0; i < P(count) / sizeof(uint64_t); ++i) words[i] = Bytes(value);
  });
}

// WaitForCrash(addr, status): the access raised SIGBUS at `addr` because of `status`.
::testing::AssertionResult CrashedWith(const Probe& probe, const void* addr, Status status) {
  if (probe.ok) return ::testing::AssertionFailure() << "the access did not fault";
  if (probe.signo != SIGBUS) {
    return ::testing::AssertionFailure() << "signal " << probe.signo << ", expected SIGBUS";
  }
  if (probe.addr != addr) {
    return ::testing::AssertionFailure() << "si_addr " << probe.addr << ", expected " << addr;
  }
  if (const Status actual = FaultStatusForAddress(addr); actual != status) {
    return ::testing::AssertionFailure()
           << "FaultStatusForAddress " << actual << ", expected " << status;
  }
  return ::testing::AssertionSuccess();
}

// No READ or DIRTY request for `vmo` is waiting.
bool NoRequests(UserPager& pager, const TestVmo& vmo) {
  return !pager.HasPageRequest(vmo, kPagerVmoRead, kPoll) &&
         !pager.HasPageRequest(vmo, kPagerVmoDirty, kPoll);
}

uint64_t CommittedBytes(const TestVmo& vmo) {
  VmoInfo info{};
  vmo.vmo.GetInfo(&info);
  return info.committed_bytes;
}

Status Resize(const TestVmo& vmo, uint64_t pages) { return vmo.vmo.SetSize(P(pages)); }

Status ZeroPages(const TestVmo& vmo, uint64_t first, uint64_t count) {
  return vmo.vmo.OpRange(kVmoOpZero, P(first), P(count));
}

// Supplies pages [first, first+count) from an aux VMO with no committed pages: zero markers.
Status SupplyZeroPages(UserPager& pager, const TestVmo& vmo, uint64_t first, uint64_t count) {
  Vmo aux;
  if (Status s = Vmo::Create(P(count), 0, &aux); s != Status::kOk) return s;
  return pager.pager().SupplyPages(vmo.vmo, P(first), P(count), aux, 0);
}

// Maps pages [first, first+count) of `vmo` for reading and writing.
Status Map(const TestVmo& vmo, uint64_t first, uint64_t count, Mapping* map) {
  return Mapping::Create(vmo.vmo, P(first), P(count), kMapRead | kMapWrite, map);
}

// ---- DIRTY request generation ----

// SimpleTrapDirty (Vmar variant): the read and the checks go through the mapping; the write is
// a vmo_write in both of the peer's variants, so its result must show through the mapping.
TEST(PagerWritebackVmar, SimpleTrapDirtyVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  uint64_t word = 0;
  TestThread t1([&] { return ProbeLoad(map.data() + 8, &word).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  uint64_t pattern_word;
  std::memcpy(&pattern_word, expected.data() + 8, 8);
  EXPECT_EQ(pattern_word, word);

  expected[0] = 0x77;
  TestThread t2([&] {
    const uint8_t data = 0x77;
    return vmo->vmo.Write(&data, 0, 1) == Status::kOk;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());

  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Without TRAP_DIRTY a write goes through without blocking.
  auto vmo_no_trap = pager.CreateVmo(1);
  ASSERT_NE(vmo_no_trap, nullptr);
  Mapping map_no_trap;
  ASSERT_EQ(Status::kOk, Map(*vmo_no_trap, 0, 1, &map_no_trap));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo_no_trap, 0, 1));
  const uint8_t data = 0xcc;
  ASSERT_EQ(Status::kOk, vmo_no_trap->vmo.Write(&data, 0, 1));
  expected = Pattern(*vmo_no_trap, 0, 1);
  expected[0] = data;
  EXPECT_TRUE(CheckMapped(map_no_trap, 0, 1, expected));

  Vmo plain;
  EXPECT_EQ(Status::kInvalidArgs, Vmo::Create(kPageSize, kVmoTrapDirty, &plain));
  EXPECT_TRUE(NoRequests(pager, *vmo_no_trap));
}

TEST(PagerWritebackVmar, DirtyRequestsViaMapping) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 20;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPages, &map));

  // Pages {0, 2, 4, 6, 8}, then 3, then [11, 16) one by one.
  std::vector<uint64_t> pages = {0, 2, 4, 6, 8, 3, 11, 12, 13, 14, 15};
  for (uint64_t page : pages) SetWord(&expected, P(page), Bytes(0xcc));
  TestThread t([&] {
    for (uint64_t page : pages) {
      if (!ProbeStore(map.data() + P(page), Bytes(0xcc)).ok) return false;
    }
    return true;
  });
  t.Start();

  for (uint64_t page : {0, 2, 4, 6, 8, 3}) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, page, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, page, 1));
  }
  // One page per fault: dirtying the whole run at the first request spares the rest.
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 11, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 11, 5));
  ASSERT_TRUE(t.Wait());

  EXPECT_TRUE(
      DirtyRangesAre(pager, *vmo, {{0, 1, 0}, {2, 3, 0}, {6, 1, 0}, {8, 1, 0}, {11, 5, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWritebackVmar, NoDirtyRequestsOnRead) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 3;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPages, &map));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);

  std::vector<uint64_t> words(kNumPages);
  TestThread t([&] {
    for (uint64_t i = 0; i < kNumPages; ++i) {
      if (!ProbeLoad(map.data() + P(i), &words[i]).ok) return false;
    }
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  ASSERT_TRUE(t.Wait());
  for (uint64_t i = 0; i < kNumPages; ++i) {
    uint64_t want;
    std::memcpy(&want, expected.data() + P(i), 8);
    EXPECT_EQ(want, words[i]) << "page " << i;
  }
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoDirty));

  // A vmo read needs nothing more either.
  std::vector<uint8_t> buf(P(kNumPages));
  ASSERT_EQ(Status::kOk, vmo->vmo.Read(buf.data(), 0, P(kNumPages)));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));
}

TEST(PagerWritebackVmar, DirtyRequestsRepeatedWrites) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  SetWord(&expected, 0, Bytes(0xcc));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xcc)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The second write does not trap.
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
}

TEST(PagerWritebackVmar, DirtyRequestsOnWriteAfterRead) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  // The read maps the page (write-protected): no request.
  uint64_t word = 0;
  TestThread t1([&] { return ProbeLoad(map.data(), &word).ok; });
  t1.Start();
  ASSERT_TRUE(t1.Wait());
  uint64_t want;
  std::memcpy(&want, expected.data(), 8);
  EXPECT_EQ(want, word);
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // The first write to it still traps.
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DirtyRequestsOverlap through a mapping, where every fault asks for its own page: threads
// storing to a page whose DIRTY request is outstanding add no request and all wait for it.
TEST(PagerWritebackVmar, DirtyRequestsOverlapVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 3;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPages, &map));

  SetWord(&expected, P(1), Bytes(0xaa));
  SetWord(&expected, P(1) + 8, Bytes(0xbb));
  TestThread t1([&] { return ProbeStore(map.data() + P(1), Bytes(0xaa)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  TestThread t2([&] { return ProbeStore(map.data() + P(1) + 8, Bytes(0xbb)).ok; });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  ASSERT_TRUE(t1.WaitForBlocked());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DirtyRequestsRandomOffsets through a mapping: a store to an absent page asks READ then
// DIRTY, to a clean page DIRTY, to a dirty page nothing; one page per fault.
TEST(PagerWritebackVmar, DirtyRequestsRandomOffsetsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(42);
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(round);
    UserPager pager;
    auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
    ASSERT_NE(vmo, nullptr);
    Mapping map;
    ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPages, &map));
    int state[kNumPages];  // 0 absent, 1 clean, 2 dirty
    for (uint64_t i = 0; i < kNumPages; ++i) {
      state[i] = static_cast<int>(rng() % 3);
      if (state[i] >= 1) {
        ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
      }
      if (state[i] == 2) {
        ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, i, 1));
      }
    }
    std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);
    for (uint64_t i = 0; i < kNumPages; ++i) SetWord(&expected, P(i) + 16, Bytes(0x5a));

    TestThread t([&] {
      for (uint64_t i = 0; i < kNumPages; ++i) {
        if (!ProbeStore(map.data() + P(i) + 16, Bytes(0x5a)).ok) return false;
      }
      return true;
    });
    t.Start();
    for (uint64_t i = 0; i < kNumPages; ++i) {
      if (state[i] == 0) {
        ASSERT_TRUE(pager.WaitForPageRead(*vmo, i, 1)) << "page " << i;
        ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
      }
      if (state[i] <= 1) {
        ASSERT_TRUE(pager.WaitForPageDirty(*vmo, i, 1)) << "page " << i;
        ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, i, 1));
      }
    }
    ASSERT_TRUE(t.Wait());
    EXPECT_TRUE(NoRequests(pager, *vmo));
    EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
    EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
    EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));
  }
}

TEST(PagerWritebackVmar, FailDirtyRequests) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 2;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, kNumPages);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  // A mapped write whose DIRTY request fails crashes with the failure.
  Probe probe;
  TestThread t1([&] {
    probe = ProbeStore(map.data(), Bytes(0xcc));
    return true;
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kIo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  // A vmo_write whose DIRTY request fails returns the failure.
  TestThread t2([&] {
    const uint8_t data = 0xdd;
    return vmo->vmo.Write(&data, P(1), 1);
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 1, 1));
  ASSERT_TRUE(t2.WaitForFailure(Status::kIo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// A page dirtied before it is mapped can be written through the new mapping without a request.
TEST(PagerWritebackVmar, NoDirtyRequestsMapExistingDirty) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  expected[0] = 0xcc;
  TestThread t1([&] {
    const uint8_t data = 0xcc;
    return vmo->vmo.Write(&data, 0, 1) == Status::kOk;
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  Mapping map;
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t2([&] {
    return Map(*vmo, 0, 1, &map) == Status::kOk && ProbeStore(map.data(), Bytes(0xdd)).ok;
  });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
}

TEST(PagerWritebackVmar, SimpleDirtyNoTrap) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  expected[0] = 0x77;
  const uint8_t data = 0x77;
  ASSERT_EQ(Status::kOk, vmo->vmo.Write(&data, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // A write through a mapping dirties the page again, without a request.
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  SetWord(&expected, 0, Bytes(0x55));
  ASSERT_TRUE(ProbeStore(map.data(), Bytes(0x55)).ok);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DirtyNoTrapRandomOffsets through a mapping: stores over markers and pages commit and dirty
// everything without requests.
TEST(PagerWritebackVmar, DirtyNoTrapRandomOffsetsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 10;
  std::mt19937 rng(7);
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPages, &map));
  std::vector<uint8_t> expected(P(kNumPages), 0);
  uint64_t non_zero = 0;
  for (uint64_t i = 0; i < kNumPages; ++i) {
    if (rng() % 2) {
      ++non_zero;
      ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, i, 1));
      UserPager::Pattern(vmo->key, i, expected.data() + P(i));
    } else {
      ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, i, 1));
    }
  }
  EXPECT_EQ(P(non_zero), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));

  uint8_t value = 0x77;
  for (uint64_t i = 0; i < kNumPages; ++i, ++value) {
    SetWord(&expected, P(i), Bytes(value));
    ASSERT_TRUE(ProbeStore(map.data() + P(i), Bytes(value)).ok) << "page " << i;
  }
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, kNumPages, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Zero page markers ----

TEST(PagerWritebackVmar, DirtyRequestsForZeroPages) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 2;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, kNumPages));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  std::vector<uint8_t> expected(P(kNumPages), 0);
  expected[0] = 0xaa;
  TestThread t1([&] {
    const uint8_t data = 0xaa;
    return vmo->vmo.Write(&data, 0, 1) == Status::kOk;
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));

  // The second page, through a mapping of that page alone.
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 1, 1, &map));
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_EQ(P(kNumPages), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  uint64_t word = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &word).ok);
  EXPECT_EQ(Bytes(0xbb), word);
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPages, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// FailDirtyRequestsForZeroPages through a mapping: the store crashes; nothing is committed.
TEST(PagerWritebackVmar, FailDirtyRequestsForZeroPagesVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  const std::vector<uint8_t> expected(P(1), 0);

  Probe probe;
  TestThread t([&] {
    probe = ProbeStore(map.data() + 8, Bytes(0xaa));
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data() + 8, Status::kIo));

  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// CannotOverwriteZeroPage through a mapping: the marker reads as zeros through the mapping, a
// supply over it changes nothing, and a store forks it into a real dirty page.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(CannotOverwriteZeroPageVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  Vmo aux;
  ASSERT_EQ(Status::kOk, Vmo::Create(P(1), 0, &aux));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  std::vector<uint8_t> expected(P(1), 0);
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  const uint8_t data = 0xaa;
  ASSERT_EQ(Status::kOk, aux.Write(&data, 0, 1));
  ASSERT_EQ(Status::kOk, pager.pager().SupplyPages(vmo->vmo, 0, P(1), aux, 0));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  SetWord(&expected, 0, Bytes(0xbb));
  TestThread t([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Writeback begin/end ----

// SimpleWriteback through a mapping: after WRITEBACK_END the page is clean again and the
// next store is seen (a DIRTY request with TRAP_DIRTY, silent dirtying without).
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(SimpleWritebackVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  SetWord(&expected, 0, Bytes(0x77));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0x77)).ok; });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DirtyDuringWriteback through a mapping (scenario 16). The page is first written through the
// mapping while Dirty, so WRITEBACK_BEGIN has a writable mapping to revoke.
TEST(PagerWritebackVmar, DirtyDuringWritebackVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  SetWord(&expected, 0, Bytes(0xbb));
  TestThread t0([&] { return ProbeStore(map.data(), Bytes(0xbb)).ok; });
  t0.Start();
  ASSERT_TRUE(t0.Wait());
  EXPECT_TRUE(NoRequests(pager, *vmo));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  // A write during writeback traps; ending the writeback before the ack cleans the page.
  SetWord(&expected, 0, Bytes(0xcc));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xcc)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  ASSERT_TRUE(t1.WaitForBlocked());
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));

  // Acking during the writeback keeps the page dirty past WRITEBACK_END.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t2([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWritebackVmar, WritebackWithMapping) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  // The first write traps.
  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The next one goes through without a fault.
  SetWord(&expected, 0, Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data(), Bytes(0xbb)).ok);
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // WRITEBACK_BEGIN revokes write access: the next write traps; failing it crashes the writer.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  Probe probe;
  TestThread t2([&] {
    probe = ProbeStore(map.data(), Bytes(0xcc));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kIo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // The failed write did not redirty the page: WRITEBACK_END cleans it.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));

  // And the next write traps again.
  SetWord(&expected, 0, Bytes(0xdd));
  TestThread t3([&] { return ProbeStore(map.data(), Bytes(0xdd)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Resize and the dirty zero tail ----

// ResizeSupplyZero through a mapping: mapped loads of the grown tail read zeros without a
// READ; supplying into the tail is ignored; without TRAP_DIRTY stores dirty it silently.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeSupplyZeroVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  constexpr uint64_t kNumPages = 2;
  constexpr uint64_t kNumPagesAfterResize = 4;
  UserPager pager;
  auto vmo = pager.CreateVmo(kNumPages, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, kNumPagesAfterResize));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, kNumPagesAfterResize, &map));
  std::vector<uint8_t> expected(P(kNumPagesAfterResize), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));

  std::vector<uint64_t> words(kNumPagesAfterResize, ~0ull);
  TestThread t([&] {
    for (uint64_t i = 0; i < kNumPagesAfterResize; ++i) {
      if (!ProbeLoad(map.data() + P(i), &words[i]).ok) return false;
    }
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, kNumPages));
  ASSERT_TRUE(t.Wait());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  for (uint64_t i = 0; i < kNumPagesAfterResize; ++i) {
    uint64_t want;
    std::memcpy(&want, expected.data() + P(i), 8);
    EXPECT_EQ(want, words[i]) << "page " << i;
  }
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Supplying into the tail is ignored.
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 2, 2));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));

  if (create_option & kVmoTrapDirty) return;  // covered by ResizeDirtyRequestVmar

  ASSERT_TRUE(FillPages(map, 2, 2, 0xaa).ok);
  std::fill(expected.begin() + P(2), expected.end(), 0xaa);
  EXPECT_EQ(P(4), CommittedBytes(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(CheckMapped(map, 0, kNumPagesAfterResize, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 2, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeDirtyRequest (scenario 17) through mappings: stores into a grown tail need DIRTY and
// no READ, one page per fault.
TEST(PagerWritebackVmar, ResizeDirtyRequestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map3;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map3));

  // Page 1 (clean) and page 2 (tail).
  TestThread t1([&] { return FillPages(map3, 1, 2, 0xaa).ok; });
  t1.Start();
  ASSERT_TRUE(t1.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  ASSERT_TRUE(t1.Wait());

  std::vector<uint8_t> expected(P(8), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  std::fill(expected.begin() + P(1), expected.begin() + P(3), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map3, 0, 3, expected));
  EXPECT_EQ(P(3), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));

  // A store after a gap in the tail asks only for its page.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  Mapping map6;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map6));
  TestThread t2([&] { return FillPages(map6, 4, 1, 0xbb).ok; });
  t2.Start();
  ASSERT_TRUE(t2.WaitForBlocked());
  EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 1));
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin() + P(4), expected.begin() + P(5), 0xbb);
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map6, 0, 6, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}}));

  // Stores over everything ask for each non-dirty page in turn.
  ASSERT_EQ(Status::kOk, Resize(*vmo, 8));
  Mapping map8;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 8, &map8));
  TestThread t3([&] { return FillPages(map8, 0, 8, 0xcc).ok; });
  t3.Start();
  for (uint64_t page : {0, 3, 5, 6, 7}) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, page, 1)) << "page " << page;
    EXPECT_FALSE(pager.HasPageRequest(*vmo, kPagerVmoRead));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, page, 1));
  }
  ASSERT_TRUE(t3.Wait());
  std::fill(expected.begin(), expected.end(), 0xcc);
  EXPECT_TRUE(CheckData(*vmo, 0, 8, expected));
  EXPECT_TRUE(CheckMapped(map8, 0, 8, expected));
  EXPECT_TRUE(CheckMapped(map3, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 8, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeWithOutstandingDirtyRequests (scenario 18) through a mapping: shrinking below pending
// DIRTY and READ requests crashes the blocked accesses with OUT_OF_RANGE.
TEST(PagerWritebackVmar, ResizeWithOutstandingDirtyRequestsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(5, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{5, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map));

  Probe probes[4];
  uint64_t word = 0;
  TestThread t1([&] {  // marker
    probes[0] = ProbeStore(map.data() + P(1), Bytes(0xaa));
    return true;
  });
  TestThread t2([&] {  // clean page
    probes[1] = ProbeStore(map.data() + P(3), Bytes(0xbb));
    return true;
  });
  TestThread t3([&] {  // tail
    probes[2] = ProbeStore(map.data() + P(5), Bytes(0xcc));
    return true;
  });
  TestThread t4([&] {  // absent
    probes[3] = ProbeLoad(map.data() + P(2), &word);
    return true;
  });
  t1.Start();
  t2.Start();
  t3.Start();
  t4.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 5, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 2, 1));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  for (TestThread* t : {&t1, &t2, &t3, &t4}) ASSERT_TRUE(t->WaitForBlocked());

  ASSERT_EQ(Status::kOk, Resize(*vmo, 1));
  ASSERT_TRUE(t1.Wait());
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  ASSERT_TRUE(t4.Wait());
  EXPECT_TRUE(CrashedWith(probes[0], map.data() + P(1), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[1], map.data() + P(3), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[2], map.data() + P(5), Status::kOutOfRange));
  EXPECT_TRUE(CrashedWith(probes[3], map.data() + P(2), Status::kOutOfRange));

  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 1, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 3, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.DirtyPages(*vmo, 5, 1));
  EXPECT_EQ(Status::kOutOfRange, pager.SupplyPages(*vmo, 2, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ResizeWritebackNewDirtyRequests through a mapping: a written-back zero gap is unsupplied
// (a store needs READ, then DIRTY), and a written-back page traps again.
TEST(PagerWritebackVmar, ResizeWritebackNewDirtyRequestsVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable | kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  SetWord(&expected, P(2), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok; });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  UserPager::Pattern(vmo->key, 1, expected.data() + P(1));
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data() + P(1), Bytes(0xbb)).ok; });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  SetWord(&expected, P(2), Bytes(0xcc));
  TestThread t3([&] { return ProbeStore(map.data() + P(2), Bytes(0xcc)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 2));
  ASSERT_TRUE(t2.Wait());
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackWithMapping, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));
  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  // Commit a page in the grown range.
  SetWord(&expected, P(1), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(1), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // Writeback revoked write access: the store is seen again.
  SetWord(&expected, P(1), Bytes(0xbb));
  TestThread t2([&] { return ProbeStore(map.data() + P(1), Bytes(0xbb)).ok; });
  t2.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  }
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ResizeWritebackInterleavedWriteWithMapping, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 6));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 5, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 6, &map));
  std::vector<uint8_t> expected(P(6), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 5));

  // Write two pages of the range being written back, leaving gaps.
  SetWord(&expected, P(2), Bytes(0xaa));
  SetWord(&expected, P(4), Bytes(0xaa));
  TestThread t1([&] {
    return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok &&
           ProbeStore(map.data() + P(4), Bytes(0xaa)).ok;
  });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 4, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 4, 1));
  }
  ASSERT_TRUE(t1.Wait());
  const std::vector<VmoDirtyRange> ranges1 = {
      {1, 1, kZ}, {2, 1, 0}, {3, 1, kZ}, {4, 1, 0}, {5, 1, kZ}};
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, ranges1));
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 6, expected));

  // They were dirtied after the begin: writing them again does not block.
  SetWord(&expected, P(2), Bytes(0xbb));
  SetWord(&expected, P(4), Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data() + P(2), Bytes(0xbb)).ok);
  ASSERT_TRUE(ProbeStore(map.data() + P(4), Bytes(0xbb)).ok);
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, ranges1));
  EXPECT_TRUE(CheckData(*vmo, 0, 6, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 6, expected));

  // The end cleans only the gaps.
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 5));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 1, 0}, {4, 1, 0}}));

  // A written-back gap is unsupplied: READ, then DIRTY if trapping.
  UserPager::Pattern(vmo->key, 3, expected.data() + P(3));
  SetWord(&expected, P(3), Bytes(0xdd));
  TestThread t3([&] { return ProbeStore(map.data() + P(3), Bytes(0xdd)).ok; });
  t3.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 3, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 3, 1));
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 3, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 3, 1));
  }
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{2, 3, 0}}));
  // Pages 1 and 5 are absent now (10.5): reading them would need a READ.
  EXPECT_TRUE(CheckPages(*vmo, map, {0, 2, 3, 4}, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 2, 3));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 2, 3));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(CheckPages(*vmo, map, {0, 2, 3, 4}, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- ZX_VMO_OP_ZERO with mappings ----

// OpZeroDecommit through a mapping: zeroing drops the pages from the mapping (including one
// mapped writable), which then reads zeros; a store to a zeroed page is seen again.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroDecommitVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 2, kZ}}));

  SetWord(&expected, P(2), Bytes(0xaa));
  TestThread t1([&] { return ProbeStore(map.data() + P(2), Bytes(0xaa)).ok; });
  t1.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_EQ(P(2), CommittedBytes(*vmo));

  // Zeroing everything needs no request and leaves one zero range from 0.
  TestThread t2([&] { return ZeroPages(*vmo, 0, 3); });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  std::fill(expected.begin(), expected.end(), 0);
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 3, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  // Page 2 was mapped writable before the zeroing; a store to it is seen again.
  SetWord(&expected, P(2), Bytes(0xbb));
  TestThread t3([&] { return ProbeStore(map.data() + P(2), Bytes(0xbb)).ok; });
  t3.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t3.Wait());
  EXPECT_TRUE(CheckMapped(map, 0, 3, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 3, expected));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, kZ}, {2, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// OpZeroUnblocksReadRequest through a mapping: zeroing a page a mapped load waits for
// resolves the READ and the load gets zeros.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(OpZeroUnblocksReadRequestVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));

  uint64_t word = ~0ull;
  TestThread t([&] { return ProbeLoad(map.data() + P(1) + 24, &word).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(0u, word);

  std::vector<uint8_t> expected(P(2), 0);
  UserPager::Pattern(vmo->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DelayedDirtyNotFound (scenario 19) through a mapping: the stale ack fails and the blocked
// store retries with READ, then DIRTY.
TEST(PagerWritebackVmar, DelayedDirtyNotFoundVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, Resize(*vmo, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 2, &map));

  TestThread t([&] { return ProbeStore(map.data() + P(1), Bytes(0xaa)).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));

  EXPECT_EQ(Status::kNotFound, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 1, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 1, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, 0}}));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 2);
  SetWord(&expected, P(1), Bytes(0xaa));
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 2, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// DelayedReadZeroRange through a mapping.
TEST(PagerWritebackVmar, DelayedReadZeroRangeVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  uint64_t word = ~0ull;
  TestThread t([&] { return ProbeLoad(map.data(), &word).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));

  // OP_ZERO resolves the READ: the load gets zeros.
  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(0u, word);

  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
}

// DelayedDirtyZeroRange through a mapping.
TEST(PagerWritebackVmar, DelayedDirtyZeroRangeVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty | kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));

  TestThread t([&] { return ProbeStore(map.data() + 8, Bytes(0xaa)).ok; });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));

  ASSERT_EQ(Status::kOk, ZeroPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, kZ}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginZeroPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  EXPECT_EQ(Status::kNotFound, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, SupplyZeroPages(pager, *vmo, 0, 1));
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  std::vector<uint8_t> expected(P(1), 0);
  SetWord(&expected, 8, Bytes(0xaa));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Detach with dirty state ----

// WritebackDirtyPagesAfterDetach: a page dirtied through a mapping survives detach and stays
// readable through the mapping and with a vmo read.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackDirtyPagesAfterDetachVmar, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);

  SetWord(&expected, 0, Bytes(0xaa));
  TestThread t([&] { return ProbeStore(map.data(), Bytes(0xaa)).ok; });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));

  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// WritebackResizedRangeAfterDetach: the dirty zero tail and a page dirtied through a mapping
// survive detach and read back through the mapping.
TEST_WITH_AND_WITHOUT_TRAP_DIRTY(WritebackResizedRangeAfterDetachVmar, kVmoResizable) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, Resize(*vmo, 3));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 3, &map));
  std::vector<uint8_t> expected(P(3), 0);

  SetWord(&expected, P(2), Bytes(0xbb));
  TestThread t([&] { return ProbeStore(map.data() + P(2), Bytes(0xbb)).ok; });
  t.Start();
  if (create_option & kVmoTrapDirty) {
    ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 2, 1));
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 2, 1));
  }
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{1, 1, kZ}, {2, 1, 0}}));
  EXPECT_TRUE(CheckMapped(map, 1, 2, expected));
  EXPECT_TRUE(CheckData(*vmo, 1, 2, expected));

  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 1, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 1, 2));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// NoDirtyRequestsAfterDetach (Vmar variant): after detach a mapped write to a clean or an
// AwaitingClean page crashes with BAD_STATE instead of trapping; WRITEBACK_END still cleans.
TEST(PagerWritebackVmar, NoDirtyRequestsAfterDetachVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo1 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo1, nullptr);
  Mapping map1;
  ASSERT_EQ(Status::kOk, Map(*vmo1, 0, 1, &map1));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo1, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo1));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo1->key));

  Probe probe1;
  TestThread t1([&] {
    probe1 = ProbeStore(map1.data(), Bytes(0xaa));
    return true;
  });
  t1.Start();
  ASSERT_TRUE(t1.Wait());
  EXPECT_TRUE(CrashedWith(probe1, map1.data(), Status::kBadState));
  EXPECT_TRUE(NoRequests(pager, *vmo1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo1, {}));

  // An AwaitingClean page: kept by the detach and readable, but a write still crashes.
  auto vmo2 = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo2, nullptr);
  Mapping map2;
  ASSERT_EQ(Status::kOk, Map(*vmo2, 0, 1, &map2));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo2, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo2));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo2->key));
  const std::vector<uint8_t> expected = Pattern(*vmo2, 0, 1);
  EXPECT_TRUE(CheckMapped(map2, 0, 1, expected));

  Probe probe2;
  TestThread t2([&] {
    probe2 = ProbeStore(map2.data() + 8, Bytes(0xaa));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe2, map2.data() + 8, Status::kBadState));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {{0, 1, 0}}));
  EXPECT_TRUE(CheckData(*vmo2, 0, 1, expected));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo2, 0, 1));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo2, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo2));
}

// DetachWithPendingDirtyRequest (Vmar variant): detach crashes a mapped write waiting for its
// DIRTY request with BAD_STATE and drops the clean page.
TEST(PagerWritebackVmar, DetachWithPendingDirtyRequestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  EXPECT_EQ(P(1), CommittedBytes(*vmo));

  Probe probe;
  TestThread t([&] {
    probe = ProbeStore(map.data(), Bytes(0xaa));
    return true;
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.DetachVmo(*vmo));
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  ASSERT_TRUE(t.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kBadState));

  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_EQ(0u, CommittedBytes(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// ---- Modified statistics ----

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnMappingWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));  // so that the write does not trap
  }
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  EXPECT_FALSE(pager.IsModified(*vmo));

  SetWord(&expected, 0, Bytes(0xbb));
  ASSERT_TRUE(ProbeStore(map.data(), Bytes(0xbb)).ok);
  EXPECT_TRUE(pager.IsModified(*vmo));
  EXPECT_FALSE(pager.IsModified(*vmo));  // the query reset it
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NotModifiedOnMappingRead, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  EXPECT_FALSE(pager.IsModified(*vmo));

  uint64_t word = 0;
  ASSERT_TRUE(ProbeLoad(map.data(), &word).ok);
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  uint64_t want;
  std::memcpy(&want, expected.data(), 8);
  EXPECT_EQ(want, word);
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

TEST(PagerWritebackVmar, NotModifiedOnFailedDirtyRequest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoTrapDirty);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));

  // A vmo_write whose DIRTY request fails.
  TestThread t1([&] {
    const uint8_t data = 0xaa;
    return vmo->vmo.Write(&data, 0, 1);
  });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t1.WaitForFailure(Status::kIo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));

  // A mapped write whose DIRTY request fails.
  Mapping map;
  ASSERT_EQ(Status::kOk, Map(*vmo, 0, 1, &map));
  Probe probe;
  TestThread t2([&] {
    probe = ProbeStore(map.data(), Bytes(0xbb));
    return true;
  });
  t2.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 0, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 0, 1));
  ASSERT_TRUE(t2.Wait());
  EXPECT_TRUE(CrashedWith(probe, map.data(), Status::kIo));
  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(CheckMapped(map, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

// A vmo_write whose source buffer is a mapping of another pager VMO faults in that mapping
// from inside the copy. When the pager fails that READ, the copy must fail like one from an
// unmapped buffer: the write returns an error. If the failure is delivered as a SIGBUS queued
// to the writing thread instead, that signal arrives after the system call; threads under
// SourceFaultGuard count and ignore it (the test then fails on the count) instead of dying,
// and other threads keep mapping_util's handler.
class SourceFaultGuard {
 public:
  SourceFaultGuard() {
    mapping_util_internal::InstallHandlers();
    absorbed_ = 0;
    struct sigaction sa {};
    sa.sa_sigaction = &OnSigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous_);
  }
  ~SourceFaultGuard() { sigaction(SIGBUS, &previous_, nullptr); }
  SourceFaultGuard(const SourceFaultGuard&) = delete;
  SourceFaultGuard& operator=(const SourceFaultGuard&) = delete;

  // Called by the thread making the write.
  static void Enter() { t_inside_ = true; }
  static int absorbed() { return absorbed_.load(); }

 private:
  static void OnSigbus(int signo, siginfo_t* info, void* context) {
    if (t_inside_) {
      absorbed_++;
      return;
    }
    previous_.sa_sigaction(signo, info, context);
  }

  static inline thread_local bool t_inside_ = false;
  static inline std::atomic<int> absorbed_{0};
  static inline struct sigaction previous_ {};
};

// Runs vmo->vmo.Write(source, 0, len) on a thread, waits for the READ of `src` page
// `fail_page`, fails it, and returns whether the write then failed within a few seconds. If it
// did not, it reports whether the write asked for the failed page again, supplies it so that
// the thread ends, and returns false.
bool WriteFromFailedSource(UserPager& pager, const TestVmo& vmo, const TestVmo& src,
                           const Mapping& src_map, uint64_t len, uint64_t fail_page) {
  std::atomic<bool> done{false};
  TestThread t([&] {
    SourceFaultGuard::Enter();
    const Status result = vmo.vmo.Write(src_map.data(), 0, len);
    done = true;
    return result;
  });
  t.Start();
  EXPECT_TRUE(pager.WaitForPageRead(src, fail_page, 1));
  EXPECT_EQ(Status::kOk, pager.FailPages(src, fail_page, 1));
  const bool returned = PollUntil([&] { return done.load(); }, std::chrono::seconds(2));
  EXPECT_TRUE(returned) << "Vmo::Write did not return after the READ of its source was failed";
  if (!returned) {
    EXPECT_FALSE(pager.WaitForPageRead(src, fail_page, 1, std::chrono::milliseconds(500)))
        << "the write asked for the failed source page again";
    EXPECT_EQ(Status::kOk, pager.SupplyPages(src, fail_page, 1));  // let the thread end
  }
  // The write returns the status its source's READ was failed with (FailPages: kIo).
  const ::testing::AssertionResult failed = t.WaitForFailure(Status::kIo);
  EXPECT_TRUE(failed);
  EXPECT_EQ(0, SourceFaultGuard::absorbed()) << "a SIGBUS reached the writing thread";
  return returned && failed;
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(NotModifiedOnFailedVmoWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 1));
  const std::vector<uint8_t> expected = Pattern(*vmo, 0, 1);
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));  // so that the write does not trap
  }
  EXPECT_FALSE(pager.IsModified(*vmo));

  // The source is a mapping of an unsupplied pager VMO whose READ is failed.
  auto src = pager.CreateVmo(1);
  ASSERT_NE(src, nullptr);
  Mapping src_map;
  ASSERT_EQ(Status::kOk, Mapping::Create(src->vmo, 0, P(1), kMapRead | kMapWrite, &src_map));
  SourceFaultGuard guard;
  EXPECT_TRUE(WriteFromFailedSource(pager, *vmo, *src, src_map, 1, 0));

  EXPECT_FALSE(pager.IsModified(*vmo));
  EXPECT_TRUE(CheckData(*vmo, 0, 1, expected));
  // Pages are dirtied when looked up, before the copy (10.3).
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
  EXPECT_TRUE(NoRequests(pager, *src));
}

TEST_WITH_AND_WITHOUT_TRAP_DIRTY(ModifiedOnPartialVmoWrite, 0) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2, create_option);
  ASSERT_NE(vmo, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*vmo, 0, 2));
  std::vector<uint8_t> expected = Pattern(*vmo, 0, 2);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {}));
  EXPECT_FALSE(pager.IsModified(*vmo));
  if (create_option & kVmoTrapDirty) {
    ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 2));
  }

  // The source is a mapping of a pager VMO with page 0 supplied and page 1's READ failed: the
  // write copies one page and fails.
  auto src = pager.CreateVmo(2);
  ASSERT_NE(src, nullptr);
  ASSERT_EQ(Status::kOk, pager.SupplyPages(*src, 0, 1));
  Mapping src_map;
  ASSERT_EQ(Status::kOk, Mapping::Create(src->vmo, 0, P(2), kMapRead | kMapWrite, &src_map));
  {
    SourceFaultGuard guard;
    EXPECT_TRUE(WriteFromFailedSource(pager, *vmo, *src, src_map, P(2), 1));
  }
  EXPECT_TRUE(pager.IsModified(*vmo));
  UserPager::Pattern(src->key, 0, expected.data());
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 2, 0}}));
  EXPECT_TRUE(NoRequests(pager, *src));

  if (!(create_option & kVmoTrapDirty)) return;

  // A write whose DIRTY request for its second page is failed also modifies the VMO.
  ASSERT_EQ(Status::kOk, pager.WritebackBeginPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.WritebackEndPages(*vmo, 0, 2));
  ASSERT_EQ(Status::kOk, pager.DirtyPages(*vmo, 0, 1));
  TestThread t([&] {
    std::vector<uint8_t> data(P(2), 0xaa);
    return vmo->vmo.Write(data.data(), 0, P(2));
  });
  t.Start();
  ASSERT_TRUE(pager.WaitForPageDirty(*vmo, 1, 1));
  ASSERT_EQ(Status::kOk, pager.FailPages(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForFailure(Status::kIo));
  EXPECT_TRUE(pager.IsModified(*vmo));
  std::fill(expected.begin(), expected.begin() + P(1), 0xaa);
  EXPECT_TRUE(CheckData(*vmo, 0, 2, expected));
  EXPECT_TRUE(DirtyRangesAre(pager, *vmo, {{0, 1, 0}}));
  EXPECT_TRUE(NoRequests(pager, *vmo));
}

}  // namespace
}  // namespace upager::testing
