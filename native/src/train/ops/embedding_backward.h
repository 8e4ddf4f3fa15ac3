// Embedding lookups out[i] += table[ids[i]] (token ids, or position + offset for learned positions;
// forward: engine/ops/embedding.h) and their backward dtable[ids[i]] += dout[i].
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

void embedding_forward_ref(const double* table, const int32_t* ids, double* out, int64_t n, int64_t dim);
void embedding_backward_ref(const int32_t* ids, const double* dout, double* dtable, int64_t n, int64_t dim);

// Threads own column ranges and add the rows in order, so repeated ids never race and the sums do not
// depend on the thread count.
void embedding_backward(ThreadPool& pool, const int32_t* ids, const float* dout, float* dtable, int64_t n, int64_t dim);

}  // namespace fas::train
