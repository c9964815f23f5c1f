#include "upager/page_request.h"

#include "upager/anonymous_page_requester.h"

namespace upager {

const char* PageRequestTypeString(PageRequestType type) {
  switch (type) {
    case PageRequestType::kRead: return "READ";
    case PageRequestType::kDirty: return "DIRTY";
    case PageRequestType::kWriteback: return "WRITEBACK";
  }
  return "(unknown)";
}

PageRequestInterface::~PageRequestInterface() = default;

PageRequest::PageRequest(bool early_wake, PageRequestCompletion* completion)
    : early_wake_(early_wake), completion_(completion) {}

PageRequest::~PageRequest() { CancelRequest(); }

Status PageRequest::Wait(bool suspendable) {
  if (completion_ != nullptr) {
    return Status::kNotSupported;
  }
  if (src_ == nullptr) {
    return Status::kBadState;
  }
  return src_->WaitOnRequest(this, suspendable);
}

void PageRequest::CancelRequest() {
  // Always go through the source: its lock orders this cancel after any completion that
  // may still be signalling the request.
  if (src_ != nullptr) {
    src_->CancelRequest(this);
  }
}

void PageRequest::Signal(Status status) {
  if (completion_ != nullptr) {
    completion_->OnPageRequestSignaled(this, status);
  } else {
    event_.Signal(status);
  }
}

Status MultiPageRequest::MakeAnonymousActive(AnonymousPageRequester& requester) {
  if (is_page_request_active()) {
    return Status::kBadState;
  }
  return requester.FillRequest(&anonymous_);
}

Status MultiPageRequest::Wait(bool suspendable) {
  if (anonymous_.is_active()) {
    return anonymous_.Wait(suspendable);
  }
  // The page request may already have completed (its signal still pending), so do not
  // require it to be active; PageRequest::Wait tells a never-populated request apart.
  if (page_request_.is_initialized()) {
    return page_request_->Wait(suspendable);
  }
  return Status::kBadState;
}

void MultiPageRequest::CancelRequests() {
  anonymous_.CancelRequest();
  if (page_request_.is_initialized()) {
    page_request_->CancelRequest();
  }
}

}  // namespace upager
