// Zircon's core pager tests through mappings (see pager_vmar_test.cc for the
// conventions): resize and unmap under waiters, detach, pager and port close, failures.
// Section numbers refer to docs/zircon-semantics.md.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "mapping_util.h"
#include "pager_vmar_util.h"
#include "test_util.h"
#include "upager/mapping.h"
#include "upager/pager.h"
#include "upager/port.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::testing {
namespace {

// ---- Mappings and resize interaction ----

// Unmapping while a thread is blocked in a fault on the mapping: the retried access finds
// nothing mapped (Zircon: fatal fault, ZX_ERR_NOT_FOUND; Linux: SIGSEGV at the address).
// upager wakes the thread when the mapping goes; the peer supplies the page before looking
// at the thread, here the supply comes after the thread has crashed, so that no new mapping
// (the aux VMO's, a thread stack) can take the freed address before the retry.
TEST(PagerVmar, VmarUnmapTest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map, kMapRead), Status::kOk);
  std::byte* const addr = map.data();

  Probe probe;
  TestThread t([&probe, addr] {
    uint64_t value = 0;
    probe = Load(addr, &value);
    return probe.ok;
  });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  map.Reset();

  t.Join();
  ASSERT_FALSE(probe.ok);
  EXPECT_EQ(probe.signo, SIGSEGV);
  EXPECT_EQ(probe.addr, addr);
  EXPECT_FALSE(t.handle().IsBlockedOnPager());

  // The VMO is still there (its handle) and the pager can still supply it.
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  std::vector<char> data(kPageSize);
  ASSERT_EQ(vmo->vmo.Read(data.data(), 0, kPageSize), Status::kOk);
  EXPECT_TRUE(UserPager::CheckPattern(vmo->key, 0, 1, data.data()));
  // At most the READ of the abandoned fault; nothing else.
  pager.WaitForPageRead(*vmo, 0, 1, kPoll);
  EXPECT_FALSE(pager.AnyPacket());
}

// Shrinking the VMO under a blocked mapped reader ends the access with SIGBUS, status
// kOutOfRange (Zircon: crash with ZX_ERR_OUT_OF_RANGE at the base address).
TEST(PagerVmar, ReadResizeTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1, kVmoResizable);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1, &probe); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(vmo->vmo.SetSize(0), Status::kOk);

  ASSERT_TRUE(WaitForCrash(t, probe, map.data(), Status::kOutOfRange));

  // A later access beyond the new end is refused by the kernel itself, with no request.
  uint64_t value = 0;
  const Probe again = Load(map.data() + 16, &value);
  EXPECT_TRUE(CrashedAt(again, map.data() + 16, Status::kOutOfRange));
  EXPECT_EQ(again.code, BUS_ADRERR);
  EXPECT_FALSE(pager.AnyPacket());
}

// ---- Detach, close and port lifetime ----

// Detach drops the clean pages and unmaps them; later mapped accesses, to the page that was
// supplied and to the one that never was, through the VMO's mapping or a clone's, crash with
// kBadState without a request (9.2).
TEST(PagerVmar, DecommitOnDetachTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);
  TestVmo clone;
  clone.key = vmo->key;
  ASSERT_EQ(vmo->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(2), &clone.vmo),
            Status::kOk);
  Mapping clone_map;
  ASSERT_EQ(MapVmo(clone, &clone_map), Status::kOk);

  // The page is read in through the clone's mapping: a READ on the root.
  TestThread t1([&] { return CheckMapped(clone_map, *vmo, 0, 1); });
  t1.Start();
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(t1.Wait());

  VmoInfo info{};
  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, kPageSize);
  ASSERT_EQ(clone.vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));

  ASSERT_EQ(vmo->vmo.GetInfo(&info), Status::kOk);
  EXPECT_EQ(info.committed_bytes, 0u);

  // The page that was supplied (and mapped), and the one that never was, through the VMO's
  // mapping and through the clone's.
  for (uint64_t page : {0, 1}) {
    for (const Mapping* m : {&map, &clone_map}) {
      Probe probe;
      TestThread t([&] { return CheckMapped(*m, *vmo, page, 1, &probe); });
      t.Start();
      ASSERT_TRUE(WaitForCrash(t, probe, m->data() + P(page), Status::kBadState))
          << "page " << page << (m == &map ? " of the VMO" : " of the clone");
    }
  }

  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  EXPECT_FALSE(pager.AnyPacket());
}

