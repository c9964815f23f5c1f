// The zx layer's handle table: close, duplicate, replace, ZX_INFO_HANDLE_*, and the
// BAD_HANDLE / WRONG_TYPE / ACCESS_DENIED order shared by every call.
#include <gtest/gtest.h>
#include <zircon/status.h>
#include <zircon/syscalls.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

TEST(ZxHandle, CloseInvalidIsOkAndUnknownIsBadHandle) {
  EXPECT_EQ(zx_handle_close(ZX_HANDLE_INVALID), ZX_OK);
  EXPECT_EQ(zx_handle_close(kBogusHandle), ZX_ERR_BAD_HANDLE);
}

TEST(ZxHandle, CloseTwiceIsBadHandle) {
  zx_handle_t event;
  ASSERT_EQ(zx_event_create(0, &event), ZX_OK);
  EXPECT_EQ(event & ZX_HANDLE_FIXED_BITS_MASK, ZX_HANDLE_FIXED_BITS_MASK);
  EXPECT_EQ(zx_handle_close(event), ZX_OK);
  EXPECT_EQ(zx_handle_close(event), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_object_signal(event, 0, ZX_USER_SIGNAL_0), ZX_ERR_BAD_HANDLE);
}

TEST(ZxHandle, CloseManyClosesEveryHandle) {
  zx_handle_t h[3];
  ASSERT_EQ(zx_event_create(0, &h[0]), ZX_OK);
  h[1] = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_port_create(0, &h[2]), ZX_OK);
  EXPECT_EQ(zx_handle_close_many(h, 3), ZX_OK);
  EXPECT_EQ(zx_handle_close(h[0]), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_handle_close(h[2]), ZX_ERR_BAD_HANDLE);
}

TEST(ZxHandle, DefaultRightsAndTypes) {
  Owned vmo, port, pager, event;
  ASSERT_EQ(zx_vmo_create(4096, 0, vmo.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  const struct {
    zx_handle_t h;
    zx_obj_type_t type;
    zx_rights_t rights;
  } cases[] = {{vmo.get(), ZX_OBJ_TYPE_VMO, ZX_DEFAULT_VMO_RIGHTS},
               {port.get(), ZX_OBJ_TYPE_PORT, ZX_DEFAULT_PORT_RIGHTS},
               {pager.get(), ZX_OBJ_TYPE_PAGER, ZX_DEFAULT_PAGER_RIGHTS},
               {event.get(), ZX_OBJ_TYPE_EVENT, ZX_DEFAULT_EVENT_RIGHTS}};
  std::set<zx_koid_t> koids;
  for (const auto& c : cases) {
    zx_info_handle_basic_t info{};
    size_t actual = 0, avail = 0;
    ASSERT_EQ(zx_object_get_info(c.h, ZX_INFO_HANDLE_BASIC, &info, sizeof info, &actual, &avail),
              ZX_OK);
    EXPECT_EQ(info.type, c.type);
    EXPECT_EQ(info.rights, c.rights);
    EXPECT_NE(info.koid, ZX_KOID_INVALID);
    EXPECT_EQ(info.related_koid, ZX_KOID_INVALID);
    EXPECT_EQ(actual, 1u);
    EXPECT_EQ(avail, 1u);
    koids.insert(info.koid);
  }
  EXPECT_EQ(koids.size(), 4u);  // a koid names one object
  // The values Zircon's headers give.
  EXPECT_EQ(ZX_DEFAULT_VMO_RIGHTS, 0xd0efu);
  EXPECT_EQ(ZX_DEFAULT_PORT_RIGHTS, 0x800fu);
  EXPECT_EQ(ZX_DEFAULT_PAGER_RIGHTS, 0x1808002u);
  EXPECT_EQ(ZX_DEFAULT_EVENT_RIGHTS, 0xd003u);
}

TEST(ZxHandle, ResizableVmoGetsResizeRight) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(4096, ZX_VMO_RESIZABLE, vmo.out()), ZX_OK);
  EXPECT_EQ(RightsOf(vmo.get()), ZX_DEFAULT_VMO_RIGHTS | ZX_RIGHT_RESIZE);
}

