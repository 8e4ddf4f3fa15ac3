#include "engine/ops/widen.h"

#include "engine/simd.h"

namespace fas::ops {

namespace {

template <int N>
struct Widen {
  FAS_ALWAYS_INLINE static void run(WeightView w, int64_t n, float* out) {
    simd::runAsStored<Widen>(w.dtype, w, n, out);
  }
  template <DType T>
  FAS_ALWAYS_INLINE static void runAs(WeightView w, int64_t n, float* out) {
    simd::widenInto<N, T>(w.as<simd::Stored<T>>(), n, out);
  }
};

}  // namespace

void widen(WeightView w, int64_t first, int64_t n, float* out) { simd::dispatch<Widen>(w.from(first), n, out); }

void widen_ref(WeightView w, int64_t first, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = w.at(first + i);
}

}  // namespace fas::ops
