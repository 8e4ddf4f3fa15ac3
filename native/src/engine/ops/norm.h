// Row normalisations over the last dimension of x[n, dim]. y may be x (in place).
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

// LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias, var biased; bias may be nullptr.
// The plain reference serves float (the engine's tests) and double (the training graph's double build):
// row statistics in double, results in T.
template <class T>
void layernorm_ref(const T* x, const T* weight, const T* bias, T* y, int64_t n, int64_t dim, double eps) {
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * dim;
    double mean = 0, var = 0;
    for (int64_t k = 0; k < dim; ++k) mean += xi[k];
    mean /= dim;
    for (int64_t k = 0; k < dim; ++k) var += (xi[k] - mean) * (xi[k] - mean);
    const double inv = 1.0 / std::sqrt(var / dim + eps);
    for (int64_t k = 0; k < dim; ++k) {
      y[i * dim + k] = static_cast<T>((xi[k] - mean) * inv * weight[k] + (bias ? double(bias[k]) : 0.0));
    }
  }
}
void layernorm(ThreadPool& pool, const float* x, const float* weight, const float* bias, float* y, int64_t n,
               int64_t dim, float eps);

// RMSNorm (LLaMA): y = x / sqrt(mean(x^2) + eps) * weight.
template <class T>
void rmsnorm_ref(const T* x, const T* weight, T* y, int64_t n, int64_t dim, double eps) {
  for (int64_t i = 0; i < n; ++i) {
    const T* xi = x + i * dim;
    double ss = 0;
    for (int64_t k = 0; k < dim; ++k) ss += static_cast<double>(xi[k]) * xi[k];
    const double inv = 1.0 / std::sqrt(ss / dim + eps);
    for (int64_t k = 0; k < dim; ++k) y[i * dim + k] = static_cast<T>(xi[k] * inv * weight[k]);
  }
}
void rmsnorm(ThreadPool& pool, const float* x, const float* weight, float* y, int64_t n, int64_t dim, float eps);

}  // namespace fas::ops
