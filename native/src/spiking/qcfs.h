// QCFS, the quantised clipped activation of stage 1 (method section 2):
//   y = lambda * clip(floor(x * L / lambda + 0.5) / L, lo, 1),  lo = 0, or -1 when signed
// Its outputs {lo*lambda, ..., lambda/L, 0, ..., lambda} are what L spike counts reproduce.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace fas::spiking {

struct Qcfs {
  float lambda = 2.0f;      // learnable threshold, > 0
  int L = 8;                // quantisation levels
  bool signedClip = false;  // two-sided [-lambda, lambda] (LLaMA's gated product), else [0, lambda]
};

// Reference for one element; the array ops below apply exactly this (always_inline: so it joins
// the ISA-specific clones of the kernels that use it).
[[gnu::always_inline]] inline float qcfs(float x, const Qcfs& q) {
  const float levels = float(q.L);
  const float k = std::floor(x * levels / q.lambda + 0.5f);
  const float lo = q.signedClip ? -levels : 0.0f;
  return q.lambda * (std::min(std::max(k, lo), levels) / levels);
}

// Local derivatives with the straight-through floor (d floor(z)/dz = 1).
struct QcfsGrad {
  float dx;       // dy/dx: 1 where lo <= x/lambda <= 1, else 0
  float dlambda;  // dy/dlambda: floor(z)/L - x/lambda inside, 1 above, 0 (or -1 signed) below
};

[[gnu::always_inline]] inline QcfsGrad qcfsGrad(float x, const Qcfs& q) {
  const float r = x / q.lambda;
  if (r > 1.0f) return {0.0f, 1.0f};
  if (r < (q.signedClip ? -1.0f : 0.0f)) return {0.0f, q.signedClip ? -1.0f : 0.0f};
  const float levels = float(q.L);
  return {1.0f, std::floor(x * levels / q.lambda + 0.5f) / levels - r};
}

// y[i] = qcfs(x[i]) over this thread's slice of [0, n).
void qcfsForward(const float* x, float* y, size_t n, const Qcfs& q, int ith = 0, int nth = 1);

// Backward over this thread's slice: dx[i] = dy[i] * dy/dx (dx may be null, it is overwritten).
// Returns the slice's dL/dlambda = sum_i dy[i] * dy/dlambda; the caller adds the slices up.
double qcfsBackward(const float* x, const float* dy, float* dx, size_t n, const Qcfs& q, int ith = 0, int nth = 1);

}  // namespace fas::spiking
