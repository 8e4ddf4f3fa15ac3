#include "engine/ops/embedding.h"

#include <vector>

#include "engine/ops/widen.h"

namespace fas::ops {

void embedding(WeightView table, const int32_t* ids, float* out, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) widen(table, int64_t(ids[i]) * dim, dim, out + i * dim);
}

void add_position_embedding(WeightView table, const int32_t* positions, int64_t offset, float* out, int64_t n,
                            int64_t dim) {
  std::vector<float> widened(table.dtype == DType::F32 ? 0 : dim);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t first = (positions[i] + offset) * dim;
    const float* row = table.dtype == DType::F32 ? table.f32() + first : widened.data();
    if (table.dtype != DType::F32) widen(table, first, dim, widened.data());
    for (int64_t k = 0; k < dim; ++k) out[i * dim + k] += row[k];
  }
}

}  // namespace fas::ops
