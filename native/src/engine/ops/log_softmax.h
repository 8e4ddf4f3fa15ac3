// The log-softmax of rows of logits: its normaliser log sum_j e^row[j] (training's cross-entropy) and
// the log-probability of one chosen entry per row, the token that follows (evaluation's scores).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::ops {

// The plain reference, in double whatever T: float logits (the engine's tests) or double ones (the
// training graph's double build).
template <class T>
double log_sum_exp_ref(const T* row, int64_t n) {
  double top = -INFINITY, total = 0;
  for (int64_t j = 0; j < n; ++j) top = std::max(top, static_cast<double>(row[j]));
  for (int64_t j = 0; j < n; ++j) total += std::exp(row[j] - top);
  return top + std::log(total);
}

// out[i] = logits_i[targets[i]] - log sum_j e^logits_i[j] for rows i < n of logits [n, vocab].
// Targets must lie in [0, vocab).
void target_log_probs_ref(const float* logits, const int32_t* targets, int64_t n, int64_t vocab, double* out);

// Fast versions: one row on the CPU's vectors (simd.h), rows split over threads.
float log_sum_exp(const float* row, int64_t n);
void target_log_probs(ThreadPool& pool, const float* logits, const int32_t* targets, int64_t n, int64_t vocab,
                      double* out);

}  // namespace fas::ops