// The mapped counterpart of DetachNonMappingAccess (which is about vmo_read, pager_test.cc):
// a load straddling two pages faults them one at a time (READ[0,1), then READ[1,2) once page
// 0 is there); detaching then ends it with SIGBUS, kBadState, at the first byte of page 1.
TEST(PagerVmar, DetachNonMappingAccessVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] {
    uint64_t value = 0;
    probe =
        FencedRun([&] { value = LoadStraddling(map.data() + kPageSize - sizeof(uint64_t) / 2); });
    return probe.ok;
  });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.SupplyPages(*vmo, 0, 1), Status::kOk);
  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 1, 1));
  ASSERT_TRUE(t.WaitForBlocked());
  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);

  ASSERT_TRUE(WaitForCrash(t, probe, map.data() + kPageSize, Status::kBadState));

  ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  uint64_t offset = 0;
  uint64_t length = 0;
  EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  EXPECT_FALSE(pager.AnyPacket());
}

// Detaching the VMO or closing the pager while a mapped reader waits crashes the reader with
// kBadState at the accessed address (9.2, 5.3); a detach also queues COMPLETE. `late`: the
// pager has read the READ packet; otherwise it is still queued.
void ReadInterruptTest(bool late, bool detach) {
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1, &probe); });
  t.Start();

  if (late) {
    ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  } else {
    ASSERT_TRUE(t.WaitForBlocked());
  }

  if (detach) {
    ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  } else {
    pager.pager().Reset();
  }

  ASSERT_TRUE(WaitForCrash(t, probe, map.data(), Status::kBadState));

  if (detach) {
    ASSERT_TRUE(pager.WaitForPageComplete(vmo->key));
  }
  if (!late) {
    // The queued READ was withdrawn (and, for a closed pager, everything else too).
    uint64_t offset = 0;
    uint64_t length = 0;
    EXPECT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
  }
  EXPECT_FALSE(pager.AnyPacket());
}

TEST(PagerVmar, ReadCloseInterruptLateTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  ReadInterruptTest(/*late=*/true, /*detach=*/false);
}

TEST(PagerVmar, ReadDetachInterruptLateTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  ReadInterruptTest(/*late=*/true, /*detach=*/true);
}

TEST(PagerVmar, ReadCloseInterruptEarlyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  ReadInterruptTest(/*late=*/false, /*detach=*/false);
}

TEST(PagerVmar, ReadDetachInterruptEarlyTestVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  ReadInterruptTest(/*late=*/false, /*detach=*/true);
}

// Closing the pager crashes a blocked mapped reader with kBadState; a page supplied before
// stays readable through the mapping (9.4).
TEST(PagerVmar, ClosePagerTest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1, &probe); });
  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);

  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.pager().Reset();

  ASSERT_TRUE(WaitForCrash(t, probe, map.data(), Status::kBadState));
  Probe probe1;
  EXPECT_TRUE(CheckMapped(map, *vmo, 1, 1, &probe1))
      << "signal " << probe1.signo << " at " << probe1.addr;
  // Nothing is delivered for a closed pager's VMOs, not even COMPLETE (5.3).
  EXPECT_FALSE(pager.AnyPacket());
  map.Reset();
  vmo.reset();
  EXPECT_FALSE(pager.AnyPacket());
}

// Closing the port handle does not stop supply (5.4): a page supplied afterwards reads
// through the mapping; a detach then crashes the blocked mapped reader with kBadState.
TEST(PagerVmar, ClosePortTest) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(2);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1, &probe); });
  t.Start();
  ASSERT_TRUE(t.WaitForBlocked());

  pager.port().Reset();

  ASSERT_EQ(pager.SupplyPages(*vmo, 1, 1), Status::kOk);
  Probe probe1;
  EXPECT_TRUE(CheckMapped(map, *vmo, 1, 1, &probe1))
      << "signal " << probe1.signo << " at " << probe1.addr;

  ASSERT_EQ(pager.DetachVmo(*vmo), Status::kOk);
  ASSERT_TRUE(WaitForCrash(t, probe, map.data(), Status::kBadState));
}

// ---- Failure reporting (ZX_PAGER_OP_FAIL) ----

// A failed READ crashes the mapped reader with the failure code (kIo) at the accessed
// address; no retry request follows.
TEST(PagerVmar, FailSinglePageVmar) {
  UPAGER_REQUIRE_MAPPINGS();
  UserPager pager;
  auto vmo = pager.CreateVmo(1);
  ASSERT_NE(vmo, nullptr);
  Mapping map;
  ASSERT_EQ(MapVmo(*vmo, &map), Status::kOk);

  Probe probe;
  TestThread t([&] { return CheckMapped(map, *vmo, 0, 1, &probe); });
  t.Start();

  ASSERT_TRUE(pager.WaitForPageRead(*vmo, 0, 1));
  ASSERT_EQ(pager.FailPages(*vmo, 0, 1), Status::kOk);

  ASSERT_TRUE(WaitForCrash(t, probe, map.data(), Status::kIo));

  uint64_t offset = 0;
  uint64_t length = 0;
  ASSERT_FALSE(pager.GetPageReadRequest(*vmo, kPoll, &offset, &length));
}

}  // namespace
}  // namespace upager::testing
