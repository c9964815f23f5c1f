// PageSource: the overlap rules (4), resolution, early wake (6), failure (7), waits (8) and
// detach/close (9), each checked against the exact Send/Clear/Swap calls of the provider.
#include "upager/page_source.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "recording_provider.h"

namespace upager {
namespace {

using testing::RecordingProvider;
using Calls = std::vector<std::string>;

constexpr uint64_t P(uint64_t pages) { return pages * kPageSize; }
const VmoDebugInfo kInfo{1, "test"};

class PageSourceTest : public ::testing::Test {
 protected:
  std::shared_ptr<RecordingProvider> provider_ = std::make_shared<RecordingProvider>(true);
  std::shared_ptr<PageSource> source_ = std::make_shared<PageSource>(provider_);

  Status Read(PageRequest* req, uint64_t first, uint64_t count) {
    return source_->GetPages(P(first), P(count), req, kInfo);
  }
  Status Dirty(PageRequest* req, uint64_t first, uint64_t count) {
    return source_->RequestDirtyTransition(req, P(first), P(count), kInfo);
  }
};

TEST_F(PageSourceTest, SingleRequestSendSupplyComplete) {
  PageRequest req;
  EXPECT_EQ(Read(&req, 0, 1), Status::kShouldWait);
  EXPECT_EQ(provider_->TakeCallStrings(), (Calls{"send R[0,1)"}));
  source_->OnPagesSupplied(0, P(1));
  EXPECT_EQ(provider_->TakeCallStrings(), (Calls{"clear R[0,1)"}));
  EXPECT_EQ(req.Wait(false), Status::kOk);
  EXPECT_FALSE(req.is_active());
}

}  // namespace
}  // namespace upager
