#include "engine/aligned.h"

#include <sys/mman.h>

#include <new>

namespace fas {

namespace {
constexpr std::align_val_t kAlign{64};
constexpr size_t kMapBytes = size_t{1} << 20;  // from 1 MiB up: mmap (page aligned)
}  // namespace

void* allocateAligned(size_t bytes) {
  if (bytes < kMapBytes) return ::operator new(bytes, kAlign);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

void freeAligned(void* p, size_t bytes) {
  if (bytes < kMapBytes) {
    ::operator delete(p, kAlign);
  } else {
    munmap(p, bytes);
  }
}

}  // namespace fas
