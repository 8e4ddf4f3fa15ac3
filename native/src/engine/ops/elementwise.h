// Element-wise arithmetic. Bound by memory, so the plain loop is the fast version.
#pragma once
#include <cstdint>

namespace fas::ops {

// y += x (residual connections).
inline void add_inplace(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace fas::ops
