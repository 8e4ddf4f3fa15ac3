// Cross-entropy of logits[n, vocab] against targets[n]: loss_i = logsumexp(logits_i) - logits_i[target_i]
// for every row with mask[i] != 0 (mask may be nullptr: every row counts). Targets of rows that do
// not count are never read.
// The backward writes (does not accumulate) dlogits_i = scale (softmax(logits_i) - onehot(target_i)) for
// counted rows and 0 for the others: the loss is where the gradient starts.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::train {

// Sum of loss_i over the counted rows.
double cross_entropy_ref(const double* logits, const int32_t* targets, const uint8_t* mask, int64_t n, int64_t vocab);
void cross_entropy_backward_ref(const double* logits, const int32_t* targets, const uint8_t* mask, double scale,
                                double* dlogits, int64_t n, int64_t vocab);

// Fast versions, rows split over threads; the row losses are added in row order. dlogits may be
// logits itself (in place: the logits are not needed once their gradient is known).
double cross_entropy(ThreadPool& pool, const float* logits, const int32_t* targets, const uint8_t* mask, int64_t n,
                     int64_t vocab);
void cross_entropy_backward(ThreadPool& pool, const float* logits, const int32_t* targets, const uint8_t* mask,
                            float scale, float* dlogits, int64_t n, int64_t vocab);

}  // namespace fas::train
