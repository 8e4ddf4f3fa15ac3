// Element-wise activations on n floats. y may be x (in place).
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

// GPT-2 "gelu_new", the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void gelu_new_ref(const float* x, float* y, int64_t n);
void gelu_new(ThreadPool& pool, const float* x, float* y, int64_t n);

// max(x, 0) (OPT).
void relu_ref(const float* x, float* y, int64_t n);
void relu(ThreadPool& pool, const float* x, float* y, int64_t n);

// SwiGLU gate (LLaMA): y = silu(gate) * up, silu(g) = g / (1 + e^-g). y may be gate or up.
void silu_mul_ref(const float* gate, const float* up, float* y, int64_t n);
void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* y, int64_t n);

}  // namespace fas::ops
