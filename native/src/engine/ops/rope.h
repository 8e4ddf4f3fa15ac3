// Rotary position embedding, Hugging Face "rotate half" convention (LLaMA, Qwen2, Mistral...).
// Within each head of x[n, heads, headDim], element i pairs with i + headDim/2 and turns by the angle
// position * theta^(-2i / headDim):
//   x[i]        <- x[i] cos - x[i + d/2] sin
//   x[i + d/2]  <- x[i + d/2] cos + x[i] sin
// positions[n] gives each row's position. In place; headDim must be even.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

void rope_ref(float* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta);

// Same, with each row's sines and cosines computed once for all its heads, rows split over threads.
void rope(ThreadPool& pool, float* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim,
          double theta);

}  // namespace fas::ops
