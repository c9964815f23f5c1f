// zx_port_*, zx_event_create, zx_object_signal / wait_one / wait_async.
#include <gtest/gtest.h>
#include <zircon/syscalls.h>
#include <zircon/syscalls/port.h>

#include <cstring>
#include <thread>

#include "handle_table.h"
#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

TEST(ZxPort, CreateChecks) {
  zx_handle_t out = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_port_create(2, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_port_create(0, nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_port_create(ZX_PORT_BIND_TO_INTERRUPT, &out), ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(out, ZX_HANDLE_INVALID);
}

TEST(ZxPort, QueueAndWaitAUserPacketByteForByte) {
  Owned port;
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  zx_port_packet_t in;
  std::memset(&in, 0, sizeof in);
  in.key = 0x1122334455667788u;
  in.type = ZX_PKT_TYPE_PAGE_REQUEST;  // the kernel makes every queued packet a user packet
  in.status = ZX_ERR_STOP;
  for (int i = 0; i < 4; ++i) in.user.u64[i] = 0xa0a0a0a0a0a0a0a0u + i;
  ASSERT_EQ(zx_port_queue(port.get(), &in), ZX_OK);
  zx_port_packet_t out;
  std::memset(&out, 0xff, sizeof out);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &out), ZX_OK);
  zx_port_packet_t expected = in;
  expected.type = ZX_PKT_TYPE_USER;
  EXPECT_EQ(out.key, expected.key);
  EXPECT_EQ(out.type, ZX_PKT_TYPE_USER);
  EXPECT_EQ(out.status, ZX_ERR_STOP);
  EXPECT_EQ(std::memcmp(&out, &expected, sizeof out), 0);
  // Empty now: a past deadline polls.
  EXPECT_EQ(zx_port_wait(port.get(), ZX_TIME_INFINITE_PAST, &out), ZX_ERR_TIMED_OUT);
  EXPECT_EQ(zx_port_wait(port.get(), zx_deadline_after(ZX_MSEC(1)), &out), ZX_ERR_TIMED_OUT);
}

