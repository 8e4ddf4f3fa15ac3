// Causal multi-head attention with grouped-query heads over a key/value cache.
//
// Each of `batch` sequences brings seqLen new queries at positions past .. past+seqLen-1; its cache
// holds keys and values for positions 0 .. past+seqLen-1 (the new ones already written). Query head h
// reads key/value head h / (numHeads / numKvHeads), as Hugging Face's repeat_kv does. Query at
// position p attends to positions 0..p with softmax(q·k / sqrt(headDim)).
//
// Layouts (row-major): q, out [batch, seqLen, numHeads, headDim];
//                      k, v   [batch, kvCapacity, numKvHeads, headDim], kvCapacity >= past + seqLen.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

struct AttentionShape {
  int64_t batch, seqLen, past, kvCapacity, numHeads, numKvHeads, headDim;
};

void attention_ref(const AttentionShape& s, const float* q, const float* k, const float* v, float* out);

// Same; threads share out (sequence, head, block of queries) tasks. A block of several queries (a
// prompt) runs its scores and weighted sums on the GEMM; one query (decoding) streams the keys and
// values once, vectorised along headDim.
void attention(ThreadPool& pool, const AttentionShape& s, const float* q, const float* k, const float* v, float* out);

}  // namespace fas::ops
