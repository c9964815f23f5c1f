// The holder side of clone_process_test and clone_process_info_test: the test binary
// re-executes itself as a holder process (process_util.h) that runs the operations the test
// asks for over its channel and answers with their statuses and bytes; and the helpers the
// tests use to drive it.
#ifndef UPAGER_TESTS_CLONE_PROCESS_HOLDER_H_
#define UPAGER_TESTS_CLONE_PROCESS_HOLDER_H_

#include <cstdint>
#include <vector>

#include "process_util.h"
#include "upager/status.h"
#include "upager/vmo.h"
#include "user_pager.h"

namespace upager::clone_process {

inline uint64_t P(uint64_t pages) { return pages * kPageSize; }

// What the holder is asked to do: Note.value = op | (argument << 8); Note.status names the
// handle (an index into the holder's handles), or is CreateChild's options.
enum HolderOp : uint32_t {
  kRead = 1,         // read [offset, offset+len) of handle `status`: the bytes come back
  kWrite = 2,        // write `len` bytes of value `argument` at `offset` of handle `status`
  kChild = 3,        // handle 0's CreateChild(options = status, offset, len); value: its index
  kMap = 4,          // map handle `status`, [offset, offset+len), writable if `argument`
  kLoad = 5,         // `len` bytes at `offset` of the mapping: the bytes come back
  kStore = 6,        // `len` bytes of value `argument` at `offset` of the mapping
  kProbe = 7,        // loads the first word at `offset` of the mapping: the status (a SIGBUS's)
  kInfo = 8,         // GetInfo of handle `status`: the VmoInfo comes back as the bytes
  kSend = 9,         // sends handle `status` back (moved out of the holder) with the answer
  kProbeStore = 10,  // stores `argument` to the first word at `offset`: the status, as kProbe
  kFillVmas = 11,    // takes up VMAs until the holder has vm.max_map_count minus `offset`
                     // (an int64_t) of them: kOk if it could
};

// The holder's main (UPAGER_TEST_MAIN's RunChild).
int RunChild(const char* role, const Channel& parent);

// A holder process with `vmo` (consumed) as its handle 0.
Child StartHolder(Vmo vmo);
// Asks the holder for `op` and waits for its answer; `*bytes` gets what came back.
Note Ask(Child& child, uint32_t op, int32_t status, uint64_t offset, uint64_t len,
         std::vector<char>* bytes = nullptr);
// Sends the request now; the answer is taken later with Answer (the holder blocks on the
// pager meanwhile).
void AskLater(Child& child, uint32_t op, int32_t status, uint64_t offset, uint64_t len);
Note Answer(Child& child, std::vector<char>* bytes = nullptr);
// kInfo of handle `h`: the holder's GetInfo status, and its info in `*info`.
Status HeldInfo(Child& child, int32_t h, VmoInfo* info);
// kSend of handle `h`: the handle, here (the holder's is gone).
Vmo TakeBack(Child& child, int32_t h);

inline int32_t S(Status s) { return static_cast<int32_t>(s); }
inline std::vector<char> Filled(char c, uint64_t len) { return std::vector<char>(len, c); }

bool PageIs(const Vmo& vmo, uint64_t page, char c);
bool PageIsPattern(const Vmo& vmo, uint64_t key, uint64_t page);
Vmo MakeChild(const testing::TestVmo& root, uint32_t options, uint64_t pages);
void Finish(Child& child);

}  // namespace upager::clone_process

#endif  // UPAGER_TESTS_CLONE_PROCESS_HOLDER_H_
