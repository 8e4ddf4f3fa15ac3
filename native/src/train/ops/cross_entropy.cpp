#include "train/ops/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops/log_softmax.h"
#include "engine/simd.h"

namespace fas::train {

double cross_entropy_ref(const double* logits, const int32_t* targets, const uint8_t* mask, int64_t n, int64_t vocab) {
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (mask && !mask[i]) continue;
    const double* row = logits + i * vocab;
    loss += ops::log_sum_exp_ref(row, vocab) - row[targets[i]];
  }
  return loss;
}

void cross_entropy_backward_ref(const double* logits, const int32_t* targets, const uint8_t* mask, double scale,
                                double* dlogits, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i) {
    double* d = dlogits + i * vocab;
    if (mask && !mask[i]) {
      std::fill(d, d + vocab, 0.0);
      continue;
    }
    const double* row = logits + i * vocab;
    const double lse = ops::log_sum_exp_ref(row, vocab);
    for (int64_t j = 0; j < vocab; ++j) d[j] = scale * std::exp(row[j] - lse);
    d[targets[i]] -= scale;
  }
}

namespace {

// The fast kernels are dispatched (simd.h), so each runs on vectors of the CPU's width: as 16-float
// clones they spent 7 % of a GPT-2 training step here with AVX2, spilling exp's temporaries. A row's
// normaliser is ops::log_sum_exp, evaluation's too.

// d[j] = scale * e^(row[j] - lse): the softmax of the row, scaled (d may be row).
template <int N>
struct ScaledSoftmax {
  FAS_ALWAYS_INLINE static void run(const float* row, float* d, float lse, float scale, int64_t vocab) {
    int64_t j = 0;
    for (; j + N <= vocab; j += N) simd::store<N>(d + j, scale * simd::exp<N>(simd::load<N>(row + j) - lse));
    for (; j < vocab; ++j) d[j] = scale * std::exp(row[j] - lse);
  }
};

}  // namespace

double cross_entropy(ThreadPool& pool, const float* logits, const int32_t* targets, const uint8_t* mask, int64_t n,
                     int64_t vocab) {
  std::vector<double> rowLoss(n, 0.0);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
      if (mask && !mask[i]) continue;
      const float* row = logits + i * vocab;
      rowLoss[i] = static_cast<double>(ops::log_sum_exp(row, vocab)) - row[targets[i]];
    }
  });
  double loss = 0;
  for (const double l : rowLoss) loss += l;
  return loss;
}

void cross_entropy_backward(ThreadPool& pool, const float* logits, const int32_t* targets, const uint8_t* mask,
                            float scale, float* dlogits, int64_t n, int64_t vocab) {
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
      float* d = dlogits + i * vocab;
      if (mask && !mask[i]) {
        std::fill(d, d + vocab, 0.0f);
        continue;
      }
      const float* row = logits + i * vocab;
      const float lse = ops::log_sum_exp(row, vocab);
      simd::dispatch<ScaledSoftmax>(row, d, lse, scale, vocab);
      d[targets[i]] -= scale;
    }
  });
}

}  // namespace fas::train
