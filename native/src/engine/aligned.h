// Float storage for weights and activations, aligned to a cache line: a 64-byte SIMD load from an
// aligned row never straddles two lines, which would cost the matmul kernel a quarter of its speed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fas {

// Large blocks are mapped straight from the OS and given back on free, so memory freed by one call
// (which may run on any of libuv's threads, each with its own malloc arena) is not kept around.
void* allocateAligned(size_t bytes);
void freeAligned(void* p, size_t bytes);

template <typename T>
struct CacheAligned {
  using value_type = T;

  CacheAligned() = default;
  template <typename U>
  CacheAligned(const CacheAligned<U>&) {}

  T* allocate(size_t n) { return static_cast<T*>(allocateAligned(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { freeAligned(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const CacheAligned<U>&) const {
    return true;
  }
  template <typename U>
  bool operator!=(const CacheAligned<U>&) const {
    return false;
  }
};

using FloatVector = std::vector<float, CacheAligned<float>>;
using ByteVector = std::vector<uint8_t, CacheAligned<uint8_t>>;  // tensors of any dtype

}  // namespace fas
