// Issue 13's memory test across processes (docs/clones.md, Clones across processes): the
// children of one pager-backed root, each sent to another process and mapped and read there
// in full, cost about ONE copy of the root; a store costs one page, in the clone's own
// storage. The test binary re-executes itself as holder processes (process_util.h); each
// holds several children, maps them, checks every byte and reports what its mappings cost,
// from the kernel's own counters (/proc/self/smaps, smaps_rollup, status).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "base/handle_access.h"
#include "process_util.h"
#include "upager/mapping.h"
#include "user_pager.h"
#include "vm/vm_object_paged.h"

namespace upager {
namespace {

using testing::TestVmo;
using testing::UserPager;

uint64_t P(uint64_t pages) { return pages * kPageSize; }

// What the holder is asked to do: Note.value = op | (argument << 8); Note.status names one
// of the holder's handles (and its mapping).
enum MemoryOp : uint32_t {
  kTake = 1,   // keep the handle that comes with the note; value: its index
  kMap = 2,    // map handle `status` whole, writable
  kCheck = 3,  // check every byte of every mapping (offset: the root's pattern key, as
               // UserPager supplies it; the pages this holder stored hold what it stored);
               // value: the number of pages that differ
  kStore = 4,  // fill the page at `offset` of mapping `status` with byte `argument`
  kUsage = 5,  // the bytes come back: a Usage
};

// What a holder's memory costs, in bytes, from the kernel's counters.
struct Usage {
  uint64_t rss_anon;   // the process's anonymous resident memory (/proc/self/status RssAnon)
  uint64_t covered;    // the size of the VMAs inside the holder's mappings (smaps)
  uint64_t rss;        // their resident pages, each counted in every mapping of it
  uint64_t pss_shmem;  // the process's proportional share of memfd pages (smaps_rollup
                       // Pss_Shmem): a page mapped n times counts 1/n in each mapping
  uint64_t anonymous;  // their anonymous pages (a private copy made by a store would be one)
};

uint64_t StatusKb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return UINT64_MAX;
  char line[256];
  unsigned long long kb = UINT64_MAX;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      std::sscanf(line + n + 1, "%llu", &kb);
    }
  }
  std::fclose(f);
  return kb;
}

// The process's Pss_Shmem: smaps_rollup adds the shares up before it rounds to a kB (smaps
// rounds each VMA's).
uint64_t PssShmem() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return UINT64_MAX;
  char line[256];
  unsigned long long kb = UINT64_MAX;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::sscanf(line, "Pss_Shmem: %llu kB", &kb);
  }
  std::fclose(f);
  return kb * 1024;
}

// Adds up smaps' counters over the VMAs that lie inside `maps`. The holder's mappings are
// the only place its pages of the root and of the clones are mapped.
Usage Measure(const std::vector<Mapping>& maps) {
  Usage u{};
  u.rss_anon = StatusKb("RssAnon") * 1024;
  u.pss_shmem = PssShmem();
  FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return u;
  char line[512];
  bool inside = false;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    const bool header = (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
    if (header) {
      unsigned long long start = 0, end = 0;
      if (std::sscanf(line, "%llx-%llx", &start, &end) != 2) continue;
      inside = false;
      for (const Mapping& m : maps) {
        const auto base = reinterpret_cast<uintptr_t>(m.data());
        if (m.is_valid() && start >= base && end <= base + m.size()) inside = true;
      }
      if (inside) u.covered += end - start;
      continue;
    }
    if (!inside) continue;
    unsigned long long kb = 0;
    if (std::sscanf(line, "Rss: %llu kB", &kb) == 1) u.rss += kb * 1024;
    if (std::sscanf(line, "Anonymous: %llu kB", &kb) == 1) u.anonymous += kb * 1024;
  }
  std::fclose(f);
  return u;
}

struct Stored {
  size_t mapping;
  uint64_t offset;
  char value;
};