TEST(ZxPort, ChecksInOrder) {
  Owned port, event;
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  zx_port_packet_t packet{};
  EXPECT_EQ(zx_port_wait(kBogusHandle, 0, nullptr), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_port_wait(event.get(), 0, nullptr), ZX_ERR_WRONG_TYPE);
  Owned unreadable = Without(port.get(), ZX_RIGHT_READ);
  EXPECT_EQ(zx_port_wait(unreadable.get(), 0, nullptr), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_port_wait(port.get(), 0, nullptr), ZX_ERR_INVALID_ARGS);

  EXPECT_EQ(zx_port_queue(kBogusHandle, nullptr), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_port_queue(event.get(), nullptr), ZX_ERR_WRONG_TYPE);
  Owned unwritable = Without(port.get(), ZX_RIGHT_WRITE);
  EXPECT_EQ(zx_port_queue(unwritable.get(), nullptr), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_port_queue(port.get(), nullptr), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_port_queue(unwritable.get(), &packet), ZX_ERR_ACCESS_DENIED);

  EXPECT_EQ(zx_port_cancel(kBogusHandle, event.get(), 1), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_port_cancel(event.get(), event.get(), 1), ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_port_cancel(unwritable.get(), event.get(), 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_port_cancel(port.get(), kBogusHandle, 1), ZX_ERR_BAD_HANDLE);
  Owned blind = Without(event.get(), ZX_RIGHT_WAIT);
  EXPECT_EQ(zx_port_cancel(port.get(), blind.get(), 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_port_cancel(port.get(), port.get(), 1), ZX_ERR_ACCESS_DENIED);  // no WAIT

  EXPECT_EQ(zx_port_cancel_key(port.get(), 1, 1), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_port_cancel_key(kBogusHandle, 0, 1), ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_port_cancel_key(event.get(), 0, 1), ZX_ERR_WRONG_TYPE);
  EXPECT_EQ(zx_port_cancel_key(unwritable.get(), 0, 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_port_cancel_key(port.get(), 0, 1), ZX_ERR_NOT_FOUND);
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 1), ZX_ERR_NOT_FOUND);
}

TEST(ZxPort, CancelKeyRemovesEveryPacketWithTheKey) {
  Owned port;
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  zx_port_packet_t packet;
  std::memset(&packet, 0, sizeof packet);
  for (uint64_t key : {7u, 8u, 7u}) {
    packet.key = key;
    ASSERT_EQ(zx_port_queue(port.get(), &packet), ZX_OK);
  }
  ASSERT_EQ(zx_port_cancel_key(port.get(), 0, 7), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  EXPECT_EQ(packet.key, 8u);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  EXPECT_EQ(zx_port_cancel_key(port.get(), 0, 7), ZX_ERR_NOT_FOUND);
}

TEST(ZxEvent, SignalChecks) {
  zx_handle_t out;
  EXPECT_EQ(zx_event_create(1, &out), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_event_create(0, nullptr), ZX_ERR_INVALID_ARGS);
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  EXPECT_EQ(zx_object_signal(kBogusHandle, 0, 0), ZX_ERR_BAD_HANDLE);
  Owned mute = Without(event.get(), ZX_RIGHT_SIGNAL);
  EXPECT_EQ(zx_object_signal(mute.get(), 0, ZX_CHANNEL_READABLE), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_object_signal(event.get(), 0, ZX_CHANNEL_READABLE), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_object_signal(event.get(), ZX_CHANNEL_READABLE, 0), ZX_ERR_INVALID_ARGS);
  // A port has no SIGNAL right.
  EXPECT_EQ(zx_object_signal(port.get(), 0, ZX_USER_SIGNAL_0), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_object_signal(event.get(), 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_7), ZX_OK);
  zx_signals_t observed = 0;
  EXPECT_EQ(zx_object_wait_one(event.get(), ZX_EVENT_SIGNALED, 0, &observed), ZX_OK);
  EXPECT_EQ(observed, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_7);
  EXPECT_EQ(zx_object_signal(event.get(), ZX_EVENT_SIGNALED, 0), ZX_OK);
  EXPECT_EQ(zx_object_wait_one(event.get(), ZX_EVENT_SIGNALED, 0, &observed), ZX_ERR_TIMED_OUT);
  EXPECT_EQ(observed, ZX_USER_SIGNAL_7);
}

TEST(ZxEvent, WaitOneChecks) {
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  zx_signals_t observed;
  EXPECT_EQ(zx_object_wait_one(kBogusHandle, ZX_EVENT_SIGNALED, 0, &observed), ZX_ERR_BAD_HANDLE);
  Owned blind = Without(event.get(), ZX_RIGHT_WAIT);
  EXPECT_EQ(zx_object_wait_one(blind.get(), ZX_EVENT_SIGNALED, 0, &observed), ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_object_wait_one(port.get(), ZX_EVENT_SIGNALED, 0, &observed),
            ZX_ERR_ACCESS_DENIED);  // ports are not waitable: no WAIT right
}

TEST(ZxEvent, WaitOneWakesOnSignalFromAnotherThread) {
  Owned event;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  zx_signals_t observed = 0;
  zx_status_t status = ZX_ERR_INTERNAL;
  std::thread waiter([&] {
    status = zx_object_wait_one(event.get(), ZX_USER_SIGNAL_1, ZX_TIME_INFINITE, &observed);
  });
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_USER_SIGNAL_1), ZX_OK);
  waiter.join();
  EXPECT_EQ(status, ZX_OK);
  EXPECT_EQ(observed, ZX_USER_SIGNAL_1);
}

