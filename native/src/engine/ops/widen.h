// A run of weights as floats, whatever their dtype: for what reads weights as rows of floats rather
// than through a matrix kernel (embedding lookups, the spiking site's transposed copy, training's
// F32 master weights).
#pragma once
#include <cstdint>

#include "engine/weight_view.h"

namespace fas::ops {

// out[i] = w[first + i] as a float for i < n, on the calling thread (an F32 view is copied).
void widen(WeightView w, int64_t first, int64_t n, float* out);

// Plain reference: one element at a time through dtype.h's conversions.
void widen_ref(WeightView w, int64_t first, int64_t n, float* out);

}  // namespace fas::ops
