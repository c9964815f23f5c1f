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
//    made through a mapping. Mapped faults ask for one page at a time (docs/zircon-semantics.md
//    section 10.2), so requests that a multi-page vmo_write makes as one run are per page here.
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
// The zero page marker entries are in pager_writeback_vmar_zero_test.cc, detach with dirty
// state in pager_writeback_vmar_detach_test.cc, ZX_VMO_OP_ZERO and the modified flag in
// pager_writeback_vmar_modified_test.cc.
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
#include "pager_writeback_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

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

}  // namespace
}  // namespace upager::testing
