#include "train/ops/embedding_backward.h"

#include <algorithm>

#include "engine/simd.h"

namespace fas::train {

void embedding_forward_ref(const double* table, const int32_t* ids, double* out, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < dim; ++k) out[i * dim + k] += table[ids[i] * dim + k];
  }
}

void embedding_backward_ref(const int32_t* ids, const double* dout, double* dtable, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < dim; ++k) dtable[ids[i] * dim + k] += dout[i * dim + k];
  }
}

namespace {

using namespace simd;

FAS_SIMD_CLONES void scatterColumns(const int32_t* ids, const float* dout, float* dtable, int64_t n, int64_t dim,
                                    int64_t k0, int64_t k1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* src = dout + i * dim;
    float* dst = dtable + static_cast<int64_t>(ids[i]) * dim;
    int64_t k = k0;
    for (; k + kLanes <= k1; k += kLanes) store(dst + k, load(dst + k) + load(src + k));
    for (; k < k1; ++k) dst[k] += src[k];
  }
}

}  // namespace

void embedding_backward(ThreadPool& pool, const int32_t* ids, const float* dout, float* dtable, int64_t n,
                        int64_t dim) {
  pool.run([&](int ith, int nth) {
    const Range r = splitRange((dim + kLanes - 1) / kLanes, ith, nth);
    scatterColumns(ids, dout, dtable, n, dim, r.begin * kLanes, std::min(dim, r.end * kLanes));
  });
}

}  // namespace fas::train
