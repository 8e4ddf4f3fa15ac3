// Linear layer: y[n, out] = x[n, in] · w^T + b, with w stored [out, in] (PyTorch nn.Linear layout)
// and b[out] optional (nullptr). All arrays are dense and row-major; w is F32, F16 or BF16
// (engine/weight_view.h), widened to float as the kernels read it.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"
#include "engine/weight_view.h"

namespace fas::ops {

// Plain reference: one dot product per output, accumulated in double.
void linear_ref(const float* x, WeightView w, const float* b, float* y, int64_t n, int64_t in, int64_t out);

// Fast version. From a few dozen rows (prefill, the head over many positions, T-batched spiking rows)
// the packed GEMM of engine/ops/gemm.h; below (decoding), register tiles of dot products on SIMD
// vectors over blocks of w that stay in L2, which the threads take one at a time.
void linear(ThreadPool& pool, const float* x, WeightView w, const float* b, float* y, int64_t n, int64_t in,
            int64_t out);

}  // namespace fas::ops
