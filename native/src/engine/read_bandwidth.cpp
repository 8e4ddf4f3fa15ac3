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

constexpr int kStreams = 8;
constexpr int64_t kChunk = kStreams * kLanes;

// Sum of p[0..n), n a multiple of kChunk (so each stream is whole vectors), read as kStreams
// sequential streams at once, one accumulator each. A decode step streams several weight rows at a
// time; one stream per thread measured a quarter less than the decode itself reached.
FAS_SIMD_CLONES float sumFloats(const float* p, int64_t n) {
  const int64_t part = n / kStreams;
  vf acc[kStreams] = {};
  for (int64_t i = 0; i < part; i += kLanes) {
    for (int s = 0; s < kStreams; ++s) acc[s] += load(p + s * part + i);
  }
  vf total = {};
  for (int s = 0; s < kStreams; ++s) total += acc[s];
  return sum(total);
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
