// Thread ith's share of [0, n) in whole blocks (SIMD chunks, weight panels), following the
// (ith, nth) convention of engine/threadpool.h.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::spiking {

inline Range blockSlice(int64_t n, int64_t block, int ith, int nth) {
  const Range b = splitRange((n + block - 1) / block, ith, nth);
  return {std::min(n, b.begin * block), std::min(n, b.end * block)};
}

}  // namespace fas::spiking
