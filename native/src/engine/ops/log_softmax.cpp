#include "engine/ops/log_softmax.h"

#include "engine/simd.h"

namespace fas::ops {

namespace {

template <int N>
struct LogSumExp {
  FAS_ALWAYS_INLINE static void run(const float* row, int64_t n, float* out) { *out = simd::logSumExp<N>(row, n); }
};

}  // namespace

void target_log_probs_ref(const float* logits, const int32_t* targets, int64_t n, int64_t vocab, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * vocab;
    out[i] = row[targets[i]] - log_sum_exp_ref(row, vocab);
  }
}

float log_sum_exp(const float* row, int64_t n) {
  float out;
  simd::dispatch<LogSumExp>(row, n, &out);
  return out;
}

void target_log_probs(ThreadPool& pool, const float* logits, const int32_t* targets, int64_t n, int64_t vocab,
                      double* out) {
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
      const float* row = logits + i * vocab;
      out[i] = static_cast<double>(row[targets[i]]) - log_sum_exp(row, vocab);
    }
  });
}

}  // namespace fas::ops
