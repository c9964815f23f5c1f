// Port and PortObject: FIFO delivery of user and owned packets, deadlines, CancelKey,
// withdrawing owned packets, the owner callback (once, outside the port lock), dead ports,
// and several waiters sharing a port.
#include "upager/port.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "base/handle_access.h"
#include "pager/port_object.h"
#include "test_util.h"

namespace upager {
namespace {

using internal::OwnedPacket;
using internal::PacketOwner;
using internal::PortObject;

constexpr Deadline kPoll{};  // in the past: Wait polls

PortPacket UserPacket(uint64_t key, uint8_t fill = 0) {
  PortPacket p{};
  p.key = key;
  p.type = kPktTypeUser;
  std::memset(p.user, fill, sizeof(p.user));
  return p;
}

// An owner with one embedded packet that counts how often it is handed back. The callback
// takes the port lock (queued_count), which would deadlock if the port still held it, and
// can re-queue its packet on the spot as a pager proxy does.
class FakeOwner : public PacketOwner, public std::enable_shared_from_this<FakeOwner> {
 public:
  FakeOwner(PortObject* port, uint64_t key) : port_(port) {
    packet.packet.key = key;
    packet.packet.type = kPktTypePageRequest;
  }

  void OnPacketDequeued(OwnedPacket* p) override {
    EXPECT_EQ(p, &packet);
    (void)port_->queued_count();
    dequeued.fetch_add(1);
    if (requeue_with_key != 0) {
      packet.packet.key = requeue_with_key;
      requeue_with_key = 0;
      port_->QueueOwned(&packet, shared_from_this());
    }
  }

  void Queue() { port_->QueueOwned(&packet, shared_from_this()); }

  OwnedPacket packet;
  std::atomic<int> dequeued{0};
  uint64_t requeue_with_key = 0;

 private:
  PortObject* const port_;
};

TEST(PortTest, CreateAndHandles) {
  Port port;
  EXPECT_FALSE(port.is_valid());
  EXPECT_EQ(Port::Create(1, &port), Status::kInvalidArgs);
  PortPacket packet{};
  EXPECT_EQ(port.Wait(kPoll, &packet), Status::kBadHandle);
  EXPECT_EQ(port.Queue(UserPacket(1)), Status::kBadHandle);
  EXPECT_EQ(port.CancelKey(1), Status::kBadHandle);
  Port dup;
  EXPECT_EQ(port.Duplicate(&dup), Status::kBadHandle);

  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  EXPECT_TRUE(port.is_valid());
  ASSERT_EQ(port.Duplicate(&dup), Status::kOk);
  EXPECT_EQ(internal::HandleAccess::Object(dup), internal::HandleAccess::Object(port));
  // Either handle reaches the same queue; the port outlives the first one to go.
  ASSERT_EQ(port.Queue(UserPacket(7)), Status::kOk);
  port.Reset();
  EXPECT_FALSE(port.is_valid());
  ASSERT_EQ(dup.Wait(kPoll, &packet), Status::kOk);
  EXPECT_EQ(packet.key, 7u);

  Port moved(std::move(dup));
  EXPECT_FALSE(dup.is_valid());  // NOLINT(bugprone-use-after-move): moved-from is invalid
  EXPECT_TRUE(moved.is_valid());
}

TEST(PortTest, QueueRejectsNonUserPackets) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  PortPacket packet = UserPacket(1);
  packet.type = kPktTypePageRequest;
  EXPECT_EQ(port.Queue(packet), Status::kInvalidArgs);
  EXPECT_EQ(port.Wait(kPoll, &packet), Status::kTimedOut);
}

TEST(PortTest, UserPacketsFifo) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  for (uint64_t key = 1; key <= 5; ++key) {
    PortPacket p = UserPacket(key, static_cast<uint8_t>(key));
    p.status = Status::kIo;
    ASSERT_EQ(port.Queue(p), Status::kOk);
  }
  for (uint64_t key = 1; key <= 5; ++key) {
    PortPacket p{};
    ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
    EXPECT_EQ(p.key, key);
    EXPECT_EQ(p.type, kPktTypeUser);
    EXPECT_EQ(p.status, Status::kIo);
    for (uint8_t byte : p.user) {
      EXPECT_EQ(byte, key);
    }
  }
  PortPacket p{};
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kTimedOut);
}

TEST(PortTest, WaitDeadline) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  PortPacket p{};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(port.Wait(DeadlineAfter(std::chrono::milliseconds(30)), &p), Status::kTimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  // A deadline in the past polls: it returns a packet that is there, and at once otherwise.
  EXPECT_EQ(port.Wait(DeadlineAfter(std::chrono::nanoseconds(-1)), &p), Status::kTimedOut);
  ASSERT_EQ(port.Queue(UserPacket(3)), Status::kOk);
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 3u);
}

