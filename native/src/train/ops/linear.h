// Linear layer y[n, out] = x[n, in] · w^T + b (w stored [out, in], b may be nullptr) and its backward:
//   dx += dy · w      dw += dy^T · x      db += sum over rows of dy
// Backward ops accumulate into every gradient they produce (callers zero them first), so one input
// feeding several layers simply collects its gradient from each. Any gradient may be nullptr.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

// Double-precision references, used for finite differences and as the ground truth of the fast ops.
void linear_forward_ref(const double* x, const double* w, const double* b, double* y, int64_t n, int64_t in,
                        int64_t out);
void linear_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, double* db,
                         int64_t n, int64_t in, int64_t out);

// Fast versions, every product on the engine's blocked GEMM (engine/ops/gemm.h), whatever the number
// of rows (ops::linear switches to dot-product tiles below 32 rows, for decoding). db is summed by
// column ranges, one per thread, so results do not depend on the thread count.
void linear_forward(ThreadPool& pool, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t in,
                    int64_t out);
void linear_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                     int64_t n, int64_t in, int64_t out);

}  // namespace fas::train
