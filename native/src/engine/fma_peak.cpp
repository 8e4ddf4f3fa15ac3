#include "engine/fma_peak.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/simd.h"

namespace fas {

namespace {

// kChains independent chains of x = x * a + b on vectors of N floats: more chains than an FMA's
// latency times the units' throughput (4 to 5 cycles x 2 per cycle), so the units never wait. 12
// accumulators fit AVX2's 16 registers and AVX-512's 32 without spilling.
template <int N>
struct FmaChains {
  static constexpr int kChains = 12;
  FAS_ALWAYS_INLINE static void run(int64_t steps, float* sum, double* flops) {
    using V = simd::vec<N>;
    V acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = simd::splat<N>(0.5f + 0.01f * c);
    const V a = simd::splat<N>(0.999999f), b = simd::splat<N>(1e-6f);
    for (int64_t s = 0; s < steps; ++s) {
      for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
    }
    V total = {};
    for (int c = 0; c < kChains; ++c) total += acc[c];
    *sum = simd::sum<N>(total);
    *flops = 2.0 * N * kChains * double(steps);
  }
};

}  // namespace

double measureFmaPeak(ThreadPool& pool) {
  // About 10 ms a run with AVX2: many short runs, so the best catches a moment when no other
  // process shares the cores (5 runs of 20 ms once read 119 GFLOP/s where the peak is 205).
  constexpr int64_t kSteps = int64_t(4) << 20;
  constexpr int kRuns = 20;
  std::vector<float> sums(pool.size());
  std::vector<double> flops(pool.size());
  double best = 1e300;
  for (int r = 0; r < kRuns; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int ith, int) { simd::dispatch<FmaChains>(kSteps, &sums[ith], &flops[ith]); });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  double total = 0;
  for (size_t t = 0; t < sums.size(); ++t) {
    // The sums are used, so no run can be optimised away: each chain settles near b / (1 - a) = 1.
    if (!std::isfinite(sums[t]) || sums[t] <= 0) throw std::runtime_error("the FMA probe computed a wrong sum");
    total += flops[t];
  }
  return total / best;
}

}  // namespace fas
