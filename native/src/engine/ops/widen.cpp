#include "engine/ops/widen.h"

#include <algorithm>

#include "engine/simd.h"

namespace fas::ops {

namespace {

template <int N>
struct Widen {
  FAS_ALWAYS_INLINE static void run(WeightView w, int64_t n, float* out) {
    switch (w.dtype) {
      case DType::F32: std::copy_n(w.as<float>(), n, out); return;
      case DType::F16: return simd::widenInto<N, DType::F16>(w.as<uint16_t>(), n, out);
      case DType::BF16: return simd::widenInto<N, DType::BF16>(w.as<uint16_t>(), n, out);
    }
  }
};

}  // namespace

void widen(WeightView w, int64_t first, int64_t n, float* out) { simd::dispatch<Widen>(w.from(first), n, out); }

void widen_ref(WeightView w, int64_t first, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = w.at(first + i);
}

}  // namespace fas::ops
