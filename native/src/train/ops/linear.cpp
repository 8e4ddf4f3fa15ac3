#include "train/ops/linear.h"

#include <algorithm>

#include "engine/ops/gemm.h"
#include "engine/simd.h"

namespace fas::train {

void linear_forward_ref(const double* x, const double* w, const double* b, double* y, int64_t n, int64_t in,
                        int64_t out) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < out; ++j) {
      double s = b ? b[j] : 0.0;
      for (int64_t k = 0; k < in; ++k) s += x[i * in + k] * w[j * in + k];
      y[i * out + j] = s;
    }
  }
}

void linear_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, double* db,
                         int64_t n, int64_t in, int64_t out) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < out; ++j) {
      const double g = dy[i * out + j];
      for (int64_t k = 0; k < in; ++k) {
        if (dx) dx[i * in + k] += g * w[j * in + k];
        if (dw) dw[j * in + k] += g * x[i * in + k];
      }
      if (db) db[j] += g;
    }
  }
}

namespace {

using namespace simd;

// db[j0..j1) += column sums of dy over all n rows, rows in order.
FAS_SIMD_CLONES void columnSums(const float* dy, float* db, int64_t n, int64_t out, int64_t j0, int64_t j1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = dy + i * out;
    int64_t j = j0;
    for (; j + kLanes <= j1; j += kLanes) store(db + j, load(db + j) + load(row + j));
    for (; j < j1; ++j) db[j] += row[j];
  }
}

}  // namespace

void linear_forward(ThreadPool& pool, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t in,
                    int64_t out) {
  // B(p, j) = w[j][p]: the weight read transposed.
  ops::gemm_bias(pool, n, out, in, ops::GemmA{x, in, 1}, ops::GemmB{w, 1, in}, b, y, out);
}

void linear_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                     int64_t n, int64_t in, int64_t out) {
  if (dx) ops::gemm_accumulate(pool, n, in, out, ops::GemmA{dy, out, 1}, ops::GemmB{w, in}, dx, in);
  if (dw) ops::gemm_accumulate(pool, out, in, n, ops::GemmA{dy, 1, out}, ops::GemmB{x, in}, dw, in);
  if (db) {
    pool.run([&](int ith, int nth) {
      const Range r = splitRange((out + kLanes - 1) / kLanes, ith, nth);
      columnSums(dy, db, n, out, r.begin * kLanes, std::min(out, r.end * kLanes));
    });
  }
}

}  // namespace fas::train
