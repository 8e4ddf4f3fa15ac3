// The matrix product behind every linear backward: C[m, n] += sum_p A(m, p) B(p, n).
//
// Operands are read through element strides, so one kernel serves dX = dY·W (A = dY, B = W) and
// dW += dY^T·X (A = dY read transposed, B = X):
//   A(m, p) = a[m * aRowStride + p * aColStride]     B(p, n) = b[p * bRowStride + n * bColStride]
//   C(m, n) = c[m * ldc + n]
// Blocked as in BLIS: panels of A and B are packed into contiguous buffers sized for L2 and L1, and a
// register tile as wide as the CPU's vectors allow (6 x 64 with AVX-512, 6 x 16 with AVX2, 6 x 8
// with SSE; simd.h's dispatch) accumulates with one FMA per element and step of p.
// Threads own disjoint tiles of C and every element sums its products in the same order, so the
// result does not depend on the thread count.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

struct GemmA {
  const float* data;
  int64_t rowStride, colStride;
};

struct GemmB {
  const float* data;
  int64_t rowStride;
  int64_t colStride = 1;  // B(p, n) = data[p * rowStride + n * colStride]
};

void gemm_accumulate(ThreadPool& pool, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc);

// The same on the calling thread, for ops that already split their work over the pool.
void gemm_accumulate_serial(int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc);

}  // namespace fas::train