TEST(ZxEvent, ClosingTheHandleCancelsWaitOne) {
  zx_handle_t event;
  ASSERT_EQ(zx_event_create(0, &event), ZX_OK);
  Owned keep;  // another handle keeps the object, so only the closed handle's wait ends
  ASSERT_EQ(zx_handle_duplicate(event, ZX_RIGHT_SAME_RIGHTS, keep.out()), ZX_OK);
  zx_signals_t observed = 0;
  zx_status_t status = ZX_ERR_INTERNAL;
  std::thread waiter(
      [&] { status = zx_object_wait_one(event, ZX_USER_SIGNAL_0, ZX_TIME_INFINITE, &observed); });
  // Close once the waiter is inside the wait (bounded poll of the object's waiter list).
  HandleEntry entry;
  ASSERT_EQ(HandleTable::Get().Lookup(keep.get(), &entry), ZX_OK);
  const zx_time_t give_up = zx_deadline_after(ZX_SEC(10));
  while (entry.object->waiter_count() == 0 && zx_clock_get_monotonic() < give_up) {
    std::this_thread::yield();
  }
  ASSERT_EQ(entry.object->waiter_count(), 1u);
  ASSERT_EQ(zx_handle_close(event), ZX_OK);
  waiter.join();
  EXPECT_EQ(status, ZX_ERR_CANCELED);
  EXPECT_EQ(observed, ZX_SIGNAL_HANDLE_CLOSED);
  // The other handle's object is untouched.
  EXPECT_EQ(entry.object->waiter_count(), 0u);
  EXPECT_EQ(zx_object_signal(keep.get(), 0, ZX_USER_SIGNAL_0), ZX_OK);
}

TEST(ZxEvent, WaitAsyncQueuesASignalPacket) {
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  EXPECT_EQ(zx_object_wait_async(event.get(), port.get(), 5, ZX_EVENT_SIGNALED, 1u << 6),
            ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_object_wait_async(event.get(), kBogusHandle, 5, ZX_EVENT_SIGNALED, 0),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_object_wait_async(kBogusHandle, port.get(), 5, ZX_EVENT_SIGNALED, 0),
            ZX_ERR_BAD_HANDLE);
  Owned blind = Without(event.get(), ZX_RIGHT_WAIT);
  EXPECT_EQ(zx_object_wait_async(blind.get(), port.get(), 5, ZX_EVENT_SIGNALED, 0),
            ZX_ERR_ACCESS_DENIED);
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 5, ZX_EVENT_SIGNALED, 0), ZX_OK);
  zx_port_packet_t packet;
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  zx_port_packet_t expected;
  std::memset(&expected, 0, sizeof expected);
  expected.key = 5;
  expected.type = ZX_PKT_TYPE_SIGNAL_ONE;
  expected.status = ZX_OK;
  expected.signal.trigger = ZX_EVENT_SIGNALED;
  expected.signal.observed = ZX_EVENT_SIGNALED | ZX_USER_SIGNAL_2;
  expected.signal.count = 1;
  EXPECT_EQ(std::memcmp(&packet, &expected, sizeof packet), 0);
  // One shot: no second packet.
  ASSERT_EQ(zx_object_signal(event.get(), ZX_EVENT_SIGNALED, ZX_EVENT_SIGNALED), ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  // Already asserted: queued at once; with EDGE, only on the next rising edge.
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 6, ZX_EVENT_SIGNALED, 0), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  EXPECT_EQ(packet.key, 6u);
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 7, ZX_EVENT_SIGNALED,
                                 ZX_WAIT_ASYNC_EDGE | ZX_WAIT_ASYNC_TIMESTAMP),
            ZX_OK);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  const zx_time_t before = zx_clock_get_monotonic();
  ASSERT_EQ(zx_object_signal(event.get(), ZX_EVENT_SIGNALED, 0), ZX_OK);
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_EVENT_SIGNALED), ZX_OK);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  EXPECT_EQ(packet.key, 7u);
  EXPECT_GE(static_cast<zx_time_t>(packet.signal.timestamp), before);
  EXPECT_LE(static_cast<zx_time_t>(packet.signal.timestamp), zx_clock_get_monotonic());
}

