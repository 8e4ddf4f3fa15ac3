// Rotary position embedding, Hugging Face "rotate half" convention (LLaMA, Qwen2, Mistral...).
// Within each head of x[n, heads, headDim], element i pairs with i + headDim/2 and turns by the angle
// position * theta^(-2i / headDim):
//   x[i]        <- x[i] cos - x[i + d/2] sin
//   x[i + d/2]  <- x[i + d/2] cos + x[i] sin
// positions[n] gives each row's position. In place; headDim must be even. A rotation's transpose is
// the rotation by the opposite angle, so the backward of rope at positions p is rope at -p (training).
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

// The plain reference, for float (the engine's tests) and double (the training graph's double build).
template <class T>
void rope_ref(T* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta) {
  const int64_t half = headDim / 2;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t h = 0; h < heads; ++h) {
      T* v = x + (r * heads + h) * headDim;
      for (int64_t i = 0; i < half; ++i) {
        const double angle = positions[r] * std::pow(theta, -2.0 * i / headDim);
        const double a = v[i], b = v[i + half];
        v[i] = static_cast<T>(a * std::cos(angle) - b * std::sin(angle));
        v[i + half] = static_cast<T>(b * std::cos(angle) + a * std::sin(angle));
      }
    }
  }
}

// Same, with each row's sines and cosines computed once for all its heads, rows split over threads.
void rope(ThreadPool& pool, float* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim,
          double theta);

}  // namespace fas::ops
