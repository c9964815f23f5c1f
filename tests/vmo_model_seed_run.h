// SeedRun: one seed of vmo_model_test. It drives the library (a UserPager and its VMOs) and
// the reference model (vmo_model.h) through the same random operations and compares them.
#ifndef UPAGER_TESTS_VMO_MODEL_SEED_RUN_H_
#define UPAGER_TESTS_VMO_MODEL_SEED_RUN_H_

#include "vmo_model.h"

namespace upager::testing::vmo_model {

// ---- Counters across seeds, printed at the end ----

struct Counters {
  uint64_t ops = 0, accesses = 0, inline_accesses = 0, threaded = 0, packets = 0;
  uint64_t inflight_actions = 0, early_wakes = 0, failed_accesses = 0, detaches = 0;
  uint64_t completes = 0, uncertain_ends = 0, rejected = 0, reads_checked = 0;
  // Coverage of what small VMOs and short ranges never reach.
  uint64_t long_reads = 0, long_writes = 0;  // longer than a write's batch (256 pages)
  uint64_t partial_dirty_failures = 0;       // OP_DIRTY failing over part of a DIRTY request
  uint64_t shrinks_over_requests = 0;        // cutting into or past an outstanding request
  uint64_t shrinks_through_requests = 0;     // ... leaving part of it inside the VMO
};
inline Counters g_counters;

uint32_t RandomOptions(Rng& rng);

// ---- One seed ----

class SeedRun {
 public:
  SeedRun(uint64_t seed, int ops) : seed_(seed), ops_(ops), rng_(seed) {}

  bool Run();
  const std::string& error() const { return error_; }
  std::string Trace() const {
    std::string out;
    for (const std::string& line : trace_) out += line + "\n";
    return out;
  }

 private:
  bool Fail(const std::string& msg) {
    if (error_.empty()) error_ = Format("op #%d: ", op_index_) + msg;
    return false;
  }
  void Log(const std::string& line) {
    trace_.push_back(prefix_ + line);
    prefix_.clear();
  }

  bool CreateVmo(size_t index, uint64_t pages, uint32_t options);
  bool Step();
  bool DoAccess(const Action& act);
  bool InFlight(TestThread& thread);
  bool DoPagerOp(const Action& act, bool in_flight);
  bool DoQueryRanges(const Action& act);
  bool DoQueryStats(const Action& act);
  bool DoRecreate(const Action& act);
  bool CheckContent();
  bool CheckAll();
  bool ExpectRequestPacket();
  bool ExpectComplete(uint64_t key);
  bool ExpectNoPacket(const char* when);
  Status LibApply(const Action& act);
  std::vector<bool> LibZeroPages(size_t vi);

  Action GenAccess(bool write);
  Action GenPagerOp(bool in_flight);
  Action GenSupply(size_t vi, uint64_t off, uint64_t len);
  Action GenAnswer(bool forced);
  Action GenShrinkOverRequest();
  bool Acceptable(const Action& act);
  bool ChooseInFlight(bool forced, Action* out);
  void GenRange(size_t vi, uint64_t* off, uint64_t* len);
  std::string Describe(const Action& act) const;
  std::string VmoName(size_t vi) const {
    const ModelVmo& v = m_.vmos[vi];
    return Format("v%zu(key %llu%s%s)", vi, static_cast<unsigned long long>(v.key),
                  v.trap ? ",trap" : "", v.resizable ? ",resizable" : "");
  }

  const uint64_t seed_;
  const int ops_;
  Rng rng_;
  UserPager up_;
  std::vector<std::unique_ptr<TestVmo>> tv_;
  Model m_;
  std::vector<std::string> trace_;
  std::string error_;
  std::string prefix_;  // the operation number, for the next trace line
  int op_index_ = -1;
};

}  // namespace upager::testing::vmo_model

#endif  // UPAGER_TESTS_VMO_MODEL_SEED_RUN_H_
