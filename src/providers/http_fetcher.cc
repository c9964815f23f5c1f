#include "providers/http_fetcher.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "providers/http_parse.h"
#include "providers/http_probe.h"

namespace upager {

using internal::http::ContentRange;
using internal::http::EndpointHeaders;
using internal::http::HeaderValue;
using internal::http::ParseContentRange;
using internal::http::SetCommonOptions;
using internal::http::StatusLineCode;

HttpProvider::Fetcher::~Fetcher() {
  // The owner has detached the VMO: no OnRead runs now, and no Push will come.
  queue_.Close();  // wakes the thread through the notifier
  if (thread_.joinable()) thread_.join();
  for (Slot& slot : slots_) {
    if (slot.busy && multi_ != nullptr) curl_multi_remove_handle(multi_, slot.easy);
    if (slot.easy != nullptr) curl_easy_cleanup(slot.easy);
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(resolve_);
}

Status HttpProvider::Fetcher::Open(std::string* why) {
  // The condition every range is asked on: the version seen at creation. If-Match compares
  // strongly, so a weak ETag can only be checked in the answers; the date then conditions.
  std::string condition;
  if (!etag_.empty() && !internal::http::IsWeakEtag(etag_)) {
    condition = "If-Match: " + etag_;
  } else if (!last_modified_.empty()) {
    condition = "If-Unmodified-Since: " + last_modified_;
  }
  resolve_ = internal::http::ResolveList(options_);
  headers_ = EndpointHeaders(endpoint_, condition.empty() ? nullptr : condition.c_str(), nullptr);
  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    *why = "curl_multi_init failed";
    return Status::kNoMemory;
  }
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(options_.max_in_flight));
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_in_flight));
  slots_.resize(options_.max_in_flight);
  free_slots_.reserve(slots_.size());
  backlog_.reserve(64);
  retries_.reserve(slots_.size());
  for (Slot& slot : slots_) {
    slot.fetcher = this;
    slot.easy = curl_easy_init();
    if (slot.easy == nullptr) {
      *why = "curl_easy_init failed";
      return Status::kNoMemory;
    }
    slot.buffer = std::make_unique_for_overwrite<std::byte[]>(options_.max_request);
    SetCommonOptions(slot.easy, endpoint_, options_, resolve_, slot.error);
    curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
    curl_easy_setopt(slot.easy, CURLOPT_HEADERFUNCTION, &Fetcher::OnHeader);
    curl_easy_setopt(slot.easy, CURLOPT_HEADERDATA, &slot);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &Fetcher::OnBody);
    curl_easy_setopt(slot.easy, CURLOPT_WRITEDATA, &slot);
    free_slots_.push_back(&slot);
  }
  CURLM* multi = multi_;
  queue_.SetNotifier([multi] { curl_multi_wakeup(multi); });
  return Status::kOk;
}

void HttpProvider::Fetcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

size_t HttpProvider::Fetcher::OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* slot = static_cast<Slot*>(user);
  const std::string_view line(data, size * count);
  if (const long code = StatusLineCode(line); code != 0) {
    slot->status = code;
    slot->bad_range = false;
    slot->changed = false;
    slot->seen[0] = '\0';
    return size * count;
  }
  std::string_view value;
  const bool etag = HeaderValue(line, "etag", &value);
  if (etag || HeaderValue(line, "last-modified", &value)) {
    if ((slot->status == 206 || slot->status == 412) && slot->fetcher->OtherVersion(etag, value)) {
      slot->changed = true;
      const size_t n = std::min(value.size(), sizeof(slot->seen) - 1);
      std::memcpy(slot->seen, value.data(), n);
      slot->seen[n] = '\0';
    }
    return size * count;
  }
  ContentRange range;
  if (ParseContentRange(line, &range) && slot->status == 206) {
    const uint64_t last = slot->job.offset + slot->expected - 1;
    const uint64_t content = slot->fetcher->owner_->content_size();
    if (!range.has_range || range.first != slot->job.offset || range.last != last ||
        (range.has_total && range.total != content)) {
      slot->bad_range = true;  // another range, or the object changed size
    }
  }
  return size * count;
}

