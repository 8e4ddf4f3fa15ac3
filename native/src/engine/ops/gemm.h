// The one blocked matrix product of the engine: every prefill and head linear layer
// (ops::linear from a few rows up), the training's linear forward and backward, attention's backward.
//   C[m, n] = init + sum_p A(m, p) B(p, n)
// Operands are read through element strides, so one kernel serves y = x·W^T (B = W read transposed),
// dX = dY·W and dW += dY^T·X (A = dY read transposed):
//   A(m, p) = a[m * aRowStride + p * aColStride]     B(p, n) = b[p * bRowStride + n * bColStride]
//   C(m, n) = c[m * ldc + n]
// Blocked as in BLIS: panels of A and B are packed into contiguous buffers sized for L2 and L1, and a
// register tile as wide as the CPU's vectors allow (6 x 64 with AVX-512, 6 x 16 with AVX2, 6 x 8
// with SSE; simd.h's dispatch) accumulates with one FMA per element and step of p.
// B may be a weight kept in 16 bits (F16, BF16): its panels are widened to float as they are packed.
// Threads own disjoint tiles of C and every element sums its products in the same order, starting
// from its initial value, so the result does not depend on the thread count.
#pragma once
#include <cstdint>

#include "engine/model/dtype.h"
#include "engine/threadpool.h"

namespace fas::ops {

struct GemmA {
  const float* data;
  int64_t rowStride, colStride;
};

struct GemmB {
  const void* data;  // elements of `dtype`
  int64_t rowStride;
  int64_t colStride = 1;  // B(p, n) = data[p * rowStride + n * colStride]
  DType dtype = DType::F32;
};

// C += A · B.
void gemm_accumulate(ThreadPool& pool, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc);

// The same on the calling thread, for ops that already split their work over the pool.
void gemm_accumulate_serial(int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc);

// C = bias + A · B, bias[n] broadcast over the rows (nullptr: zero). C's old contents are never read,
// so a large output (the vocabulary head's logits) is written once.
void gemm_bias(ThreadPool& pool, int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, const float* bias, float* c,
               int64_t ldc);

// Plain reference of C += A · B: one double sum per element.
void gemm_accumulate_ref(int64_t m, int64_t n, int64_t k, GemmA a, GemmB b, float* c, int64_t ldc);

}  // namespace fas::ops
