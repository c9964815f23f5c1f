// Thread handles: zx_thread_self and upager_zx_thread_current, zx_task_suspend_token and its
// tokens, the thread signals (RUNNING, SUSPENDED, TERMINATED) following the thread, and
// ZX_INFO_THREAD, for threads blocked on a pager in zx_vmo_read and in a mapped fault.
#include <gtest/gtest.h>
#include <lib/zx/suspend_token.h>
#include <lib/zx/thread.h>
#include <zircon/process.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/exception.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "../skip.h"
#include "upager/mapping.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kKey = 5;

zx_info_thread_t InfoOf(zx_handle_t thread) {
  zx_info_thread_t info{};
  size_t actual = 0;
  size_t avail = 0;
  EXPECT_EQ(zx_object_get_info(thread, ZX_INFO_THREAD, &info, sizeof info, &actual, &avail), ZX_OK);
  EXPECT_EQ(actual, 1u);
  return info;
}

zx_signals_t SignalsOf(zx_handle_t h) {
  zx_signals_t observed = 0;
  EXPECT_EQ(zx_object_wait_one(h, 0, 0, &observed), ZX_ERR_TIMED_OUT);
  return observed;
}

// Polls a real state with a bounded deadline (the blocked-on-pager state has no signal).
bool PollState(zx_handle_t thread, zx_thread_state_t state) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (InfoOf(thread).state == state) return true;
    std::this_thread::yield();
  }
  return false;
}

