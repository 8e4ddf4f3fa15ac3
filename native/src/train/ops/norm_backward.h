// Backward of the row normalisations over the last dimension of x[n, dim] (forward and its reference:
// engine/ops/norm.h):
//   LayerNorm  y = (x - mean) * r * w + b,   r = 1 / sqrt(var + eps)
//   RMSNorm    y = x * r * w,                r = 1 / sqrt(mean(x^2) + eps)
// The row statistics are recomputed from x rather than kept from the forward pass.
// Gradients accumulate (+=); bias and its gradient may be nullptr.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

void layernorm_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, double* db,
                            int64_t n, int64_t dim, double eps);
void rmsnorm_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, int64_t n,
                          int64_t dim, double eps);

// Fast versions: dx by row ranges, then dw/db by column ranges summing rows in order, so results do
// not depend on the thread count.
void layernorm_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw,
                        float* db, int64_t n, int64_t dim, float eps);
void rmsnorm_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw,
                      int64_t n, int64_t dim, float eps);

}  // namespace fas::train
