#include "engine/ops/embedding.h"

#include <cstring>

namespace fas::ops {

void embedding(const float* table, const int32_t* ids, float* out, int64_t n, int64_t dim) {
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * dim, table + ids[i] * dim, dim * sizeof(float));
}

void add_position_embedding(const float* table, const int32_t* positions, int64_t offset, float* out, int64_t n,
                            int64_t dim) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = table + (positions[i] + offset) * dim;
    for (int64_t k = 0; k < dim; ++k) out[i * dim + k] += row[k];
  }
}

}  // namespace fas::ops