size_t HttpProvider::Fetcher::OnBody(char* data, size_t size, size_t count, void* user) {
  auto* slot = static_cast<Slot*>(user);
  const size_t n = size * count;
  // Anything but the 206 we asked for is not worth reading: stop the transfer.
  if (slot->status != 206 || slot->bad_range || slot->changed) return 0;
  if (n > slot->expected - slot->received) {
    slot->overflow = true;
    return 0;
  }
  std::memcpy(slot->buffer.get() + slot->received, data, n);
  slot->received += n;
  return n;
}

void HttpProvider::Fetcher::Run() {
  int running = 0;
  while (!queue_.closed()) {
    for (const internal::ByteRange& range : queue_.TakeMerged()) Plan(range);
    // Retries whose time has come join the backlog.
    const Clock::time_point now = Clock::now();
    for (size_t i = 0; i < retries_.size();) {
      if (retries_[i].due <= now) {
        backlog_.push_back(retries_[i]);
        retries_[i] = retries_.back();
        retries_.pop_back();
      } else {
        ++i;
      }
    }
    StartBacklog();
    curl_multi_perform(multi_, &running);
    Reap();
    curl_multi_poll(multi_, nullptr, 0, PollTimeoutMs(), nullptr);
  }
}

int HttpProvider::Fetcher::PollTimeoutMs() const {
  // Work that can start now: go round at once.
  if (backlog_head_ < backlog_.size() && !free_slots_.empty()) return 0;
  int64_t timeout = 1000;  // libcurl shortens this for its own timers
  const Clock::time_point now = Clock::now();
  for (const Job& job : retries_) {
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(job.due - now).count();
    timeout = std::min<int64_t>(timeout, std::max<int64_t>(wait, 0));
  }
  return static_cast<int>(timeout);
}

void HttpProvider::Fetcher::Plan(const internal::ByteRange& range) {
  const uint64_t limit = owner_->vmo_size();
  if (range.offset >= limit) return;
  const uint64_t request_end = range.offset + std::min(range.length, limit - range.offset);
  const ReadAheadRange plan = read_ahead_.Plan(range.offset, request_end - range.offset, limit,
                                               owner_->AbsentRun(range.offset, 0, limit));
  const auto add = [this](uint64_t offset, uint64_t length) {
    Job job;
    job.offset = offset;
    job.length = length;
    if (offset >= owner_->content_size()) {
      SupplyZeros(job);  // all past the content: nothing to fetch
    } else {
      backlog_.push_back(job);
    }
  };
  // Fetches of absent pages not in flight only: in the requested part, present or
  // in-flight pages are stepped over; in the read-ahead the first one ends it.
  for (uint64_t offset = range.offset; offset < plan.end();) {
    const ReadAheadGap run = owner_->AbsentRun(offset, offset, plan.end());
    const uint64_t want = std::min<uint64_t>(options_.max_request, run.high - offset);
    const uint64_t got = want == 0 ? 0 : queue_.StartFlight(offset, want);
    if (got == 0) {
      if (offset >= request_end) break;
      offset += kPageSize;
      continue;
    }
    add(offset, got);
    offset += got;
  }
  // Read-ahead or read-around below the request, down from it, nearest first; it stops at
  // the first page present or in flight.
  for (uint64_t top = range.offset; top > plan.offset;) {
    const ReadAheadGap run = owner_->AbsentRun(top - kPageSize, plan.offset, top);
    if (run.high <= run.low) break;  // present
    const uint64_t want = std::min<uint64_t>(options_.max_request, top - run.low);
    const uint64_t got = queue_.StartFlight(top - want, want);
    if (got > 0) add(top - want, got);
    if (got != want) break;
    top -= want;
  }
}

void HttpProvider::Fetcher::SupplyZeros(const Job& job) {
  queue_.EndFlight(job.offset, job.length);
  // A page-multiple buffer of zeros; rare (only a VMO whose content is empty could ask).
  std::vector<std::byte> zeros(job.length);
  owner_->Supply(job.offset, job.length, zeros.data());
}

