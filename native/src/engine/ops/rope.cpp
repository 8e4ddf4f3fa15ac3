#include "engine/ops/rope.h"

#include <cmath>
#include <vector>

namespace fas::ops {

// Angles in double: at position p the angle is p * freq, and float would lose ~p ulps of it.
void rope(ThreadPool& pool, float* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim,
          double theta) {
  const int64_t half = headDim / 2;
  std::vector<double> freq(half);
  for (int64_t i = 0; i < half; ++i) freq[i] = std::pow(theta, -2.0 * i / headDim);
  pool.run([&](int ith, int nth) {
    std::vector<float> cosv(half), sinv(half);
    const Range rows = splitRange(n, ith, nth);
    for (int64_t r = rows.begin; r < rows.end; ++r) {
      for (int64_t i = 0; i < half; ++i) {
        const double angle = positions[r] * freq[i];
        cosv[i] = static_cast<float>(std::cos(angle));
        sinv[i] = static_cast<float>(std::sin(angle));
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (r * heads + h) * headDim;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], b = v[i + half];
          v[i] = a * cosv[i] - b * sinv[i];
          v[i + half] = b * cosv[i] + a * sinv[i];
        }
      }
    }
  });
}

}  // namespace fas::ops
