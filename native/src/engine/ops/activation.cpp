#include "engine/ops/activation.h"

#include <algorithm>
#include <cmath>

#include "engine/simd.h"

namespace fas::ops {

namespace {
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr int64_t kChunk = 4096;  // elements per share: enough work to be worth a thread
}  // namespace

void gelu_new_ref(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v))));
  }
}

void relu_ref(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void silu_mul_ref(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    y[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

namespace {

// 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)), so gelu_new(x) = x / (1 + e^(-2u)): one exp, no cancellation.
template <int N>
struct GeluRange {
  FAS_ALWAYS_INLINE static void run(const float* x, float* y, int64_t i0, int64_t i1) {
    const float c = static_cast<float>(-2.0 * kSqrt2OverPi);
    int64_t i = i0;
    for (; i + N <= i1; i += N) {
      const simd::vec<N> v = simd::load<N>(x + i);
      simd::store<N>(y + i, v / (1.0f + simd::exp<N>(c * (v + 0.044715f * v * v * v))));
    }
    for (; i < i1; ++i) {
      const float v = x[i];
      y[i] = v / (1.0f + std::exp(c * (v + 0.044715f * v * v * v)));
    }
  }
};

template <int N>
struct ReluRange {
  FAS_ALWAYS_INLINE static void run(const float* x, float* y, int64_t i0, int64_t i1) {
    int64_t i = i0;
    for (; i + N <= i1; i += N) simd::store<N>(y + i, simd::max<N>(simd::load<N>(x + i), simd::vec<N>{}));
    for (; i < i1; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  }
};

template <int N>
struct SiluMulRange {
  FAS_ALWAYS_INLINE static void run(const float* gate, const float* up, float* y, int64_t i0, int64_t i1) {
    int64_t i = i0;
    for (; i + N <= i1; i += N) {
      const simd::vec<N> g = simd::load<N>(gate + i);
      simd::store<N>(y + i, g / (1.0f + simd::exp<N>(-g)) * simd::load<N>(up + i));
    }
    for (; i < i1; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  }
};

}  // namespace

void gelu_new(ThreadPool& pool, const float* x, float* y, int64_t n) {
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) { simd::dispatch<GeluRange>(x, y, i0, i1); });
}

void relu(ThreadPool& pool, const float* x, float* y, int64_t n) {
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) { simd::dispatch<ReluRange>(x, y, i0, i1); });
}

void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* y, int64_t n) {
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) { simd::dispatch<SiluMulRange>(gate, up, y, i0, i1); });
}

}  // namespace fas::ops