void HttpProvider::Fetcher::StartBacklog() {
  while (backlog_head_ < backlog_.size() && !free_slots_.empty()) {
    Slot* slot = free_slots_.back();
    free_slots_.pop_back();
    StartTransfer(slot, backlog_[backlog_head_++]);
  }
  if (backlog_head_ == backlog_.size()) {
    backlog_.clear();  // keeps its capacity
    backlog_head_ = 0;
  }
}

bool HttpProvider::Fetcher::OtherVersion(bool etag, std::string_view value) const {
  // Weak comparison: the same tag with or without W/ is the same version.
  const auto opaque = [](std::string_view tag) {
    return internal::http::IsWeakEtag(tag) ? tag.substr(2) : tag;
  };
  if (etag) return !etag_.empty() && opaque(value) != opaque(etag_);
  // A date is compared only where there is no ETag to compare.
  return etag_.empty() && !last_modified_.empty() && value != last_modified_;
}

void HttpProvider::Fetcher::StartTransfer(Slot* slot, const Job& job) {
  if (changed_) {  // no fetch can give the version this VMO holds
    free_slots_.push_back(slot);
    FailJob(job, Status::kIoDataIntegrity, /*permanent=*/true);
    return;
  }
  slot->job = job;
  slot->expected = std::min(job.offset + job.length, owner_->content_size()) - job.offset;
  slot->received = 0;
  slot->status = 0;
  slot->overflow = false;
  slot->bad_range = false;
  slot->changed = false;
  slot->seen[0] = '\0';
  slot->error[0] = '\0';
  std::snprintf(slot->range, sizeof(slot->range), "%" PRIu64 "-%" PRIu64, job.offset,
                job.offset + slot->expected - 1);
  curl_easy_setopt(slot->easy, CURLOPT_RANGE, slot->range);
  if (job.attempt == 0) owner_->reads_.fetch_add(1, std::memory_order_relaxed);
  slot->busy = true;
  if (curl_multi_add_handle(multi_, slot->easy) != CURLM_OK) {
    slot->busy = false;
    Complete(slot, CURLE_FAILED_INIT, 0);
  }
}

void HttpProvider::Fetcher::Reap() {
  CURLMsg* msg = nullptr;
  int left = 0;
  while ((msg = curl_multi_info_read(multi_, &left)) != nullptr) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;  // msg dies with the removal below
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(multi_, easy);
    Slot* slot = reinterpret_cast<Slot*>(priv);
    slot->busy = false;
    Complete(slot, result, code);
  }
}

HttpProvider::Fetcher::Outcome HttpProvider::Fetcher::Classify(const Slot& slot, CURLcode result,
                                                               long code) const {
  // 412: the condition (the version seen at creation) no longer holds.
  if (code == 412 || (code == 206 && slot.changed)) return Outcome::kChanged;
  if (code == 206) {
    if (slot.overflow || slot.bad_range) return Outcome::kFail;  // a broken server
    if (result == CURLE_OK && slot.received == slot.expected) return Outcome::kDone;
    return Outcome::kRetry;  // cut short: connection reset, timeout, short body
  }
  // Transient refusals: overload, or a server restarting behind a proxy.
  if (code >= 500 || code == 408 || code == 429) return Outcome::kRetry;
  // 200 (ranges ignored), 416 (the object shrank), 3xx, 4xx: retrying cannot help.
  if (code != 0) return Outcome::kFail;
  // No response at all.
  switch (result) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_FAILED_INIT: return Outcome::kFail;
    default: return Outcome::kRetry;
  }
}