TEST(PortTest, WaitWakesWhenPacketArrives) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  PortPacket got{};
  Status status = Status::kInternal;
  std::thread waiter([&] { status = port.Wait(kInfiniteDeadline, &got); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(port.Queue(UserPacket(42)), Status::kOk);
  waiter.join();
  EXPECT_EQ(status, Status::kOk);
  EXPECT_EQ(got.key, 42u);
}

TEST(PortTest, CancelKey) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  for (uint64_t key : {1, 2, 1, 3, 1}) {
    ASSERT_EQ(port.Queue(UserPacket(key)), Status::kOk);
  }
  EXPECT_EQ(port.CancelKey(1), Status::kOk);
  EXPECT_EQ(port.CancelKey(1), Status::kNotFound);
  EXPECT_EQ(port.CancelKey(9), Status::kNotFound);
  PortPacket p{};
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 2u);
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 3u);
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kTimedOut);
}

TEST(PortObjectTest, OwnedAndUserPacketsShareOneFifo) {
  PortObject port;
  auto owner = std::make_shared<FakeOwner>(&port, 2);
  ASSERT_EQ(port.QueueUser(UserPacket(1)), Status::kOk);
  owner->Queue();
  ASSERT_EQ(port.QueueUser(UserPacket(3)), Status::kOk);
  EXPECT_EQ(port.queued_count(), 3u);

  PortPacket p{};
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 1u);
  EXPECT_EQ(owner->dequeued, 0);
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 2u);
  EXPECT_EQ(p.type, kPktTypePageRequest);
  EXPECT_EQ(owner->dequeued, 1);  // before Wait returned
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 3u);
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kTimedOut);
  EXPECT_EQ(owner->dequeued, 1);
}

TEST(PortObjectTest, QueuedPacketKeepsItsOwnerAlive) {
  PortObject port;
  auto owner = std::make_shared<FakeOwner>(&port, 5);
  std::weak_ptr<FakeOwner> weak = owner;
  owner->Queue();
  owner.reset();
  EXPECT_FALSE(weak.expired());
  PortPacket p{};
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 5u);
  EXPECT_TRUE(weak.expired());
}

TEST(PortObjectTest, Withdraw) {
  PortObject port;
  auto owner = std::make_shared<FakeOwner>(&port, 5);
  owner->Queue();
  EXPECT_EQ(owner.use_count(), 2);
  EXPECT_TRUE(port.Withdraw(&owner->packet));
  EXPECT_EQ(owner.use_count(), 1);  // the port let go
  EXPECT_FALSE(port.Withdraw(&owner->packet));
  PortPacket p{};
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kTimedOut);
  EXPECT_EQ(owner->dequeued, 0);

  // Once read, it cannot be withdrawn; it is the owner's and may be queued again.
  owner->Queue();
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_FALSE(port.Withdraw(&owner->packet));
  EXPECT_EQ(owner->dequeued, 1);
  owner->Queue();
  EXPECT_TRUE(port.Withdraw(&owner->packet));
}

TEST(PortObjectTest, WithdrawKeepsOrderOfOthers) {
  PortObject port;
  auto a = std::make_shared<FakeOwner>(&port, 1);
  auto b = std::make_shared<FakeOwner>(&port, 2);
  auto c = std::make_shared<FakeOwner>(&port, 3);
  a->Queue();
  b->Queue();
  c->Queue();
  EXPECT_TRUE(port.Withdraw(&b->packet));
  PortPacket p{};
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 1u);
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 3u);
  EXPECT_EQ(b->dequeued, 0);
}

TEST(PortObjectTest, CancelKeyReportsOwnedPacketsAsDequeued) {
  PortObject port;
  auto owner = std::make_shared<FakeOwner>(&port, 7);
  auto other = std::make_shared<FakeOwner>(&port, 8);
  owner->Queue();
  other->Queue();
  ASSERT_EQ(port.QueueUser(UserPacket(7)), Status::kOk);
  // The owner re-queues from its callback, with the same key, as a proxy sending its next
  // request does: that packet is new and survives this CancelKey.
  owner->requeue_with_key = 7;
  EXPECT_EQ(port.CancelKey(7), Status::kOk);
  EXPECT_EQ(owner->dequeued, 1);
  EXPECT_EQ(other->dequeued, 0);

  PortPacket p{};
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 8u);
  ASSERT_EQ(port.Wait(kPoll, &p), Status::kOk);
  EXPECT_EQ(p.key, 7u);  // the re-queued packet: new, so CancelKey left it
  EXPECT_EQ(owner->dequeued, 2);
  EXPECT_EQ(other->dequeued, 1);
  EXPECT_EQ(port.Wait(kPoll, &p), Status::kTimedOut);
}

