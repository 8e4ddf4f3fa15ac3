#include "train/optim/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/simd.h"

namespace fas::train {

namespace {

constexpr int64_t kChunk = 16384;  // elements per share

struct AdamWStep {
  float decay;  // 1 - lr * weightDecay
  float beta1, beta2;
  float stepSize;    // lr / (1 - beta1^t)
  float invSqrtBc2;  // 1 / sqrt(1 - beta2^t)
  float eps, gradScale;
};

// Plain loop: the compiler vectorises it in each ISA clone (sqrt is exact and errno-free here).
FAS_SIMD_CLONES void updateRange(float* p, const float* g, float* m, float* v, int64_t i0, int64_t i1, AdamWStep s) {
  for (int64_t i = i0; i < i1; ++i) {
    const float gi = g[i] * s.gradScale;
    m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * gi;
    v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * gi * gi;
    p[i] = p[i] * s.decay - s.stepSize * m[i] / (std::sqrt(v[i]) * s.invSqrtBc2 + s.eps);
  }
}

// Eight independent sums, so the compiler can keep them in one vector register.
FAS_SIMD_CLONES double squaresRange(const float* x, int64_t i0, int64_t i1) {
  double lanes[8] = {};
  int64_t i = i0;
  for (; i + 8 <= i1; i += 8) {
    for (int j = 0; j < 8; ++j) lanes[j] += static_cast<double>(x[i + j]) * x[i + j];
  }
  double total = 0;
  for (; i < i1; ++i) total += static_cast<double>(x[i]) * x[i];
  for (const double l : lanes) total += l;
  return total;
}

}  // namespace

void adamw_update(ThreadPool& pool, float* params, const float* grads, float* m, float* v, int64_t n, float gradScale,
                  const AdamWHyper& h, int64_t step) {
  const double t = static_cast<double>(step);
  const AdamWStep s{static_cast<float>(1.0 - h.lr * h.weightDecay),
                    static_cast<float>(h.beta1),
                    static_cast<float>(h.beta2),
                    static_cast<float>(h.lr / (1.0 - std::pow(h.beta1, t))),
                    static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(h.beta2, t))),
                    static_cast<float>(h.eps),
                    gradScale};
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) { updateRange(params, grads, m, v, i0, i1, s); });
}

double sum_of_squares(ThreadPool& pool, const float* x, int64_t n) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(chunks);
  pool.run([&](int ith, int nth) {
    for (int64_t c = ith; c < chunks; c += nth) partial[c] = squaresRange(x, c * kChunk, std::min(n, (c + 1) * kChunk));
  });
  double total = 0;
  for (const double p : partial) total += p;
  return total;
}

}  // namespace fas::train
