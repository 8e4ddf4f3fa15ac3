// Rotary embedding in double, same convention as engine/ops/rope.h (rotate half, in place).
// A rotation's transpose is the rotation by the opposite angle, so the backward of rope at positions p
// is rope at positions -p applied in place to the gradient: the model runs the engine's fast rope on
// negated positions for it, and this reference the same way.
#pragma once
#include <cstdint>

namespace fas::train {

void rope_ref(double* x, const int32_t* positions, int64_t n, int64_t heads, int64_t headDim, double theta);

}  // namespace fas::train