void HttpProvider::Fetcher::Complete(Slot* slot, CURLcode result, long code) {
  Job job = slot->job;
  Outcome outcome = Classify(*slot, result, code);
  if (outcome == Outcome::kRetry && job.attempt >= options_.retries) outcome = Outcome::kFail;
  switch (outcome) {
    case Outcome::kDone: {
      owner_->bytes_read_.fetch_add(slot->received, std::memory_order_relaxed);
      // EndFlight before the supply (see request_queue.h).
      queue_.EndFlight(job.offset, job.length);
      std::memset(slot->buffer.get() + slot->received, 0, job.length - slot->received);
      owner_->Supply(job.offset, job.length, slot->buffer.get());
      break;
    }
    case Outcome::kRetry: {
      const uint32_t shift = std::min<uint32_t>(job.attempt, 20);
      job.due = Clock::now() +
                std::chrono::milliseconds(static_cast<uint64_t>(options_.backoff_ms) << shift);
      ++job.attempt;
      owner_->retries_.fetch_add(1, std::memory_order_relaxed);
      retries_.push_back(job);
      break;
    }
    case Outcome::kFail:
      Explain(*slot, outcome, result, code);
      FailJob(job, Status::kIo, /*permanent=*/code != 0 && code != 206 && code < 500);
      break;
    case Outcome::kChanged:
      if (!changed_) {  // said once; every range from now on fails the same way
        changed_ = true;
        Explain(*slot, outcome, result, code);
      }
      FailJob(job, Status::kIoDataIntegrity, /*permanent=*/true);
      break;
  }
  free_slots_.push_back(slot);
}

void HttpProvider::Fetcher::FailJob(const Job& job, Status error, bool permanent) {
  queue_.EndFlight(job.offset, job.length);
  if (message_[0] != '\0') owner_->SetError(message_, permanent);
  message_[0] = '\0';
  owner_->Fail(job.offset, job.length, error);
}

void HttpProvider::Fetcher::Explain(const Slot& slot, Outcome outcome, CURLcode result, long code) {
  const char* name = endpoint_.Describe().c_str();
  char* out = message_;
  const size_t size = sizeof(message_);
  const uint64_t first = slot.job.offset;
  const uint64_t last = slot.job.offset + slot.expected - 1;
  if (outcome == Outcome::kChanged) {
    const std::string& pinned = etag_.empty() ? last_modified_ : etag_;
    const char* what = etag_.empty() ? "Last-Modified" : "ETag";
    if (slot.seen[0] != '\0') {
      std::snprintf(out, size,
                    "%s changed since it was opened (%s %s then, %s now): no bytes of "
                    "another version are served",
                    name, what, pinned.c_str(), slot.seen);
    } else {
      std::snprintf(out, size,
                    "%s changed since it was opened (HTTP %ld to If-Match/"
                    "If-Unmodified-Since %s): no bytes of another version are served",
                    name, code, pinned.c_str());
    }
  } else if (code == 200) {
    std::snprintf(out, size,
                  "%s: the server ignored the Range header (HTTP 200 with the whole "
                  "object for bytes=%" PRIu64 "-%" PRIu64 ")",
                  name, first, last);
  } else if (code == 206 && slot.bad_range) {
    std::snprintf(out, size,
                  "%s: the server answered bytes=%" PRIu64 "-%" PRIu64
                  " with a Content-Range of another range or another object size (the object "
                  "changed size?)",
                  name, first, last);
  } else if (code == 206 && slot.overflow) {
    std::snprintf(out, size, "%s: the server sent more than bytes=%" PRIu64 "-%" PRIu64, name,
                  first, last);
  } else if (code == 416) {
    std::snprintf(out, size,
                  "%s: HTTP 416 for bytes=%" PRIu64 "-%" PRIu64
                  ": the object is shorter than when it was opened",
                  name, first, last);
  } else if (code != 0 && code != 206) {
    std::snprintf(out, size, "%s: HTTP %ld for bytes=%" PRIu64 "-%" PRIu64 " (after %u retries)",
                  name, code, first, last, slot.job.attempt);
  } else {
    const char* text = slot.error[0] != '\0' ? slot.error : curl_easy_strerror(result);
    if (code == 206 && result == CURLE_OK) text = "short body";
    std::snprintf(out, size, "%s: bytes=%" PRIu64 "-%" PRIu64 " failed after %u retries: %s", name,
                  first, last, slot.job.attempt, text);
  }
}

}  // namespace upager
