// Embedding lookups. These are row copies and adds, bound by memory, so there is no separate
// reference version: the plain loop is the fast one (a 16-bit table's rows go through ops::widen).
#pragma once
#include <cstdint>

#include "engine/weight_view.h"

namespace fas::ops {

// out[i] = table[ids[i]] for i < n; rows are dim elements. ids must be valid rows (callers check).
void embedding(WeightView table, const int32_t* ids, float* out, int64_t n, int64_t dim);

// Learned positions: out[i] += table[positions[i] + offset].
void add_position_embedding(WeightView table, const int32_t* positions, int64_t offset, float* out, int64_t n,
                            int64_t dim);

}  // namespace fas::ops
