// AdamW with bias correction and decoupled weight decay, in torch.optim.AdamW's order of operations:
//   g = grad * gradScale
//   p *= 1 - lr * weightDecay
//   m = beta1 m + (1 - beta1) g           v = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)        t = step, from 1
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

struct AdamWHyper {
  double lr, weightDecay, beta1, beta2, eps;
};

void adamw_update(ThreadPool& pool, float* params, const float* grads, float* m, float* v, int64_t n, float gradScale,
                  const AdamWHyper& hyper, int64_t step);

// Sum of x^2 in double over fixed slices added in order: the same bits for any thread count.
double sum_of_squares(ThreadPool& pool, const float* x, int64_t n);

}  // namespace fas::train
