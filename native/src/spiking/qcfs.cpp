#include "spiking/qcfs.h"

#include "engine/simd.h"
#include "engine/threadpool.h"

namespace fas::spiking {

namespace {

// GCC keeps floor scalar here (vectorising it needs -fno-trapping-math), but the clones still use
// SSE4.1's roundss instead of a libm call. QCFS is cheap next to the linear layers around it.
FAS_SIMD_CLONES void forwardSlice(const float* x, float* y, size_t n, Qcfs q) {
  for (size_t i = 0; i < n; ++i) y[i] = qcfs(x[i], q);
}

FAS_SIMD_CLONES double backwardSlice(const float* x, const float* dy, float* dx, size_t n, Qcfs q) {
  double dlambda = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const QcfsGrad g = qcfsGrad(x[i], q);
    if (dx) dx[i] = dy[i] * g.dx;
    dlambda += double(dy[i]) * double(g.dlambda);
  }
  return dlambda;
}

}  // namespace

void qcfsForward(const float* x, float* y, size_t n, const Qcfs& q, int ith, int nth) {
  const Range r = blockSlice(int64_t(n), 16, ith, nth);
  forwardSlice(x + r.begin, y + r.begin, r.end - r.begin, q);
}

double qcfsBackward(const float* x, const float* dy, float* dx, size_t n, const Qcfs& q, int ith, int nth) {
  const Range r = blockSlice(int64_t(n), 16, ith, nth);
  return backwardSlice(x + r.begin, dy + r.begin, dx ? dx + r.begin : nullptr, r.end - r.begin, q);
}

}  // namespace fas::spiking
