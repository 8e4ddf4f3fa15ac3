#include "train/ops/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/simd.h"

namespace fas::train {

namespace {

double logSumExpRef(const double* row, int64_t vocab) {
  double maxLogit = -INFINITY, total = 0;
  for (int64_t j = 0; j < vocab; ++j) maxLogit = std::max(maxLogit, row[j]);
  for (int64_t j = 0; j < vocab; ++j) total += std::exp(row[j] - maxLogit);
  return maxLogit + std::log(total);
}

}  // namespace

double cross_entropy_ref(const double* logits, const int32_t* targets, const uint8_t* mask, int64_t n, int64_t vocab) {
  double loss = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (mask && !mask[i]) continue;
    const double* row = logits + i * vocab;
    loss += logSumExpRef(row, vocab) - row[targets[i]];
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
    const double lse = logSumExpRef(row, vocab);
    for (int64_t j = 0; j < vocab; ++j) d[j] = scale * std::exp(row[j] - lse);
    d[targets[i]] -= scale;
  }
}

namespace {

using namespace simd;

FAS_SIMD_CLONES float logSumExp(const float* row, int64_t vocab) {
  vf m = splat(-INFINITY);
  int64_t j = 0;
  for (; j + kLanes <= vocab; j += kLanes) m = simd::max(m, load(row + j));
  float maxLogit = maxLane(m);
  for (; j < vocab; ++j) maxLogit = std::max(maxLogit, row[j]);
  vf acc = {};
  for (j = 0; j + kLanes <= vocab; j += kLanes) acc += simd::exp(load(row + j) - maxLogit);
  float total = sum(acc);
  for (; j < vocab; ++j) total += std::exp(row[j] - maxLogit);
  return maxLogit + std::log(total);
}

FAS_SIMD_CLONES void softmaxRow(const float* row, float* d, float lse, float scale, int64_t vocab) {
  int64_t j = 0;
  for (; j + kLanes <= vocab; j += kLanes) store(d + j, scale * simd::exp(load(row + j) - lse));
  for (; j < vocab; ++j) d[j] = scale * std::exp(row[j] - lse);
}

}  // namespace

double cross_entropy(ThreadPool& pool, const float* logits, const int32_t* targets, const uint8_t* mask, int64_t n,
                     int64_t vocab) {
  std::vector<double> rowLoss(n, 0.0);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
      if (mask && !mask[i]) continue;
      const float* row = logits + i * vocab;
      rowLoss[i] = static_cast<double>(logSumExp(row, vocab)) - row[targets[i]];
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
      const float lse = logSumExp(row, vocab);
      softmaxRow(row, d, lse, scale, vocab);
      d[targets[i]] -= scale;
    }
  });
}

}  // namespace fas::train
