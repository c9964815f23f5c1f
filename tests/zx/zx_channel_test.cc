// zx_channel_*: messages of bytes and handles within the process, the handles moving from
// the writer's table to the reader's; each call's checks in Zircon's order; the signals.
#include <gtest/gtest.h>
#include <lib/zx/channel.h>
#include <lib/zx/vmo.h>
#include <zircon/syscalls.h>

#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include "zx_test_util.h"

namespace upager::zx::testing {
namespace {

constexpr uint64_t kPage = 4096;

zx_signals_t SignalsOf(zx_handle_t h) {
  zx_signals_t observed = 0;
  EXPECT_EQ(zx_object_wait_one(h, 0, 0, &observed), ZX_ERR_TIMED_OUT);
  return observed;
}

zx_koid_t KoidOf(zx_handle_t h) {
  zx_info_handle_basic_t info{};
  EXPECT_EQ(zx_object_get_info(h, ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
            ZX_OK);
  return info.koid;
}

bool IsValid(zx_handle_t h) {
  return zx_object_get_info(h, ZX_INFO_HANDLE_VALID, nullptr, 0, nullptr, nullptr) == ZX_OK;
}

class ZxChannel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(zx_channel_create(0, a_.out(), b_.out()), ZX_OK);
    ASSERT_EQ(zx_event_create(0, event_.out()), ZX_OK);
  }
  Owned a_, b_, event_;
};

TEST_F(ZxChannel, CreateGivesTwoEndpoints) {
  zx_info_handle_basic_t info{};
  ASSERT_EQ(
      zx_object_get_info(a_.get(), ZX_INFO_HANDLE_BASIC, &info, sizeof info, nullptr, nullptr),
      ZX_OK);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_CHANNEL);
  EXPECT_EQ(info.rights, ZX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_EQ(RightsOf(b_.get()), ZX_DEFAULT_CHANNEL_RIGHTS);
  EXPECT_NE(KoidOf(a_.get()), KoidOf(b_.get()));
  EXPECT_EQ(info.related_koid, KoidOf(b_.get()));
  EXPECT_EQ(SignalsOf(a_.get()), ZX_CHANNEL_WRITABLE);
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_WRITABLE);

  zx_handle_t x = ZX_HANDLE_INVALID;
  zx_handle_t y = ZX_HANDLE_INVALID;
  EXPECT_EQ(zx_channel_create(1, &x, &y), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_channel_create(0, nullptr, &y), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(x, ZX_HANDLE_INVALID);
  EXPECT_EQ(y, ZX_HANDLE_INVALID);
}

TEST_F(ZxChannel, BytesGoThroughInOrder) {
  const char first[] = "hello";
  const char second[] = "pager";
  ASSERT_EQ(zx_channel_write(a_.get(), 0, first, 5, nullptr, 0), ZX_OK);
  ASSERT_EQ(zx_channel_write(a_.get(), 0, second, 3, nullptr, 0), ZX_OK);
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE);
  EXPECT_EQ(SignalsOf(a_.get()), ZX_CHANNEL_WRITABLE);  // its own queue is empty

  // Too small: the sizes come back, the message stays.
  std::array<char, 8> buf{};
  uint32_t actual_bytes = 99;
  uint32_t actual_handles = 99;
  EXPECT_EQ(zx_channel_read(b_.get(), 0, buf.data(), nullptr, 4, 0, &actual_bytes, &actual_handles),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual_bytes, 5u);
  EXPECT_EQ(actual_handles, 0u);
  ASSERT_EQ(zx_channel_read(b_.get(), 0, buf.data(), nullptr, buf.size(), 0, &actual_bytes,
                            &actual_handles),
            ZX_OK);
  EXPECT_EQ(actual_bytes, 5u);
  EXPECT_EQ(std::memcmp(buf.data(), "hello", 5), 0);
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_WRITABLE | ZX_CHANNEL_READABLE);
  ASSERT_EQ(zx_channel_read(b_.get(), 0, buf.data(), nullptr, buf.size(), 0, &actual_bytes,
                            &actual_handles),
            ZX_OK);
  EXPECT_EQ(actual_bytes, 3u);
  EXPECT_EQ(std::memcmp(buf.data(), "pag", 3), 0);
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_WRITABLE);
  EXPECT_EQ(zx_channel_read(b_.get(), 0, buf.data(), nullptr, buf.size(), 0, &actual_bytes,
                            &actual_handles),
            ZX_ERR_SHOULD_WAIT);
  // An empty message is a message.
  ASSERT_EQ(zx_channel_write(b_.get(), 0, nullptr, 0, nullptr, 0), ZX_OK);
  ASSERT_EQ(zx_channel_read(a_.get(), 0, nullptr, nullptr, 0, 0, &actual_bytes, &actual_handles),
            ZX_OK);
  EXPECT_EQ(actual_bytes, 0u);
}

