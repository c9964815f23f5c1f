// FileProvider: a VMO whose content is a file, read on demand.
//
// A mapped fault whose data can be read without blocking (a file in tmpfs, or pages in the
// page cache) is served on the fault-handling thread itself (`fill_faults`): it reads the
// page and its read-ahead and supplies them, with no packet and no other thread involved.
//
// Other READ requests are queued by the loop thread and served by the provider's I/O thread:
// requests pending together are sorted and joined into as few reads as possible, each read
// is extended by the read-ahead policy, and the reads are issued through io_uring (several
// in flight, each supplied as soon as it completes) or, where io_uring is unavailable or
// not wanted, with pread. A read error fails the range with kIo; a read past a file that
// shrank since it was opened supplies zeros there.
//
// With `writable`, stores into the VMO (Vmo::Write or a writable Mapping) make pages dirty,
// and Flush() writes them back: QueryDirtyRanges, WRITEBACK_BEGIN, pwrite, fdatasync,
// WRITEBACK_END. Once Flush returns kOk, what was written before the call is on disk.
// Writes never grow the file: bytes past its size (in the last page) are not written back.
//
//   upager::PagerLoop loop(1);
//   loop.Start();
//   std::unique_ptr<upager::FileProvider> file;
//   upager::FileProvider::Create(&loop, "weights.bin", {}, &file);
//   upager::Mapping map;
//   upager::Mapping::Create(file->vmo(), 0, file->vmo_size(), upager::kMapRead, &map);
//   float first = *reinterpret_cast<const float*>(map.data());   // read from the file now
#ifndef UPAGER_PROVIDERS_FILE_PROVIDER_H_
#define UPAGER_PROVIDERS_FILE_PROVIDER_H_

#include <memory>
#include <string>

#include "upager/providers/provider.h"
#include "upager/providers/read_ahead.h"

namespace upager {

enum class FileIo { kAuto, kIoUring, kPread };

struct FileProviderOptions {
  bool writable = false;  // open read-write; Flush() writes dirty pages back
  ReadAheadOptions read_ahead;
  FileIo io = FileIo::kAuto;     // kAuto: io_uring if the kernel allows, else pread
  uint32_t queue_depth = 32;     // io_uring reads in flight at most
  uint64_t max_io = 256 * 1024;  // the largest single read (a page multiple)
  bool direct = false;           // O_DIRECT: bypass the page cache (reads are aligned)
  // Serve a mapped fault on the fault-handling thread itself when its data can be read
  // without blocking (the file is in tmpfs, or the pages are in the page cache): no READ
  // packet, no hand-off to the loop and I/O threads. Read-ahead applies as usual. Data
  // that must come from the disk still goes through the I/O thread. Ignored with `direct`.
  bool fill_faults = true;
};

class FileProvider : public Provider {
 public:
  // Opens `path` and creates the VMO on `loop` (started). Errors: kNotFound (no such file),
  // kAccessDenied, kWrongType (not a regular file), kInvalidArgs (bad options),
  // kNotSupported (FileIo::kIoUring where io_uring is refused), kIo. `why`, if not null,
  // gets a one-line explanation of a failure.
  static Status Create(PagerLoop* loop, const std::string& path, const FileProviderOptions& options,
                       std::unique_ptr<FileProvider>* out, std::string* why = nullptr);
  // Flushes (if writable), detaches the VMO and stops the I/O thread.
  ~FileProvider() override;

  // Writes dirty pages back to the file and syncs it. kBadState if not writable; kIo if a
  // write or the sync failed (the pages stay dirty and a later Flush retries them).
  Status Flush();

  bool uses_io_uring() const;

  void OnRead(const PagerLoop::Request& request) override;

 private:
  class Io;
  class Filler;
  FileProvider() = default;
  int fd_ = -1;
  FileProviderOptions options_;
  std::unique_ptr<Io> io_;
  std::unique_ptr<Filler> filler_;
  internal::Mutex flush_mutex_;  // one Flush at a time
};

}  // namespace upager

#endif  // UPAGER_PROVIDERS_FILE_PROVIDER_H_
