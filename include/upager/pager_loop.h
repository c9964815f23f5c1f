// PagerLoop: a ready-made pager service, the shape of Fuchsia's async PagedVmo.
//
// It owns a Pager and a Port and runs N threads that read page-request packets and hand
// them to the Handler of the VMO they are for. A handler answers a READ by supplying the
// range (Pager::SupplyPagesFromBuffer or SupplyPages) or failing it, and a DIRTY by
// acknowledging it (the default) or failing it.
//
//   class Zeros : public upager::PagerLoop::Handler {
//     void OnRead(const upager::PagerLoop::Request& r) override {
//       std::vector<char> data(r.length, 0);
//       r.loop->pager().SupplyPagesFromBuffer(r.vmo, r.offset, r.length, data.data());
//     }
//   };
//   upager::PagerLoop loop(2);
//   loop.Start();
//   Zeros zeros;
//   upager::Vmo vmo;
//   loop.CreateVmo(0, 1 << 20, &zeros, &vmo);   // reads of vmo now call zeros.OnRead
#ifndef UPAGER_PAGER_LOOP_H_
#define UPAGER_PAGER_LOOP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "upager/pager.h"
#include "upager/port.h"
#include "upager/status.h"
#include "upager/vmo.h"

namespace upager {

class PagerLoop {
 public:
  // One packet, as the handler sees it. `vmo` is a temporary handle to the VMO the packet
  // is for, valid during the call.
  struct Request {
    PagerLoop* loop;
    const Vmo& vmo;
    uint64_t key;
    uint64_t offset;
    uint64_t length;
    // When the packet was queued (steady_clock, ns since its epoch): the request was
    // outstanding by then, so a supply that resolves requests after this time resolves it.
    uint64_t queued_ns;
  };

  // Called on a loop thread; several threads may call one handler at once.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnRead(const Request& request) = 0;
    // Default: acknowledges the DIRTY request with kPagerOpDirty.
    virtual void OnDirty(const Request& request);
    // The VMO is gone or detached; no more requests will come for `key`.
    virtual void OnComplete(uint64_t /*key*/) {}
  };

  explicit PagerLoop(size_t threads = 1);
  // With `serve_faults_inline`, the process's fault-handling thread also serves this loop's
  // packets, right after the fault that caused them: a mapped fault is then answered
  // without any thread hand-off (the fastest path, for handlers that answer from memory).
  // Such a handler runs on the fault thread and must not block for long nor touch absent
  // pages of a mapping (nobody else would serve that fault). `threads` may then be 0: only
  // faults are served, and requests from Vmo::Read and friends wait for Poll().
  PagerLoop(size_t threads, bool serve_faults_inline);
  ~PagerLoop();  // Stop()
  PagerLoop(const PagerLoop&) = delete;
  PagerLoop& operator=(const PagerLoop&) = delete;

  // Creates the pager and port and starts the threads. kBadState if already started.
  Status Start();
  // Stops and joins the threads. VMOs keep their content; new requests are not answered.
  void Stop();
  // Serves the packets queued now on the calling thread; returns how many.
  size_t Poll();

  // A pager-backed VMO whose requests go to `handler`. The handler must stay alive until
  // its OnComplete has run or the loop is stopped: closing the VMO queues a COMPLETE that a
  // loop thread delivers later.
  // Options as Pager::CreateVmo.
  Status CreateVmo(uint32_t options, uint64_t size, Handler* handler, Vmo* out);

  // Forgets every VMO of `handler`: when it returns, no call to the handler is running or
  // will be made by this loop (packets still queued for its VMOs are dropped, OnComplete is
  // not called). The way for a handler to go away while its VMOs may live on: detach them
  // first (Pager::DetachVmo) so that their waiters are failed rather than left waiting.
  // Must not be called from the handler's own callbacks.
  void RemoveHandler(Handler* handler);

  const Pager& pager() const { return pager_; }
  const Port& port() const { return port_; }

 private:
  class Handlers;  // the VMOs' handlers by key
  void Run();
  void Dispatch(const PortPacket& packet, uint64_t queued_ns);

  const size_t thread_count_;
  const bool inline_;
  bool inline_registered_ = false;
  Pager pager_;
  Port port_;
  std::vector<std::thread> threads_;
  const std::unique_ptr<Handlers> handlers_;
};

}  // namespace upager

#endif  // UPAGER_PAGER_LOOP_H_