TEST_F(ZxChannel, MayDiscardDropsATooLargeMessage) {
  ASSERT_EQ(zx_channel_write(a_.get(), 0, "abcdef", 6, nullptr, 0), ZX_OK);
  ASSERT_EQ(zx_channel_write(a_.get(), 0, "xy", 2, nullptr, 0), ZX_OK);
  char buf[4];
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  EXPECT_EQ(zx_channel_read(b_.get(), ZX_CHANNEL_READ_MAY_DISCARD, buf, nullptr, sizeof buf, 0,
                            &actual_bytes, &actual_handles),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual_bytes, 6u);
  ASSERT_EQ(
      zx_channel_read(b_.get(), 0, buf, nullptr, sizeof buf, 0, &actual_bytes, &actual_handles),
      ZX_OK);
  EXPECT_EQ(actual_bytes, 2u);
  EXPECT_EQ(std::memcmp(buf, "xy", 2), 0);
}

// A VMO handle moves: invalid in the writer once written, a new handle with the same rights
// and object at the reader, usable there.
TEST_F(ZxChannel, AVmoHandleMovesAndIsUsedOnTheOtherSide) {
  zx_handle_t vmo = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_vmo_create(kPage, 0, &vmo), ZX_OK);
  ASSERT_EQ(zx_vmo_write(vmo, "moved", 0, 5), ZX_OK);
  const zx_koid_t koid = KoidOf(vmo);
  const zx_rights_t rights = RightsOf(vmo) & ~ZX_RIGHT_SIGNAL;
  zx_handle_t fewer = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_handle_replace(vmo, rights, &fewer), ZX_OK);

  ASSERT_EQ(zx_channel_write(a_.get(), 0, "v", 1, &fewer, 1), ZX_OK);
  EXPECT_FALSE(IsValid(fewer));
  EXPECT_EQ(zx_handle_close(fewer), ZX_ERR_BAD_HANDLE);

  char byte = 0;
  zx_handle_t got = ZX_HANDLE_INVALID;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  // No room for the handle: too small, both sizes reported.
  EXPECT_EQ(zx_channel_read(b_.get(), 0, &byte, &got, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(actual_bytes, 1u);
  EXPECT_EQ(actual_handles, 1u);
  EXPECT_EQ(got, ZX_HANDLE_INVALID);
  ASSERT_EQ(zx_channel_read(b_.get(), 0, &byte, &got, 1, 1, &actual_bytes, &actual_handles), ZX_OK);
  EXPECT_EQ(byte, 'v');
  EXPECT_EQ(actual_handles, 1u);
  Owned received(got);
  EXPECT_EQ(KoidOf(received.get()), koid);
  EXPECT_EQ(RightsOf(received.get()), rights);
  char text[5] = {};
  ASSERT_EQ(zx_vmo_read(received.get(), text, 0, sizeof text), ZX_OK);
  EXPECT_EQ(std::memcmp(text, "moved", 5), 0);
}

TEST_F(ZxChannel, ReadEtcReportsTypeAndRights) {
  zx_handle_t event = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_event_create(0, &event), ZX_OK);
  ASSERT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, &event, 1), ZX_OK);
  zx_handle_info_t info{};
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  ASSERT_EQ(zx_channel_read_etc(b_.get(), 0, nullptr, &info, 0, 1, &actual_bytes, &actual_handles),
            ZX_OK);
  Owned received(info.handle);
  EXPECT_EQ(info.type, ZX_OBJ_TYPE_EVENT);
  EXPECT_EQ(info.rights, ZX_DEFAULT_EVENT_RIGHTS);
  EXPECT_EQ(info.unused, 0u);
  EXPECT_EQ(zx_object_signal(received.get(), 0, ZX_EVENT_SIGNALED), ZX_OK);
}