TEST(ZxHandle, InfoChecks) {
  Owned event;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  EXPECT_EQ(zx_object_get_info(event.get(), ZX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(zx_object_get_info(kBogusHandle, ZX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr),
            ZX_ERR_BAD_HANDLE);
  zx_info_handle_basic_t info{};
  size_t actual = 7, avail = 7;
  EXPECT_EQ(zx_object_get_info(event.get(), ZX_INFO_HANDLE_BASIC, &info, sizeof info - 1, &actual,
                               &avail),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 1u);
  // ZX_INFO_VMO of an event: the type is checked.
  zx_info_vmo_t vmo_info{};
  EXPECT_EQ(
      zx_object_get_info(event.get(), ZX_INFO_VMO, &vmo_info, sizeof vmo_info, nullptr, nullptr),
      ZX_ERR_WRONG_TYPE);
  // Counting needs ZX_RIGHT_INSPECT.
  Owned dup;
  ASSERT_EQ(zx_handle_duplicate(event.get(), ZX_RIGHT_SAME_RIGHTS, dup.out()), ZX_OK);
  zx_info_handle_count_t count{};
  ASSERT_EQ(
      zx_object_get_info(event.get(), ZX_INFO_HANDLE_COUNT, &count, sizeof count, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(count.handle_count, 2u);
  Owned blind = Without(event.get(), ZX_RIGHT_INSPECT);
  EXPECT_EQ(
      zx_object_get_info(blind.get(), ZX_INFO_HANDLE_COUNT, &count, sizeof count, nullptr, nullptr),
      ZX_ERR_ACCESS_DENIED);
}

TEST(ZxHandle, DuplicateSameRightsAndSubset) {
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(4096, 0, vmo.out()), ZX_OK);
  Owned same;
  ASSERT_EQ(zx_handle_duplicate(vmo.get(), ZX_RIGHT_SAME_RIGHTS, same.out()), ZX_OK);
  EXPECT_NE(same.get(), vmo.get());
  EXPECT_EQ(RightsOf(same.get()), ZX_DEFAULT_VMO_RIGHTS);
  Owned fewer;
  ASSERT_EQ(zx_handle_duplicate(vmo.get(), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE, fewer.out()), ZX_OK);
  EXPECT_EQ(RightsOf(fewer.get()), ZX_RIGHT_READ | ZX_RIGHT_DUPLICATE);
  // Same object: a write through one is read through the other.
  const char data[] = "dup";
  ASSERT_EQ(zx_vmo_write(vmo.get(), data, 0, sizeof data), ZX_OK);
  char got[sizeof data] = {};
  ASSERT_EQ(zx_vmo_read(fewer.get(), got, 0, sizeof got), ZX_OK);
  EXPECT_STREQ(got, data);
  // Rights never grow.
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_handle_duplicate(fewer.get(), ZX_RIGHT_READ | ZX_RIGHT_WRITE, &out),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
}

TEST(ZxHandle, DuplicateCheckOrder) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_handle_duplicate(kBogusHandle, ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_BAD_HANDLE);
  Owned vmo;
  ASSERT_EQ(zx_vmo_create(4096, 0, vmo.out()), ZX_OK);
  Owned nodup = Without(vmo.get(), ZX_RIGHT_DUPLICATE);
  // ACCESS_DENIED (no DUPLICATE right) before the rights argument is looked at.
  EXPECT_EQ(zx_handle_duplicate(nodup.get(), ZX_RIGHT_EXECUTE, &out), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_handle_duplicate(nodup.get(), ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_ACCESS_DENIED);
  // A pager's handle has no DUPLICATE right at all.
  Owned pager;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  EXPECT_EQ(zx_handle_duplicate(pager.get(), ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
}

TEST(ZxHandle, ReplaceConsumesTheHandle) {
  zx_handle_t vmo;
  ASSERT_EQ(zx_vmo_create(4096, 0, &vmo), ZX_OK);
  zx_handle_t replaced = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_handle_replace(vmo, ZX_RIGHT_READ, &replaced), ZX_OK);
  EXPECT_EQ(zx_handle_close(vmo), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(RightsOf(replaced), ZX_RIGHT_READ);
  // Replace needs no DUPLICATE right, but rights still never grow: the handle is consumed
  // all the same.
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_handle_replace(replaced, ZX_RIGHT_READ | ZX_RIGHT_WRITE, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
  EXPECT_EQ(zx_handle_close(replaced), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_handle_replace(kBogusHandle, ZX_RIGHT_SAME_RIGHTS, &out), ZX_ERR_BAD_HANDLE);
}

TEST(ZxHandle, ReplaceSameRightsKeepsTheObject) {
  Owned pager;
  ASSERT_EQ(zx_pager_create(0, pager.out()), ZX_OK);
  zx_info_handle_basic_t before{}, after{};
  ASSERT_EQ(zx_object_get_info(pager.get(), ZX_INFO_HANDLE_BASIC, &before, sizeof before, nullptr,
                               nullptr),
            ZX_OK);
  Owned replaced;
  ASSERT_EQ(zx_handle_replace(pager.release(), ZX_RIGHT_SAME_RIGHTS, replaced.out()), ZX_OK);
  ASSERT_EQ(zx_object_get_info(replaced.get(), ZX_INFO_HANDLE_BASIC, &after, sizeof after, nullptr,
                               nullptr),
            ZX_OK);
  EXPECT_EQ(after.koid, before.koid);
  EXPECT_EQ(after.rights, ZX_DEFAULT_PAGER_RIGHTS);
}

TEST(ZxHandle, ConcurrentCreateAndCloseKeepValuesUnique) {
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::vector<zx_handle_t>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) {
        zx_handle_t h;
        if (zx_event_create(0, &h) == ZX_OK) made[t].push_back(h);
        if (i % 2 == 1) {
          zx_handle_close(made[t].back());
          made[t].pop_back();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<zx_handle_t> all;
  for (auto& v : made) {
    for (zx_handle_t h : v) {
      EXPECT_TRUE(all.insert(h).second);
      EXPECT_EQ(zx_handle_close(h), ZX_OK);
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread / 2));
}

TEST(ZxStatus, Names) {
  EXPECT_STREQ(zx_status_get_string(ZX_OK), "ZX_OK");
  EXPECT_STREQ(zx_status_get_string(ZX_ERR_BAD_HANDLE), "ZX_ERR_BAD_HANDLE");
  EXPECT_STREQ(zx_status_get_string(ZX_ERR_IO_DATA_INTEGRITY), "ZX_ERR_IO_DATA_INTEGRITY");
  EXPECT_STREQ(zx_status_get_string(ZX_ERR_INTERNAL_INTR_KILLED), "ZX_ERR_INTERNAL_INTR_KILLED");
  EXPECT_STREQ(zx_status_get_string(12345), "(UNKNOWN)");
  EXPECT_EQ(ZX_ERR_ACCESS_DENIED, -30);
  EXPECT_EQ(ZX_ERR_NO_SPACE, -54);
}

TEST(ZxTime, ClockAndDeadlines) {
  EXPECT_EQ(zx_system_get_page_size(), 4096u);
  const zx_time_t before = zx_clock_get_monotonic();
  const zx_time_t deadline = zx_deadline_after(ZX_MSEC(2));
  EXPECT_GE(deadline, before + ZX_MSEC(2));
  EXPECT_EQ(zx_nanosleep(deadline), ZX_OK);
  EXPECT_GE(zx_clock_get_monotonic(), deadline);
  EXPECT_EQ(zx_deadline_after(ZX_TIME_INFINITE), ZX_TIME_INFINITE);
  EXPECT_EQ(ZX_SEC(INT64_MAX), ZX_TIME_INFINITE);
  EXPECT_EQ(ZX_SEC(3), 3000000000);
  EXPECT_EQ(zx_nanosleep(0), ZX_OK);
}

}  // namespace
}  // namespace upager::zx::testing