TEST(ZxEvent, PortCancelDropsTheWait) {
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 9, ZX_USER_SIGNAL_0, 0), ZX_OK);
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 8), ZX_ERR_NOT_FOUND);
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 9), ZX_OK);
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_USER_SIGNAL_0), ZX_OK);
  zx_port_packet_t packet;
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 9), ZX_ERR_NOT_FOUND);
}

TEST(ZxEvent, PortCancelWithdrawsAFiredPacketNotYetRead) {
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  // Two fired waits, keys 1 and 2, and a user packet with key 1 in between.
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_USER_SIGNAL_0), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 1, ZX_USER_SIGNAL_0, 0), ZX_OK);
  zx_port_packet_t user;
  std::memset(&user, 0, sizeof user);
  user.key = 1;
  ASSERT_EQ(zx_port_queue(port.get(), &user), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), 2, ZX_USER_SIGNAL_0, 0), ZX_OK);
  // Canceling key 1 takes the signal packet only: the user packet and key 2 stay, in order.
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 1), ZX_OK);
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 1), ZX_ERR_NOT_FOUND);
  zx_port_packet_t packet;
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  EXPECT_EQ(packet.key, 1u);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_USER);
  ASSERT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_OK);
  EXPECT_EQ(packet.key, 2u);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_SIGNAL_ONE);
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
  // Read already: nothing to cancel.
  EXPECT_EQ(zx_port_cancel(port.get(), event.get(), 2), ZX_ERR_NOT_FOUND);
}

TEST(ZxEvent, EachFiredPacketIsReadOrCanceledExactlyOnce) {
  Owned event, port;
  ASSERT_EQ(zx_event_create(0, event.out()), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_object_signal(event.get(), 0, ZX_USER_SIGNAL_0), ZX_OK);
  constexpr uint64_t kRounds = 2000;
  uint64_t read = 0;
  std::thread reader([&] {
    zx_port_packet_t p;
    while (zx_port_wait(port.get(), ZX_TIME_INFINITE, &p) == ZX_OK && p.type != ZX_PKT_TYPE_USER) {
      ++read;
    }
  });
  uint64_t canceled = 0;
  for (uint64_t key = 1; key <= kRounds; ++key) {
    // Asserted already: the packet is queued at once, and races the reader to the cancel.
    ASSERT_EQ(zx_object_wait_async(event.get(), port.get(), key, ZX_USER_SIGNAL_0, 0), ZX_OK);
    if (zx_port_cancel(port.get(), event.get(), key) == ZX_OK) ++canceled;
  }
  zx_port_packet_t stop;
  std::memset(&stop, 0, sizeof stop);
  ASSERT_EQ(zx_port_queue(port.get(), &stop), ZX_OK);
  reader.join();
  EXPECT_EQ(read + canceled, kRounds);
}

TEST(ZxEvent, ClosingTheWaitedHandleDropsTheAsyncWait) {
  Owned port, keep;
  zx_handle_t event;
  ASSERT_EQ(zx_event_create(0, &event), ZX_OK);
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_handle_duplicate(event, ZX_RIGHT_SAME_RIGHTS, keep.out()), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(event, port.get(), 1, ZX_USER_SIGNAL_0, 0), ZX_OK);
  ASSERT_EQ(zx_handle_close(event), ZX_OK);
  ASSERT_EQ(zx_object_signal(keep.get(), 0, ZX_USER_SIGNAL_0), ZX_OK);
  zx_port_packet_t packet;
  EXPECT_EQ(zx_port_wait(port.get(), 0, &packet), ZX_ERR_TIMED_OUT);
}

}  // namespace
}  // namespace upager::zx::testing