// The checks of zx_channel_write, in Zircon's order. The handles listed are consumed
// whatever the outcome (the channel's own handle, refused, excepted).
TEST_F(ZxChannel, WriteChecksInOrderAndConsumesTheHandles) {
  auto event = [] {
    zx_handle_t h = ZX_HANDLE_INVALID;
    EXPECT_EQ(zx_event_create(0, &h), ZX_OK);
    return h;
  };
  zx_handle_t h = event();
  EXPECT_EQ(zx_channel_write(a_.get(), 1, nullptr, 0, &h, 1), ZX_ERR_INVALID_ARGS);
  EXPECT_FALSE(IsValid(h));
  h = event();
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, ZX_CHANNEL_MAX_MSG_BYTES + 1, &h, 1),
            ZX_ERR_OUT_OF_RANGE);
  EXPECT_FALSE(IsValid(h));
  std::vector<zx_handle_t> many(ZX_CHANNEL_MAX_MSG_HANDLES + 1);
  for (auto& m : many) m = event();
  EXPECT_EQ(
      zx_channel_write(a_.get(), 0, nullptr, 0, many.data(), static_cast<uint32_t>(many.size())),
      ZX_ERR_OUT_OF_RANGE);
  for (zx_handle_t m : many) EXPECT_FALSE(IsValid(m));

  h = event();
  EXPECT_EQ(zx_channel_write(kBogusHandle, 0, nullptr, 0, &h, 1), ZX_ERR_BAD_HANDLE);
  EXPECT_FALSE(IsValid(h));
  h = event();
  EXPECT_EQ(zx_channel_write(event_.get(), 0, nullptr, 0, &h, 1), ZX_ERR_WRONG_TYPE);
  EXPECT_FALSE(IsValid(h));
  Owned spare_a, spare_b;
  ASSERT_EQ(zx_channel_create(0, spare_a.out(), spare_b.out()), ZX_OK);
  zx_handle_t read_only = ZX_HANDLE_INVALID;
  ASSERT_EQ(
      zx_handle_replace(spare_a.release(), ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_WRITE, &read_only),
      ZX_OK);
  Owned read_only_owner(read_only);
  h = event();
  EXPECT_EQ(zx_channel_write(read_only, 0, nullptr, 0, &h, 1), ZX_ERR_ACCESS_DENIED);
  EXPECT_FALSE(IsValid(h));
  // Bytes announced without a buffer.
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, 1, nullptr, 0), ZX_ERR_INVALID_ARGS);
  EXPECT_EQ(zx_channel_write(a_.get(), 0, "x", 1, nullptr, 0), ZX_OK);

  // The handles themselves, in order; the first problem is the answer.
  zx_handle_t no_transfer = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_handle_replace(event(), ZX_DEFAULT_EVENT_RIGHTS & ~ZX_RIGHT_TRANSFER, &no_transfer),
            ZX_OK);
  zx_handle_t ok = event();
  zx_handle_t list[] = {ok, no_transfer};
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, list, 2), ZX_ERR_ACCESS_DENIED);
  EXPECT_FALSE(IsValid(ok));
  EXPECT_FALSE(IsValid(no_transfer));
  ok = event();
  zx_handle_t with_bogus[] = {kBogusHandle, ok};
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, with_bogus, 2), ZX_ERR_BAD_HANDLE);
  EXPECT_FALSE(IsValid(ok));
  ok = event();
  zx_handle_t twice[] = {ok, ok};
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, twice, 2), ZX_ERR_BAD_HANDLE);
  EXPECT_FALSE(IsValid(ok));
  ok = event();
  zx_handle_t itself[] = {ok, a_.get()};
  EXPECT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, itself, 2), ZX_ERR_NOT_SUPPORTED);
  EXPECT_FALSE(IsValid(ok));
  EXPECT_TRUE(IsValid(a_.get()));  // the channel's own handle stays

  // Only the message written with no problem arrived.
  char byte = 0;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  ASSERT_EQ(zx_channel_read(b_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_OK);
  EXPECT_EQ(byte, 'x');
  EXPECT_EQ(zx_channel_read(b_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_SHOULD_WAIT);

  // The peer gone: PEER_CLOSED, and the handles go too.
  ASSERT_EQ(zx_handle_close(b_.release()), ZX_OK);
  h = event();
  EXPECT_EQ(zx_channel_write(a_.get(), 0, "x", 1, &h, 1), ZX_ERR_PEER_CLOSED);
  EXPECT_FALSE(IsValid(h));
}

TEST_F(ZxChannel, ReadChecksInOrder) {
  char byte = 0;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  EXPECT_EQ(zx_channel_read(kBogusHandle, 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_BAD_HANDLE);
  EXPECT_EQ(zx_channel_read(event_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_WRONG_TYPE);
  zx_handle_t write_only = ZX_HANDLE_INVALID;
  ASSERT_EQ(
      zx_handle_replace(b_.release(), ZX_DEFAULT_CHANNEL_RIGHTS & ~ZX_RIGHT_READ, &write_only),
      ZX_OK);
  Owned write_only_owner(write_only);
  EXPECT_EQ(zx_channel_read(write_only, 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_ACCESS_DENIED);
  EXPECT_EQ(zx_channel_read(a_.get(), 2, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_NOT_SUPPORTED);
  EXPECT_EQ(zx_channel_read(a_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_SHOULD_WAIT);
}

// A message written before the peer closed stays readable; then PEER_CLOSED.
TEST_F(ZxChannel, PeerClosedAfterTheQueuedMessages) {
  ASSERT_EQ(zx_channel_write(a_.get(), 0, "q", 1, nullptr, 0), ZX_OK);
  ASSERT_EQ(zx_handle_close(a_.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_READABLE | ZX_CHANNEL_PEER_CLOSED);
  char byte = 0;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  ASSERT_EQ(zx_channel_read(b_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_OK);
  EXPECT_EQ(byte, 'q');
  EXPECT_EQ(SignalsOf(b_.get()), ZX_CHANNEL_PEER_CLOSED);
  EXPECT_EQ(zx_channel_read(b_.get(), 0, &byte, nullptr, 1, 0, &actual_bytes, &actual_handles),
            ZX_ERR_PEER_CLOSED);
  EXPECT_EQ(zx_channel_write(b_.get(), 0, "r", 1, nullptr, 0), ZX_ERR_PEER_CLOSED);
}

// An endpoint closed with unread messages closes the handles they carry: here the endpoint
// of another channel, whose peer then sees PEER_CLOSED.
TEST_F(ZxChannel, UnreadHandlesCloseWithTheirEndpoint) {
  Owned other_a;
  zx_handle_t other_b = ZX_HANDLE_INVALID;
  ASSERT_EQ(zx_channel_create(0, other_a.out(), &other_b), ZX_OK);
  ASSERT_EQ(zx_channel_write(a_.get(), 0, nullptr, 0, &other_b, 1), ZX_OK);
  EXPECT_EQ(SignalsOf(other_a.get()), ZX_CHANNEL_WRITABLE);  // in flight, still open
  ASSERT_EQ(zx_handle_close(b_.release()), ZX_OK);
  EXPECT_EQ(SignalsOf(other_a.get()), ZX_CHANNEL_PEER_CLOSED);
  EXPECT_EQ(SignalsOf(a_.get()), ZX_CHANNEL_PEER_CLOSED);
}

// A reader waiting for READABLE in another thread wakes when the message comes; wait_async
// gets its packet.
TEST_F(ZxChannel, WaitersSeeReadable) {
  Owned port;
  ASSERT_EQ(zx_port_create(0, port.out()), ZX_OK);
  ASSERT_EQ(zx_object_wait_async(b_.get(), port.get(), 7, ZX_CHANNEL_READABLE, 0), ZX_OK);
  zx_signals_t observed = 0;
  zx_status_t status = ZX_ERR_INTERNAL;
  std::thread reader([&] {
    status =
        zx_object_wait_one(b_.get(), ZX_CHANNEL_READABLE, zx_deadline_after(ZX_SEC(30)), &observed);
  });
  ASSERT_EQ(zx_channel_write(a_.get(), 0, "w", 1, nullptr, 0), ZX_OK);
  reader.join();
  EXPECT_EQ(status, ZX_OK);
  EXPECT_EQ(observed, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
  zx_port_packet_t packet{};
  ASSERT_EQ(zx_port_wait(port.get(), zx_deadline_after(ZX_SEC(30)), &packet), ZX_OK);
  EXPECT_EQ(packet.key, 7u);
  EXPECT_EQ(packet.type, ZX_PKT_TYPE_SIGNAL_ONE);
  EXPECT_EQ(packet.signal.trigger, ZX_CHANNEL_READABLE);
  EXPECT_EQ(packet.signal.observed, ZX_CHANNEL_READABLE | ZX_CHANNEL_WRITABLE);
}

TEST(ZxChannelLibzx, CreateWriteRead) {
  ::zx::channel a, b;
  ASSERT_EQ(::zx::channel::create(0, &a, &b), ZX_OK);
  ::zx::vmo vmo;
  ASSERT_EQ(::zx::vmo::create(kPage, 0, &vmo), ZX_OK);
  ASSERT_EQ(vmo.write("lib", 0, 3), ZX_OK);
  zx_handle_t h = vmo.release();
  ASSERT_EQ(a.write(0, "m", 1, &h, 1), ZX_OK);
  char byte = 0;
  zx_handle_t got = ZX_HANDLE_INVALID;
  uint32_t actual_bytes = 0;
  uint32_t actual_handles = 0;
  ASSERT_EQ(b.read(0, &byte, &got, 1, 1, &actual_bytes, &actual_handles), ZX_OK);
  ::zx::vmo received(got);
  char text[3] = {};
  ASSERT_EQ(received.read(text, 0, 3), ZX_OK);
  EXPECT_EQ(std::memcmp(text, "lib", 3), 0);
}

}  // namespace
}  // namespace upager::zx::testing