TEST(PortObjectTest, CancelKeyThenWithdrawDoesNotDoubleReport) {
  PortObject port;
  auto owner = std::make_shared<FakeOwner>(&port, 7);
  owner->Queue();
  EXPECT_EQ(port.CancelKey(7), Status::kOk);
  EXPECT_FALSE(port.Withdraw(&owner->packet));
  EXPECT_EQ(owner->dequeued, 1);
  EXPECT_EQ(port.CancelKey(7), Status::kNotFound);
  EXPECT_EQ(owner.use_count(), 1);
}

TEST(PortTest, DeadPortDropsPacketsAndKeepsNothing) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  std::shared_ptr<PortObject> object = internal::HandleAccess::Object(port);
  auto owner = std::make_shared<FakeOwner>(object.get(), 1);
  owner->Queue();
  ASSERT_EQ(port.Queue(UserPacket(2)), Status::kOk);
  EXPECT_EQ(owner.use_count(), 2);

  port.Reset();  // the last handle: nobody can read the port any more
  EXPECT_EQ(owner.use_count(), 1);
  EXPECT_EQ(object->queued_count(), 0u);
  EXPECT_EQ(owner->dequeued, 0);  // never read, so never handed back
  EXPECT_FALSE(object->Withdraw(&owner->packet));

  // Later packets are accepted and forgotten; the owner is not kept alive by them.
  owner->dequeued = 0;
  OwnedPacket fresh;
  object->QueueOwned(&fresh, owner);
  EXPECT_EQ(owner.use_count(), 1);
  EXPECT_FALSE(object->Withdraw(&fresh));
  EXPECT_EQ(object->QueueUser(UserPacket(3)), Status::kOk);
  EXPECT_EQ(object->queued_count(), 0u);
}

// Several threads waiting on one port each get a distinct packet, every packet once.
TEST(PortTest, ConcurrentWaitersEachGetOnePacket) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  constexpr int kWaiters = 8;
  std::mutex mutex;
  std::multiset<uint64_t> received;
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      PortPacket p{};
      ASSERT_EQ(port.Wait(kInfiniteDeadline, &p), Status::kOk);
      std::lock_guard lock(mutex);
      received.insert(p.key);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (uint64_t key = 1; key <= kWaiters; ++key) {
    ASSERT_EQ(port.Queue(UserPacket(key)), Status::kOk);
  }
  for (std::thread& t : waiters) {
    t.join();
  }
  EXPECT_EQ(received, (std::multiset<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

// Producers queueing user and owned packets, consumers with short deadlines (some time out
// while packets arrive): every packet is received exactly once and nothing is stranded.
TEST(PortTest, ManyProducersAndConsumers) {
  Port port;
  ASSERT_EQ(Port::Create(0, &port), Status::kOk);
  PortObject* object = internal::HandleAccess::Object(port).get();
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 2000;
  constexpr int kConsumers = 4;
  // One owner per producer; it re-queues its packet each time it is read, kPerProducer times.
  class Relay : public PacketOwner, public std::enable_shared_from_this<Relay> {
   public:
    Relay(PortObject* port, uint64_t key, int remaining)
        : port_(port), key_(key), remaining_(remaining) {}
    void Start() { Send(); }
    void OnPacketDequeued(OwnedPacket* /*p*/) override {
      if (--remaining_ > 0) {
        Send();
      }
    }

   private:
    void Send() {
      packet_.packet.key = key_;
      packet_.packet.type = kPktTypePageRequest;
      port_->QueueOwned(&packet_, shared_from_this());
    }
    PortObject* const port_;
    const uint64_t key_;
    int remaining_;  // touched only by whoever holds the packet
    OwnedPacket packet_;
  };

  std::atomic<int> user_received{0};
  std::atomic<int> owned_received{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&] {
      while (!done.load()) {
        PortPacket p{};
        if (port.Wait(DeadlineAfter(std::chrono::microseconds(50)), &p) == Status::kOk) {
          (p.type == kPktTypeUser ? user_received : owned_received).fetch_add(1);
        }
      }
    });
  }
  std::vector<std::shared_ptr<Relay>> relays;
  for (int i = 0; i < kProducers; ++i) {
    relays.push_back(std::make_shared<Relay>(object, 1000 + i, kPerProducer));
  }
  for (int i = 0; i < kProducers; ++i) {
    threads.emplace_back([&, i] {
      relays[i]->Start();
      for (int n = 0; n < kPerProducer; ++n) {
        ASSERT_EQ(port.Queue(UserPacket(i)), Status::kOk);
      }
    });
  }
  EXPECT_TRUE(testing::PollUntil([&] {
    return user_received.load() == kProducers * kPerProducer &&
           owned_received.load() == kProducers * kPerProducer;
  }));
  done = true;
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(user_received.load(), kProducers * kPerProducer);
  EXPECT_EQ(owned_received.load(), kProducers * kPerProducer);
  EXPECT_EQ(object->queued_count(), 0u);
}

}  // namespace
}  // namespace upager
