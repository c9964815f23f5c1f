// A consumer of the installed upager::providers: serves its own executable through a
// FileProvider and reads its first bytes back (the ELF magic).
#include <upager/pager_loop.h>
#include <upager/providers/file_provider.h>

#include <cstdio>
#include <memory>

int main(int argc, char** argv) {
  (void)argc;
  upager::PagerLoop loop(1);
  if (loop.Start() != upager::Status::kOk) return 1;
  std::unique_ptr<upager::FileProvider> file;
  std::string why;
  if (upager::FileProvider::Create(&loop, argv[0], {}, &file, &why) != upager::Status::kOk) {
    std::fprintf(stderr, "provider_consumer: %s\n", why.c_str());
    return 1;
  }
  char magic[4] = {};
  if (file->vmo().Read(magic, 0, sizeof(magic)) != upager::Status::kOk) return 1;
  const bool elf = magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
  std::printf("provider_consumer: %s\n", elf ? "ok" : "unexpected content");
  return elf ? 0 : 1;
}
