// Backward of the FFN activations (forward: engine/ops/activation.h). Gradients accumulate (+=).
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

// gelu_new(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
void gelu_new_forward_ref(const double* x, double* y, int64_t n);
void gelu_new_backward_ref(const double* x, const double* dy, double* dx, int64_t n);
void gelu_new_backward(ThreadPool& pool, const float* x, const float* dy, float* dx, int64_t n);

// relu(x) = max(x, 0); the derivative at 0 is taken as 0, as PyTorch does.
void relu_forward_ref(const double* x, double* y, int64_t n);
void relu_backward_ref(const double* x, const double* dy, double* dx, int64_t n);
void relu_backward(ThreadPool& pool, const float* x, const float* dy, float* dx, int64_t n);

// y = silu(gate) * up, silu(g) = g sigmoid(g).
void silu_mul_forward_ref(const double* gate, const double* up, double* y, int64_t n);
void silu_mul_backward_ref(const double* gate, const double* up, const double* dy, double* dgate, double* dup,
                           int64_t n);
void silu_mul_backward(ThreadPool& pool, const float* gate, const float* up, const float* dy, float* dgate, float* dup,
                       int64_t n);

}  // namespace fas::train
