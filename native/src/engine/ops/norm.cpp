#include "engine/ops/norm.h"

#include <cmath>

#include "engine/simd.h"

namespace fas::ops {

namespace {

template <int N>
struct LayerNormRows {
  FAS_ALWAYS_INLINE static void run(const float* x, const float* weight, const float* bias, float* y, int64_t i0,
                                    int64_t i1, int64_t dim, float eps) {
    using V = simd::vec<N>;
    for (int64_t i = i0; i < i1; ++i) {
      const float* xi = x + i * dim;
      float* yi = y + i * dim;
      // Two passes (mean, then squared deviations) keep the variance accurate when |mean| >> std.
      V acc = {};
      int64_t k = 0;
      for (; k + N <= dim; k += N) acc += simd::load<N>(xi + k);
      float s = simd::sum<N>(acc);
      for (; k < dim; ++k) s += xi[k];
      const float mean = s / dim;
      acc = V{};
      for (k = 0; k + N <= dim; k += N) {
        const V d = simd::load<N>(xi + k) - mean;
        acc += d * d;
      }
      float ss = simd::sum<N>(acc);
      for (; k < dim; ++k) ss += (xi[k] - mean) * (xi[k] - mean);
      const float inv = 1.0f / std::sqrt(ss / dim + eps);
      for (k = 0; k + N <= dim; k += N) {
        V v = (simd::load<N>(xi + k) - mean) * inv * simd::load<N>(weight + k);
        if (bias) v += simd::load<N>(bias + k);
        simd::store<N>(yi + k, v);
      }
      for (; k < dim; ++k) yi[k] = (xi[k] - mean) * inv * weight[k] + (bias ? bias[k] : 0.0f);
    }
  }
};

template <int N>
struct RmsNormRows {
  FAS_ALWAYS_INLINE static void run(const float* x, const float* weight, float* y, int64_t i0, int64_t i1, int64_t dim,
                                    float eps) {
    using V = simd::vec<N>;
    for (int64_t i = i0; i < i1; ++i) {
      const float* xi = x + i * dim;
      float* yi = y + i * dim;
      V acc = {};
      int64_t k = 0;
      for (; k + N <= dim; k += N) {
        const V v = simd::load<N>(xi + k);
        acc += v * v;
      }
      float ss = simd::sum<N>(acc);
      for (; k < dim; ++k) ss += xi[k] * xi[k];
      const float inv = 1.0f / std::sqrt(ss / dim + eps);
      for (k = 0; k + N <= dim; k += N) simd::store<N>(yi + k, simd::load<N>(xi + k) * inv * simd::load<N>(weight + k));
      for (; k < dim; ++k) yi[k] = xi[k] * inv * weight[k];
    }
  }
};

}  // namespace

void layernorm(ThreadPool& pool, const float* x, const float* weight, const float* bias, float* y, int64_t n,
               int64_t dim, float eps) {
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    simd::dispatch<LayerNormRows>(x, weight, bias, y, r.begin, r.end, dim, eps);
  });
}

void rmsnorm(ThreadPool& pool, const float* x, const float* weight, float* y, int64_t n, int64_t dim, float eps) {
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    simd::dispatch<RmsNormRows>(x, weight, y, r.begin, r.end, dim, eps);
  });
}

}  // namespace fas::ops