// The holder's loads and stores of its mappings. Not instrumented by the sanitizers: their
// shadow of every byte read (TSan's record of each access, ASan's check of each) would be
// anonymous memory of this process, and the test measures that.
// Nothing else touches these pages meanwhile: the owner forks a page only on this thread's
// store, which waits for it.
__attribute__((no_sanitize("address", "thread"))) uint32_t WrongPages(
    const std::vector<Mapping>& maps, uint64_t key, const std::vector<Stored>& stored) {
  constexpr uint64_t kWords = kPageSize / sizeof(uint64_t);
  uint32_t wrong = 0;
  for (size_t m = 0; m < maps.size(); ++m) {
    const auto* words = reinterpret_cast<const uint64_t*>(maps[m].data());
    for (uint64_t p = 0; p < maps[m].size() / kPageSize; ++p) {
      const uint64_t* page = words + p * kWords;
      const Stored* mine = nullptr;
      for (const Stored& s : stored) {
        if (s.mapping == m && s.offset == P(p)) mine = &s;
      }
      uint64_t expected = 0;
      if (mine != nullptr) std::memset(&expected, mine->value, sizeof expected);
      bool same = true;
      for (uint64_t w = 0; w < kWords; ++w) {
        const uint64_t pattern = (key << 32) + p * kWords + w;  // UserPager::Pattern
        same &= page[w] == (mine != nullptr ? expected : pattern);
      }
      wrong += same ? 0 : 1;
    }
  }
  return wrong;
}

__attribute__((no_sanitize("address", "thread"))) void FillPage(std::byte* page, char value) {
  uint64_t word = 0;
  std::memset(&word, value, sizeof word);
  auto* words = reinterpret_cast<volatile uint64_t*>(page);
  for (uint64_t w = 0; w < kPageSize / sizeof(uint64_t); ++w) words[w] = word;
}

int MemoryHolder(const Channel& parent) {
  std::vector<Vmo> handles;
  std::vector<Mapping> maps;
  std::vector<Stored> stored;
  Note note{};
  Vmo handle;
  while (Receive(parent, &note, &handle) == Status::kOk) {
    const uint32_t op = note.value & 0xff;
    const uint32_t arg = note.value >> 8;
    const size_t h = static_cast<size_t>(note.status);
    if ((op == kMap || op == kStore) && h >= handles.size()) return 12;
    Status s = Status::kOk;
    uint32_t value = 0;
    std::vector<char> reply(sizeof(Note));
    switch (op) {
      case kTake:
        if (!handle.is_valid()) return 11;
        value = static_cast<uint32_t>(handles.size());
        handles.push_back(std::move(handle));
        maps.emplace_back();
        break;
      case kMap: {
        uint64_t size = 0;
        s = handles[h].GetSize(&size);
        if (s == Status::kOk) {
          s = Mapping::Create(handles[h], 0, size, kMapRead | kMapWrite, &maps[h]);
        }
        break;
      }
      case kCheck: value = WrongPages(maps, note.offset, stored); break;
      case kStore:
        if (note.offset + kPageSize > maps[h].size()) return 13;
        FillPage(maps[h].data() + note.offset, static_cast<char>(arg));
        stored.push_back(Stored{h, note.offset, static_cast<char>(arg)});
        break;
      case kUsage: {
        const Usage u = Measure(maps);
        reply.resize(sizeof(Note) + sizeof u);
        std::memcpy(reply.data() + sizeof(Note), &u, sizeof u);
        break;
      }
      default: return 14;
    }
    const Note answer{static_cast<int32_t>(s), value, note.offset, reply.size() - sizeof(Note)};
    std::memcpy(reply.data(), &answer, sizeof answer);
    if (parent.Write(reply.data(), static_cast<uint32_t>(reply.size()), nullptr, 0) !=
        Status::kOk) {
      return 15;
    }
  }
  return 0;
}

int RunChild(const char* role, const Channel& parent) {
  if (std::strcmp(role, "memory-holder") == 0) return MemoryHolder(parent);
  return 3;
}

Note Ask(Child& holder, uint32_t op, int32_t status, uint64_t offset = 0, Vmo* vmo = nullptr,
         std::vector<char>* bytes = nullptr) {
  Note answer{-1, 0, 0, 0};
  EXPECT_EQ(Send(holder.channel, Note{status, op, offset, 0}, vmo), Status::kOk);
  std::vector<char> extra;
  EXPECT_EQ(Receive(holder.channel, &answer, nullptr, &extra), Status::kOk);
  if (bytes != nullptr) *bytes = std::move(extra);
  return answer;
}

Usage AskUsage(Child& holder) {
  std::vector<char> bytes;
  Usage u{};
  EXPECT_EQ(Ask(holder, kUsage, 0, 0, nullptr, &bytes).status, 0);
  EXPECT_EQ(bytes.size(), sizeof u);
  if (bytes.size() == sizeof u) std::memcpy(&u, bytes.data(), sizeof u);
  return u;
}

