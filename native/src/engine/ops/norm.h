// Row normalisations over the last dimension of x[n, dim]. y may be x (in place).
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

// LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias, var biased; bias may be nullptr.
void layernorm_ref(const float* x, const float* weight, const float* bias, float* y, int64_t n, int64_t dim, float eps);
void layernorm(ThreadPool& pool, const float* x, const float* weight, const float* bias, float* y, int64_t n,
               int64_t dim, float eps);

// RMSNorm (LLaMA): y = x / sqrt(mean(x^2) + eps) * weight.
void rmsnorm_ref(const float* x, const float* weight, float* y, int64_t n, int64_t dim, float eps);
void rmsnorm(ThreadPool& pool, const float* x, const float* weight, float* y, int64_t n, int64_t dim, float eps);

}  // namespace fas::ops
