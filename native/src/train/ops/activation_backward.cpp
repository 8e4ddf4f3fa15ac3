#include "train/ops/activation_backward.h"

#include <algorithm>
#include <cmath>

#include "engine/simd.h"

namespace fas::train {

namespace {
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kCubic = 0.044715;
constexpr int64_t kChunk = 4096;  // elements per share: enough work to be worth a thread
}  // namespace

void gelu_new_forward_ref(const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = 0.5 * x[i] * (1.0 + std::tanh(kSqrt2OverPi * (x[i] + kCubic * x[i] * x[i] * x[i])));
  }
}

// d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) du/dx, t = tanh(u), du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
void gelu_new_backward_ref(const double* x, const double* dy, double* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double t = std::tanh(kSqrt2OverPi * (v + kCubic * v * v * v));
    const double du = kSqrt2OverPi * (1.0 + 3.0 * kCubic * v * v);
    dx[i] += dy[i] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du);
  }
}

void relu_forward_ref(const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0 ? x[i] : 0.0;
}

void relu_backward_ref(const double* x, const double* dy, double* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > 0.0 ? dy[i] : 0.0;
}

void silu_mul_forward_ref(const double* gate, const double* up, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
}

// d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g).
void silu_mul_backward_ref(const double* gate, const double* up, const double* dy, double* dgate, double* dup,
                           int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], s = 1.0 / (1.0 + std::exp(-g));
    if (dgate) dgate[i] += dy[i] * up[i] * s * (1.0 + g * (1.0 - s));
    if (dup) dup[i] += dy[i] * g * s;
  }
}

namespace {

using namespace simd;

// The exp-heavy kernels are dispatched (simd.h) on vectors of the CPU's width; as 16-float clones
// the compiler spilled their temporaries with AVX2.

// tanh(u) = 2 / (1 + e^(-2u)) - 1: one exp, exact at the saturated ends.
template <int N>
struct GeluBackwardRange {
  FAS_ALWAYS_INLINE static void run(const float* x, const float* dy, float* dx, int64_t i0, int64_t i1) {
    using V = simd::vec<N>;
    const float c = static_cast<float>(kSqrt2OverPi), c3 = static_cast<float>(3.0 * kCubic * kSqrt2OverPi);
    const float cubic = static_cast<float>(kCubic);
    int64_t i = i0;
    for (; i + N <= i1; i += N) {
      const V v = simd::load<N>(x + i);
      const V t = 2.0f / (1.0f + simd::exp<N>(-2.0f * c * (v + cubic * v * v * v))) - 1.0f;
      const V d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * (c + c3 * v * v);
      simd::store<N>(dx + i, simd::load<N>(dx + i) + simd::load<N>(dy + i) * d);
    }
    for (; i < i1; ++i) {
      const float v = x[i];
      const float t = std::tanh(c * (v + cubic * v * v * v));
      dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * (c + c3 * v * v));
    }
  }
};

FAS_SIMD_CLONES void reluBackwardRange(const float* x, const float* dy, float* dx, int64_t i0, int64_t i1) {
  int64_t i = i0;
  for (; i + kLanes <= i1; i += kLanes) {
    store(dx + i, load(dx + i) + (load(x + i) > 0.0f ? load(dy + i) : vf{}));
  }
  for (; i < i1; ++i) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}

template <int N>
struct SiluMulBackwardRange {
  FAS_ALWAYS_INLINE static void run(const float* gate, const float* up, const float* dy, float* dgate, float* dup,
                                    int64_t i0, int64_t i1) {
    using V = simd::vec<N>;
    int64_t i = i0;
    for (; i + N <= i1; i += N) {
      const V g = simd::load<N>(gate + i), s = 1.0f / (1.0f + simd::exp<N>(-g)), d = simd::load<N>(dy + i);
      if (dgate)
        simd::store<N>(dgate + i, simd::load<N>(dgate + i) + d * simd::load<N>(up + i) * s * (1.0f + g * (1.0f - s)));
      if (dup) simd::store<N>(dup + i, simd::load<N>(dup + i) + d * g * s);
    }
    for (; i < i1; ++i) {
      const float g = gate[i], s = 1.0f / (1.0f + std::exp(-g));
      if (dgate) dgate[i] += dy[i] * up[i] * s * (1.0f + g * (1.0f - s));
      if (dup) dup[i] += dy[i] * g * s;
    }
  }
};

}  // namespace

void gelu_new_backward(ThreadPool& pool, const float* x, const float* dy, float* dx, int64_t n) {
  parallelBlocks(pool, n, kChunk,
                 [&](int64_t i0, int64_t i1) { simd::dispatch<GeluBackwardRange>(x, dy, dx, i0, i1); });
}

void relu_backward(ThreadPool& pool, const float* x, const float* dy, float* dx, int64_t n) {
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) { reluBackwardRange(x, dy, dx, i0, i1); });
}

void silu_mul_backward(ThreadPool& pool, const float* gate, const float* up, const float* dy, float* dgate, float* dup,
                       int64_t n) {
  parallelBlocks(pool, n, kChunk, [&](int64_t i0, int64_t i1) {
    simd::dispatch<SiluMulBackwardRange>(gate, up, dy, dgate, dup, i0, i1);
  });
}

}  // namespace fas::train
