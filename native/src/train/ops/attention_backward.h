// Causal grouped-query attention over whole sequences (forward: engine/ops/attention.h with past = 0)
// and its backward. Layouts: q, out [batch, seqLen, numHeads, headDim]; k, v [batch, seqLen,
// numKvHeads, headDim]. Query head h reads key/value head h / (numHeads / numKvHeads).
// With p = softmax(q k^T / sqrt(headDim)) over keys j <= i:
//   dv_j += sum_i p_ij dout_i          dp_ij = dout_i . v_j
//   ds_ij = p_ij (dp_ij - sum_j' p_ij' dp_ij')
//   dq_i += scale sum_j ds_ij k_j      dk_j += scale sum_i ds_ij q_i
// Gradients accumulate (+=).
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

struct AttentionDims {
  int64_t batch, seqLen, numHeads, numKvHeads, headDim;
};

void attention_forward_ref(const AttentionDims& d, const double* q, const double* k, const double* v, double* out);
void attention_backward_ref(const AttentionDims& d, const double* q, const double* k, const double* v,
                            const double* dout, double* dq, double* dk, double* dv);

// Fast version: recomputes the probabilities instead of keeping them from the forward pass (the scores
// cost a few percent of the layer, keeping them would cost batch*heads*seqLen^2 floats), block by block
// of queries on the GEMM. Threads take (sequence, key/value head) pairs, so every dk, dv sum runs in
// one fixed order.
void attention_backward(ThreadPool& pool, const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* dout, float* dq, float* dk, float* dv);

}  // namespace fas::train