// Every holder checks all its mappings at once (they run in parallel); the pages that
// differ, over all of them. The first check faults in 1 GiB of mappings over the 4
// processes: on a loaded machine (a sanitizer, other tests) it may take longer than the 20 s
// Receive waits for, so the answer is waited for here first, for longer.
uint32_t CheckAll(std::vector<Child>& holders, uint64_t key) {
  for (Child& holder : holders) {
    EXPECT_EQ(Send(holder.channel, Note{0, kCheck, key, 0}), Status::kOk);
  }
  const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  uint32_t wrong = 0;
  for (Child& holder : holders) {
    EXPECT_EQ(holder.channel.Wait(deadline), Status::kOk);
    Note answer{-1, 0, 0, 0};
    EXPECT_EQ(Receive(holder.channel, &answer), Status::kOk);
    EXPECT_EQ(answer.status, 0);
    wrong += answer.value;
  }
  return wrong;
}

// The bytes a VMO's own storage (its memfd, in this process) holds.
uint64_t StorageBytes(const Vmo& vmo) {
  struct stat st {};
  if (::fstat(internal::HandleAccess::Object(vmo)->own_memfd(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }
uint64_t Growth(uint64_t from, uint64_t to) { return to > from ? to - from : 0; }

// Issue 13's memory test, across processes: 16 at-least-on-write children of a 64 MiB
// pager-backed root, 4 in each of 4 holder processes, each mapped there and read in full
// (every byte checked). What holds their bytes, measured where it cannot hide:
// - the owner's memfds: the root's holds the 64 MiB it was supplied, the children's none;
// - each holder's mappings (smaps): all 4 x 64 MiB resident, none of it anonymous (no
//   private copy);
// - the holders' proportional share of memfd pages (Pss_Shmem) adds up to one copy: each root
//   page is mapped 16 times and counts 1/16 in each mapping; 16 copies would be 1 GiB;
// - each holder's anonymous memory (RssAnon) does not grow by a copy (64 MiB).
// Per process and per file, so that other tests running meanwhile change none of it.
// Then each child stores to one page from its holder: its own storage grows by exactly that
// page, the other children, their mappings and the root do not see it, and the holders' share
// grows by those 16 pages.
TEST(CloneProcess, MemoryNearOneCopyAcrossProcesses) {
  constexpr uint64_t kPages = (64ull << 20) / kPageSize;
  constexpr int kHolders = 4;
  constexpr int kChildren = 16;
  constexpr uint64_t kSlack = 1ull << 20;
  UserPager pager;
  auto root = pager.CreateVmo(kPages);
  ASSERT_NE(root, nullptr);
  ASSERT_EQ(pager.SupplyPages(*root, 0, kPages), Status::kOk);
  const uint64_t root_bytes = StorageBytes(root->vmo);
  ASSERT_EQ(root_bytes, P(kPages));

  std::vector<Child> holders;
  for (int h = 0; h < kHolders; ++h) holders.push_back(Spawn("memory-holder"));
  std::vector<Usage> before;
  for (Child& holder : holders) before.push_back(AskUsage(holder));
  std::vector<Vmo> children;  // the owner's handles, for its own checks
  for (int i = 0; i < kChildren; ++i) {
    Vmo child, sent;
    ASSERT_EQ(root->vmo.CreateChild(kVmoChildSnapshotAtLeastOnWrite, 0, P(kPages), &child),
              Status::kOk);
    ASSERT_EQ(child.Duplicate(&sent), Status::kOk);
    const Note taken = Ask(holders[i % kHolders], kTake, 0, 0, &sent);
    ASSERT_EQ(taken.status, 0);
    ASSERT_EQ(taken.value, static_cast<uint32_t>(i / kHolders));
    children.push_back(std::move(child));
  }
  for (int i = 0; i < kChildren; ++i) {
    ASSERT_EQ(Ask(holders[i % kHolders], kMap, i / kHolders).status, 0);
  }
  ASSERT_EQ(CheckAll(holders, root->key), 0u);

  constexpr uint64_t kPerHolder = kChildren / kHolders;
  std::vector<Usage> read;
  uint64_t pss = 0;
  uint64_t anon_growth = 0;  // the most a holder's RssAnon grew
  for (int h = 0; h < kHolders; ++h) {
    read.push_back(AskUsage(holders[h]));
    const Usage& u = read.back();
    EXPECT_EQ(u.covered, kPerHolder * P(kPages)) << "holder " << h;
    EXPECT_EQ(u.rss, kPerHolder * P(kPages)) << "holder " << h;  // all mapped, each read
    EXPECT_EQ(u.anonymous, 0u) << "holder " << h;
    anon_growth = std::max(anon_growth, Growth(before[h].rss_anon, u.rss_anon));
    EXPECT_LT(Growth(before[h].rss_anon, u.rss_anon), 16 * kSlack)
        << "holder " << h << ": RssAnon grew by " << Growth(before[h].rss_anon, u.rss_anon);
    pss += Growth(before[h].pss_shmem, u.pss_shmem);
  }
  // Each process rounds its share down to a kB.
  EXPECT_LE(Distance(pss, P(kPages)), kHolders * 1024u) << "the holders' Pss: " << pss;
  for (const Vmo& child : children) EXPECT_EQ(StorageBytes(child), 0u);
  EXPECT_EQ(StorageBytes(root->vmo), root_bytes);
  EXPECT_FALSE(pager.AnyPacket());

  // One store per child, each to a different page: one page each, in its own storage.
  auto page_of = [](int i) { return 7 + 97 * static_cast<uint64_t>(i); };
  for (int i = 0; i < kChildren; ++i) {
    ASSERT_EQ(
        Ask(holders[i % kHolders], kStore | (('a' + i) << 8), i / kHolders, P(page_of(i))).status,
        0);
    for (int j = 0; j < kChildren; ++j) {
      EXPECT_EQ(StorageBytes(children[j]), j <= i ? P(1) : 0u) << "child " << j;
    }
  }
  // Every mapping shows its own store and the root's bytes everywhere else, the pages the
  // other children stored to included.
  EXPECT_EQ(CheckAll(holders, root->key), 0u);
  for (int i = 0; i < kChildren; ++i) {
    std::vector<char> page(kPageSize);
    ASSERT_EQ(children[i].Read(page.data(), P(page_of(i)), kPageSize), Status::kOk);
    EXPECT_EQ(page, std::vector<char>(kPageSize, static_cast<char>('a' + i)));
    ASSERT_EQ(root->vmo.Read(page.data(), P(page_of(i)), kPageSize), Status::kOk);
    EXPECT_TRUE(UserPager::CheckPattern(root->key, page_of(i), 1, page.data()));
    VmoInfo info{};
    ASSERT_EQ(children[i].GetInfo(&info), Status::kOk);
    EXPECT_EQ(info.committed_bytes, P(1));
  }
  EXPECT_EQ(StorageBytes(root->vmo), root_bytes);
  uint64_t pss_written = 0;
  for (int h = 0; h < kHolders; ++h) {
    const Usage u = AskUsage(holders[h]);
    EXPECT_EQ(u.covered, kPerHolder * P(kPages)) << "holder " << h;
    EXPECT_EQ(u.rss, kPerHolder * P(kPages)) << "holder " << h;
    EXPECT_EQ(u.anonymous, 0u) << "holder " << h;  // the forks are the clones' memfds
    anon_growth = std::max(anon_growth, Growth(before[h].rss_anon, u.rss_anon));
    EXPECT_LT(Growth(before[h].rss_anon, u.rss_anon), 16 * kSlack) << "holder " << h;
    pss_written += Growth(before[h].pss_shmem, u.pss_shmem);
  }
  // Each fork is mapped once (the root's page it replaces is still mapped 15 times and still
  // counts once): 16 pages more, give or take each process's rounding (a share of 1/15 of a
  // page is not a whole number of bytes: the kernel rounds it down, then to a kB).
  EXPECT_LE(Distance(pss_written, pss + P(kChildren)), 2 * kHolders * 1024u)
      << "the holders' Pss: " << pss << " then " << pss_written;
  std::printf(
      "memory: the root's memfd %llu KiB, the children's 0 then 4 KiB each; per holder (4 "
      "mappings) Rss %llu KiB, Anonymous 0, RssAnon +%llu KiB at most; the 4 holders' Pss "
      "%llu KiB (one copy: %llu KiB), after the 16 stores %llu KiB\n",
      static_cast<unsigned long long>(root_bytes >> 10),
      static_cast<unsigned long long>(read[0].rss >> 10),
      static_cast<unsigned long long>(anon_growth >> 10),
      static_cast<unsigned long long>(pss >> 10), static_cast<unsigned long long>(P(kPages) >> 10),
      static_cast<unsigned long long>(pss_written >> 10));
  EXPECT_FALSE(pager.AnyPacket());
  for (Child& holder : holders) {
    holder.channel.Reset();
    EXPECT_EQ(holder.Wait(), 0);
  }
}

}  // namespace
}  // namespace upager

UPAGER_TEST_MAIN(upager::RunChild)
