#include "train/ops/rope_ref.h"

#include <cmath>

namespace fas::train {

void rope_ref(double* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta) {
  const int64_t half = headDim / 2;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t h = 0; h < heads; ++h) {
      double* v = x + (r * heads + h) * headDim;
      for (int64_t i = 0; i < half; ++i) {
        const double angle = positions[r] * std::pow(theta, -2.0 * i / headDim);
        const double a = v[i], b = v[i + half];
        v[i] = a * std::cos(angle) - b * std::sin(angle);
        v[i + half] = b * std::cos(angle) + a * std::sin(angle);
      }
    }
  }
}

}  // namespace fas::train
