#include "engine/read_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/simd.h"

namespace fas {

namespace {

using namespace simd;

constexpr int64_t kChunk = 4 * kLanes;

// Sum of p[0..n), n a multiple of kChunk: four independent accumulators keep the loads in flight.
FAS_SIMD_CLONES float sumFloats(const float* p, int64_t n) {
  vf a = {}, b = {}, c = {}, d = {};
  for (int64_t i = 0; i < n; i += kChunk) {
    a += load(p + i);
    b += load(p + i + kLanes);
    c += load(p + i + 2 * kLanes);
    d += load(p + i + 3 * kLanes);
  }
  return sum((a + b) + (c + d));
}

}  // namespace

double measureReadBandwidth(ThreadPool& pool) {
  constexpr int64_t kFloats = int64_t(64) << 20;
  constexpr int kSweeps = 5;
  std::vector<float> buffer(kFloats, 1.0f);  // written once, so every page is resident
  std::vector<double> sums(pool.size(), 0.0);
  double best = 1e300;
  for (int r = 0; r < kSweeps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int ith, int nth) {
      const Range slice = blockSlice(kFloats, kChunk, ith, nth);
      sums[ith] += sumFloats(buffer.data() + slice.begin, slice.end - slice.begin);
    });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double total = 0;
  for (const double s : sums) total += s;
  // The sums are used, so no sweep can be optimised away; they also prove every float was read.
  if (std::abs(total / (double(kSweeps) * kFloats) - 1) > 1e-3) {
    throw std::runtime_error("the bandwidth probe summed the wrong values");
  }
  return double(kFloats) * sizeof(float) / best;
}

}  // namespace fas