// A std::thread that hands out a handle to itself (upager_zx_thread_current) before it runs
// `body`.
class Worker {
 public:
  explicit Worker(std::function<void()> body) {
    std::promise<zx_handle_t> handle;
    auto got = handle.get_future();
    thread_ = std::thread([&handle, body = std::move(body)] {
      zx_handle_t h = ZX_HANDLE_INVALID;
      EXPECT_EQ(upager_zx_thread_current(&h), ZX_OK);
      handle.set_value(h);
      body();
    });
    handle_ = got.get();
  }
  ~Worker() {
    Join();
    EXPECT_EQ(zx_handle_close(handle_), ZX_OK);
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  zx_handle_t get() const { return handle_; }

 private:
  std::thread thread_;
  zx_handle_t handle_ = ZX_HANDLE_INVALID;
};

class ZxThread : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zx_pager_create(0, pager_.out()), ZX_OK);
    ASSERT_EQ(zx_port_create(0, port_.out()), ZX_OK);
    ASSERT_EQ(zx_pager_create_vmo(pager_.get(), 0, port_.get(), kKey, 2 * kPage, vmo_.out()),
              ZX_OK);
    ASSERT_EQ(zx_vmo_create(kPage, 0, aux_.out()), ZX_OK);
    ASSERT_EQ(zx_event_create(0, event_.out()), ZX_OK);
  }

  // The next packet must be a READ of page `page`.
  void ExpectRead(uint64_t page) {
    zx_port_packet_t packet{};
    ASSERT_EQ(zx_port_wait(port_.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
    EXPECT_EQ(packet.key, kKey);
    EXPECT_EQ(packet.type, ZX_PKT_TYPE_PAGE_REQUEST);
    EXPECT_EQ(packet.page_request.command, ZX_PAGER_VMO_READ);
    EXPECT_EQ(packet.page_request.offset, page * kPage);
    EXPECT_EQ(packet.page_request.length, kPage);
  }
  void ExpectNoPacket() {
    zx_port_packet_t packet{};
    EXPECT_EQ(zx_port_wait(port_.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  }
  void Supply(uint64_t page, uint8_t value) {
    std::vector<uint8_t> bytes(kPage, value);
    ASSERT_EQ(zx_vmo_write(aux_.get(), bytes.data(), 0, kPage), ZX_OK);
    ASSERT_EQ(zx_pager_supply_pages(pager_.get(), vmo_.get(), page * kPage, kPage, aux_.get(), 0),
              ZX_OK);
  }

  // Suspends `thread`, blocked on the pager, and waits for it to be stopped.
  Owned SuspendBlocked(zx_handle_t thread) {
    Owned token;
    EXPECT_EQ(zx_task_suspend_token(thread, token.out()), ZX_OK);
    zx_signals_t observed = 0;
    EXPECT_EQ(
        zx_object_wait_one(thread, ZX_THREAD_SUSPENDED, zx_deadline_after(ZX_SEC(30)), &observed),
        ZX_OK);
    EXPECT_EQ(observed, ZX_THREAD_SUSPENDED);
    EXPECT_EQ(InfoOf(thread).state, ZX_THREAD_STATE_SUSPENDED);
    return token;
  }

  Owned pager_, port_, vmo_, aux_, event_;
};

TEST_F(ZxThread, SelfIsTheCallingThread) {
  const zx_handle_t self = zx_thread_self();
  EXPECT_EQ(zx_thread_self(), self);
  zx_info_handle_basic_t info{};
  ASSERT_EQ(zx_object_get_info(self, ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_THREAD);
  EXPECT_EQ(info.rights, ZX_DEFAULT_THREAD_RIGHTS);
  Owned owned;
  ASSERT_EQ(upager_zx_thread_current(owned.out()), ZX_OK);
  EXPECT_NE(owned.get(), self);
  zx_info_handle_basic_t other{};
  ASSERT_EQ(
      zx_object_get_info(owned.get(), ZX_INFO_HANDLE_BASIC, &other, sizeof other, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(other.koid, info.koid);
  EXPECT_EQ(upager_zx_thread_current(nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(InfoOf(self).state, ZX_THREAD_STATE_RUNNING);
  EXPECT_EQ(SignalsOf(self), ZX_THREAD_RUNNING);
  EXPECT_EQ(::zx::thread::self()->get(), self);

  // Another thread's self is another object.
  zx_koid_t koid = 0;
  std::thread([&] {
    zx_info_handle_basic_t theirs{};
    EXPECT_EQ(zx_object_get_info(zx_thread_self(), ZX_INFO_HANDLE_BASIC, &theirs, sizeof theirs,
                                 nullptr, nullptr),
              ZX_OK);
    koid = theirs.koid;
  }).join();
  EXPECT_NE(koid, info.koid);
  EXPECT_NE(koid, 0u);
}

TEST_F(ZxThread, SuspendChecksInOrder) {
  std::promise<void> release;
  auto released = release.get_future().share();
  Worker worker([released] { released.wait(); });
  zx_handle_t token = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_task_suspend_token(kBogusHandle, &token), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_task_suspend_token(event_.get(), &token), ZX_ERR_WRONG_TYPE);
  Owned no_write = Without(worker.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_task_suspend_token(no_write.get(), &token), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_task_suspend_token(worker.get(), nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_task_suspend_token(zx_thread_self(), &token), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(zx_task_suspend(zx_thread_self(), &token), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(token, ZX_HANDLE_INVALID);

  EXPECT_EQ(zx_task_kill(kBogusHandle), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_task_kill(event_.get()), ZX_ERR_WRONG_TYPE);
  Owned no_destroy = Without(worker.get(), ZX_RIGHT_DESTROY);
  EXPECT_EQ(zx_task_kill(no_destroy.get()), ZX_ERR_ACCESS_DENIED);

  zx_info_thread_t info{};
  size_t actual = 7;
  size_t avail = 7;
  EXPECT_EQ(zx_object_get_info(event_.get(), ZX_INFO_THREAD, &info, sizeof info, &actual, &avail),
            ZX_ERR_WRONG_TYPE);
  Owned no_inspect = Without(worker.get(), ZX_RIGHT_INSPECT);
  EXPECT_EQ(
      zx_object_get_info(no_inspect.get(), ZX_INFO_THREAD, &info, sizeof info, &actual, &avail),
      ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(
      zx_object_get_info(worker.get(), ZX_INFO_THREAD, &info, sizeof info - 1, &actual, &avail),
      ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual, 0u);
  EXPECT_EQ(avail, 1u);

  release.set_value();
  worker.Join();
  // Dead: nothing to suspend.
  EXPECT_EQ(zx_task_suspend_token(worker.get(), &token), ZX_ERR_BAD_STATE);
  EXPECT_EQ(token, ZX_HANDLE_INVALID);
}

// A thread blocked in zx_vmo_read on a pager-backed VMO is BLOCKED_PAGER; suspended, it
// abandons the wait and stops (SUSPENDED), and once resumed asks the pager again.
TEST_F(ZxThread, SuspendAThreadBlockedInVmoRead) {
  uint8_t byte = 0;
  zx_status_t read_status = ZX_ERR_INTERNAL;
  Worker worker([&] { read_status = zx_vmo_read(vmo_.get(), &byte, kPage, 1); });
  ASSERT_NO_FATAL_FAILURE(ExpectRead(1));
  ASSERT_TRUE(PollState(worker.get(), ZX_THREAD_STATE_BLOCKED_PAGER));
  EXPECT_EQ(SignalsOf(worker.get()), ZX_THREAD_RUNNING);

  Owned token = SuspendBlocked(worker.get());
  ExpectNoPacket();

  ASSERT_EQ(zx_handle_close(token.release()), ZX_OK);
  zx_signals_t observed = 0;
  ASSERT_EQ(
      zx_object_wait_one(worker.get(), ZX_THREAD_RUNNING, zx_deadline_after(ZX_SEC(30)), &observed),
      ZX_OK);
  EXPECT_EQ(observed & (ZX_THREAD_SUSPENDED | ZX_TASK_TERMINATED), 0u);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(1));  // asked again
  ASSERT_TRUE(PollState(worker.get(), ZX_THREAD_STATE_BLOCKED_PAGER));
  ASSERT_NO_FATAL_FAILURE(Supply(1, 0x3c));
  worker.Join();
  EXPECT_EQ(read_status, ZX_OK);
  EXPECT_EQ(byte, 0x3c);
  ExpectNoPacket();
}

// The same for a thread blocked in a fault on a mapping of the root VMAR: held in the fault
// while suspended, the request cancelled, the fault taken again after resume.
TEST_F(ZxThread, SuspendAThreadBlockedInAMappedFault) {
  std::string why;
  if (upager::MappingSupport(&why) != upager::Status::kOk) UPAGER_SKIP_OR_FAIL(why);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo_.get(), 0, 2 * kPage, &addr),
            ZX_OK);
  uint8_t byte = 0;
  Worker worker([&] { byte = *reinterpret_cast<volatile const uint8_t*>(addr + kPage); });
  ASSERT_NO_FATAL_FAILURE(ExpectRead(1));
  ASSERT_TRUE(PollState(worker.get(), ZX_THREAD_STATE_BLOCKED_PAGER));

  Owned token = SuspendBlocked(worker.get());
  ExpectNoPacket();

  ASSERT_EQ(zx_handle_close(token.release()), ZX_OK);
  ASSERT_EQ(
      zx_object_wait_one(worker.get(), ZX_THREAD_RUNNING, zx_deadline_after(ZX_SEC(30)), nullptr),
      ZX_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(1));
  ASSERT_NO_FATAL_FAILURE(Supply(1, 0x7e));
  worker.Join();
  EXPECT_EQ(byte, 0x7e);
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * kPage), ZX_OK);
}

// SUSPENDED comes when the thread has stopped, not when the token is made: a thread running
// its own code runs on (RUNNING) until its next safe point, here a pager wait it enters.
TEST_F(ZxThread, SuspendedOnlyOnceTheThreadStops) {
  std::atomic<bool> go{false};
  uint8_t byte = 0;
  Worker worker([&] {
    while (!go.load()) std::this_thread::yield();
    EXPECT_EQ(zx_vmo_read(vmo_.get(), &byte, 0, 1), ZX_OK);
  });
  Owned token;
  ASSERT_EQ(zx_task_suspend_token(worker.get(), token.out()), ZX_OK);
  EXPECT_EQ(zx_object_wait_one(worker.get(), ZX_THREAD_SUSPENDED, zx_deadline_after(ZX_MSEC(200)),
                               nullptr),
            ZX_ERR_TIMED_OUT);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_RUNNING);
  EXPECT_EQ(SignalsOf(worker.get()), ZX_THREAD_RUNNING);
  go.store(true);
  zx_signals_t observed = 0;
  ASSERT_EQ(zx_object_wait_one(worker.get(), ZX_THREAD_SUSPENDED, zx_deadline_after(ZX_SEC(30)),
                               &observed),
            ZX_OK);
  EXPECT_EQ(observed, ZX_THREAD_SUSPENDED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_SUSPENDED);
  ASSERT_EQ(zx_handle_close(token.release()), ZX_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_NO_FATAL_FAILURE(Supply(0, 0x44));
  worker.Join();
  EXPECT_EQ(byte, 0x44);
  ExpectNoPacket();
}

// The same when the safe point is a fault on a mapping: a thread already suspended that
// faults on an absent page is held in the fault at once (SUSPENDED), and asks the pager only
// once resumed.
TEST_F(ZxThread, ASuspendedThreadThatFaultsIsHeld) {
  std::string why;
  if (upager::MappingSupport(&why) != upager::Status::kOk) UPAGER_SKIP_OR_FAIL(why);
  zx_vaddr_t addr = 0;
  ASSERT_EQ(zx_vmar_map(zx_vmar_root_self(), ZX_VM_PERM_READ, 0, vmo_.get(), 0, 2 * kPage, &addr),
            ZX_OK);
  std::atomic<bool> go{false};
  uint8_t byte = 0;
  Worker worker([&] {
    while (!go.load()) std::this_thread::yield();
    byte = *reinterpret_cast<volatile const uint8_t*>(addr);
  });
  Owned token;
  ASSERT_EQ(zx_task_suspend_token(worker.get(), token.out()), ZX_OK);
  EXPECT_EQ(SignalsOf(worker.get()), ZX_THREAD_RUNNING);
  go.store(true);
  zx_signals_t observed = 0;
  ASSERT_EQ(zx_object_wait_one(worker.get(), ZX_THREAD_SUSPENDED, zx_deadline_after(ZX_SEC(30)),
                               &observed),
            ZX_OK);
  EXPECT_EQ(observed, ZX_THREAD_SUSPENDED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_SUSPENDED);
  ExpectNoPacket();
  ASSERT_EQ(zx_handle_close(token.release()), ZX_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_NO_FATAL_FAILURE(Supply(0, 0x55));
  worker.Join();
  EXPECT_EQ(byte, 0x55);
  ExpectNoPacket();
  EXPECT_EQ(zx_vmar_unmap(zx_vmar_root_self(), addr, 2 * kPage), ZX_OK);
}

// Suspensions count: the thread runs again only once both tokens are gone.
TEST_F(ZxThread, TwoTokensBothMustGo) {
  uint8_t byte = 0;
  Worker worker([&] { EXPECT_EQ(zx_vmo_read(vmo_.get(), &byte, 0, 1), ZX_OK); });
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_TRUE(PollState(worker.get(), ZX_THREAD_STATE_BLOCKED_PAGER));
  Owned first = SuspendBlocked(worker.get());
  ::zx::suspend_token second;
  ASSERT_EQ(::zx::unowned_thread(worker.get())->suspend(&second), ZX_OK);
  zx_info_handle_basic_t info{};
  ASSERT_EQ(
      zx_object_get_info(second.get(), ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_SUSPEND_TOKEN);
  EXPECT_EQ(info.rights, ZX_DEFAULT_SUSPEND_TOKEN_RIGHTS);

  ASSERT_EQ(zx_handle_close(first.release()), ZX_OK);
  // Still stopped: no RUNNING within a while, no new request.
  EXPECT_EQ(
      zx_object_wait_one(worker.get(), ZX_THREAD_RUNNING, zx_deadline_after(ZX_MSEC(200)), nullptr),
      ZX_ERR_TIMED_OUT);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_SUSPENDED);
  ExpectNoPacket();

  second.reset();
  ASSERT_EQ(
      zx_object_wait_one(worker.get(), ZX_THREAD_RUNNING, zx_deadline_after(ZX_SEC(30)), nullptr),
      ZX_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_NO_FATAL_FAILURE(Supply(0, 0x11));
  worker.Join();
  EXPECT_EQ(byte, 0x11);
}

// SUSPENDED through a port (wait_async), as a pager test harness watches its threads.
TEST_F(ZxThread, WaitAsyncSeesSuspended) {
  uint8_t byte = 0;
  Worker worker([&] { EXPECT_EQ(zx_vmo_read(vmo_.get(), &byte, 0, 1), ZX_OK); });
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  Owned watch;
  ASSERT_EQ(zx_port_create(0, watch.out()), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(worker.get(), watch.get(), 9, ZX_THREAD_SUSPENDED, 0), ZX_OK);
  Owned token;
  ASSERT_EQ(zx_task_suspend_token(worker.get(), token.out()), ZX_OK);
  zx_port_packet_t packet{};
  ASSERT_EQ(zx_port_wait(watch.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  EXPECT_EQ(packet.key, 9u);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_SIGNAL_ONE);
  EXPECT_EQ(packet.signal.trigger, ZX_THREAD_SUSPENDED);
  EXPECT_EQ(packet.signal.observed, ZX_THREAD_SUSPENDED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_SUSPENDED);
  ASSERT_EQ(zx_handle_close(token.release()), ZX_OK);
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_NO_FATAL_FAILURE(Supply(0, 0x22));
  worker.Join();
  EXPECT_EQ(byte, 0x22);
}

// TERMINATED once the thread has exited, seen by a waiter that was already there; the handle
// stays usable, the state DEAD.
TEST_F(ZxThread, TerminatedAfterExit) {
  std::promise<void> release;
  auto released = release.get_future().share();
  Worker worker([released] { released.wait(); });
  zx_handle_t dup = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_handle_duplicate(worker.get(), ZX_RIGHT_SAME_RIGHTS, &dup), ZX_OK);
  Owned dup_owner(dup);
  zx_signals_t observed = 0;
  zx_status_t status = ZX_ERR_INTERNAL;
  std::thread waiter([&] {
    status = zx_object_wait_one(dup, ZX_TASK_TERMINATED, zx_deadline_after(ZX_SEC(30)), &observed);
  });
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_RUNNING);
  release.set_value();
  waiter.join();
  EXPECT_EQ(status, ZX_OK);
  EXPECT_EQ(observed, ZX_TASK_TERMINATED);
  worker.Join();
  EXPECT_EQ(SignalsOf(worker.get()), ZX_TASK_TERMINATED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_DEAD);
}

// A thread suspended while it runs its own code and that returns before any safe point
// exits: TERMINATED, DEAD; its token closes normally afterwards.
TEST_F(ZxThread, ASuspendedThreadThatNeverStopsStillExits) {
  std::promise<void> release;
  auto released = release.get_future().share();
  Worker worker([released] { released.wait(); });
  Owned token;
  ASSERT_EQ(zx_task_suspend_token(worker.get(), token.out()), ZX_OK);
  EXPECT_EQ(SignalsOf(worker.get()), ZX_THREAD_RUNNING);
  release.set_value();
  zx_signals_t observed = 0;
  ASSERT_EQ(zx_object_wait_one(worker.get(), ZX_TASK_TERMINATED, zx_deadline_after(ZX_SEC(30)),
                               &observed),
            ZX_OK);
  EXPECT_EQ(observed, ZX_TASK_TERMINATED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_DEAD);
  EXPECT_EQ(zx_handle_close(token.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(worker.get()), ZX_TASK_TERMINATED);
}

// zx_task_kill ends the thread's page-request wait (upager's Kill): DYING until it exits.
TEST_F(ZxThread, KillEndsAPagerWait) {
  uint8_t byte = 0;
  zx_status_t read_status = ZX_OK;
  std::promise<void> release;
  auto released = release.get_future().share();
  Worker worker([&, released] {
    read_status = zx_vmo_read(vmo_.get(), &byte, 0, 1);
    released.wait();
  });
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_TRUE(PollState(worker.get(), ZX_THREAD_STATE_BLOCKED_PAGER));
  ASSERT_EQ(zx_task_kill(worker.get()), ZX_OK);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_DYING);
  zx_handle_t token = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_task_suspend_token(worker.get(), &token), ZX_ERR_BAD_STATE);
  release.set_value();
  worker.Join();
  EXPECT_EQ(read_status, ZX_ERR_INTERNAL_INTR_KILLED);
  EXPECT_EQ(InfoOf(worker.get()).state, ZX_THREAD_STATE_DEAD);
}

// The thread's exception channel: one at a time, never a message here (faults reach the
// thread as signals), its peer closed when the thread exits.
TEST_F(ZxThread, ExceptionChannel) {
  std::promise<void> release;
  auto released = release.get_future().share();
  Worker worker([released] { released.wait(); });
  zx_handle_t channel = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_task_create_exception_channel(kBogusHandle, 0, &channel), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_task_create_exception_channel(event_.get(), 0, &channel), ZX_ERR_WRONG_TYPE);
  Owned no_manage = Without(worker.get(), ZX_RIGHT_MANAGE_THREAD);
  EXPECT_EQ(zx_task_create_exception_channel(no_manage.get(), 0, &channel), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_task_create_exception_channel(worker.get(), 2, &channel), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_task_create_exception_channel(worker.get(), 0, nullptr), ZX_ERR_INVALID_ARGS);
  ::zx::channel exceptions;
  ASSERT_EQ(::zx::unowned_thread(worker.get())->create_exception_channel(0, &exceptions), ZX_OK);
  EXPECT_EQ(RightsOf(exceptions.get()), ZX_RIGHT_TRANSFER | ZX_RIGHT_WAIT | ZX_RIGHT_READ);
  EXPECT_EQ(zx_task_create_exception_channel(worker.get(), 0, &channel), ZX_ERR_ALREADY_BOUND);
  EXPECT_EQ(SignalsOf(exceptions.get()), ZX_CHANNEL_WRITABLE);
  EXPECT_EQ(InfoOf(worker.get()).wait_exception_channel_type, ZX_EXCEPTION_CHANNEL_TYPE_NONE);
  release.set_value();
  worker.Join();
  EXPECT_EQ(SignalsOf(exceptions.get()), ZX_CHANNEL_PEER_CLOSED);
}

// lib/zx as a pager test harness uses it: a zx::thread duplicated from self(), suspended
// from another thread through zx::thread::suspend, watched with wait_one and get_info.
TEST_F(ZxThread, LibzxThreadAndSuspendToken) {
  uint8_t byte = 0;
  std::promise<::zx::thread> handed;
  auto got = handed.get_future();
  std::thread worker([&] {
    ::zx::thread self;
    EXPECT_EQ(::zx::thread::self()->duplicate(ZX_RIGHT_SAME_RIGHTS, &self), ZX_OK);
    handed.set_value(std::move(self));
    EXPECT_EQ(zx_vmo_read(vmo_.get(), &byte, 0, 1), ZX_OK);
  });
  ::zx::thread thread = got.get();
  ASSERT_TRUE(thread.is_valid());
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_TRUE(PollState(thread.get(), ZX_THREAD_STATE_BLOCKED_PAGER));
  ::zx::suspend_token token;
  ASSERT_EQ(thread.suspend(&token), ZX_OK);
  zx_signals_t observed = 0;
  ASSERT_EQ(thread.wait_one(ZX_THREAD_SUSPENDED, ::zx::deadline_after(::zx::sec(30)), &observed),
            ZX_OK);
  zx_info_thread_t info{};
  ASSERT_EQ(thread.get_info(ZX_INFO_THREAD, &info, sizeof info, nullptr, nullptr), ZX_OK);
  EXPECT_EQ(info.state, ZX_THREAD_STATE_SUSPENDED);
  token.reset();
  ASSERT_NO_FATAL_FAILURE(ExpectRead(0));
  ASSERT_NO_FATAL_FAILURE(Supply(0, 0x66));
  ASSERT_EQ(thread.wait_one(ZX_TASK_TERMINATED, ::zx::time::infinite(), &observed), ZX_OK);
  EXPECT_EQ(observed, ZX_TASK_TERMINATED);
  worker.join();
  EXPECT_EQ(byte, 0x66);
  ::zx::thread current;
  ASSERT_EQ(::zx::thread::upager_current(&current), ZX_OK);
  zx_info_handle_basic_t mine{};
  zx_info_handle_basic_t self{};
  ASSERT_EQ(current.get_info(ZX_INFO_HANDLE_BASIC, &mine, sizeof mine, nullptr, nullptr), ZX_OK);
  ASSERT_EQ(
      ::zx::thread::self()->get_info(ZX_INFO_HANDLE_BASIC, &self, sizeof self, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(mine.koid, self.koid);
}

TEST(ZxExceptionLayout, AsZircons) {
  EXPECT_EQ(sizeof(zx_exception_header_t), 8u);
  EXPECT_EQ(sizeof(zx_exception_context_t), 32u);
  EXPECT_EQ(offsetof(zx_exception_context_t, synth_code), 24u);
  EXPECT_EQ(offsetof(zx_exception_context_t, synth_data), 28u);
  EXPECT_EQ(sizeof(zx_exception_report_t), 40u);
  EXPECT_EQ(offsetof(zx_exception_report_t, context), 8u);
  EXPECT_EQ(sizeof(zx_arm64_exc_data_t), 24u);
  EXPECT_EQ(offsetof(zx_arm64_exc_data_t, far), 8u);
  EXPECT_EQ(offsetof(zx_x86_64_exc_data_t, cr2), 16u);
  EXPECT_EQ(sizeof(zx_exception_info_t), 24u);
  EXPECT_EQ(sizeof(zx_info_thread_t), 72u);
  EXPECT_EQ(offsetof(zx_info_thread_t, cpu_affinity_mask), 8u);
  EXPECT_TRUE(ZX_EXCP_IS_ARCH(ZX_EXCP_FATAL_PAGE_FAULT));
  EXPECT_FALSE(ZX_EXCP_IS_ARCH(ZX_EXCP_THREAD_EXITING));
}

}  // namespace
}  // namespace upager::zx::testing
