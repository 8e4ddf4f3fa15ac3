#include "calibrate/compare_logits.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fas::calibrate {

namespace {

// log of sum exp(row), computed stably.
double logSumExp(const float* row, int64_t vocab) {
  const float max = *std::max_element(row, row + vocab);
  double sum = 0.0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - max);
  return max + std::log(sum);
}

// KL(softmax(t) || softmax(s)) of one row, given both rows' logSumExp; with `grad`, also writes
// scale * (softmax(s) - softmax(t)) there (it may be s).
double rowKl(const float* t, const float* s, int64_t vocab, double lt, double ls, float* grad = nullptr,
             float scale = 0.0f) {
  double kl = 0.0;
  for (int64_t v = 0; v < vocab; ++v) {
    const double logP = t[v] - lt, logQ = s[v] - ls;
    const double p = std::exp(logP);
    kl += p * (logP - logQ);
    if (grad) grad[v] = static_cast<float>(scale * (std::exp(logQ) - p));
  }
  return std::max(kl, 0.0);  // rounding can leave a tiny negative
}

}  // namespace

LogitsComparison compareLogits(ThreadPool& pool, const float* teacher, const float* student, const int32_t* targets,
                               int64_t rows, int64_t vocab) {
  std::vector<LogitsComparison> partial(pool.size());
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(rows, ith, nth);
    LogitsComparison& out = partial[ith];
    for (int64_t i = r.begin; i < r.end; ++i) {
      const float* t = teacher + i * vocab;
      const float* s = student + i * vocab;
      const double lt = logSumExp(t, vocab), ls = logSumExp(s, vocab);
      out.teacherNll += lt - t[targets[i]];
      out.studentNll += ls - s[targets[i]];
      out.kl += rowKl(t, s, vocab, lt, ls);
      ++out.tokens;
    }
  });
  LogitsComparison total;
  for (const LogitsComparison& p : partial) total.add(p);
  return total;
}

float klLossScale(KlReduction reduction, int64_t sequences, int64_t seqLen) {
  const int64_t divisor = reduction == KlReduction::BatchMean ? sequences : sequences * seqLen;
  return 1.0f / static_cast<float>(divisor);
}

double klBackward(ThreadPool& pool, const float* teacher, float* student, int64_t rows, int64_t vocab, float scale) {
  std::vector<double> partial(pool.size(), 0.0);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(rows, ith, nth);
    for (int64_t i = r.begin; i < r.end; ++i) {
      const float* t = teacher + i * vocab;
      float* s = student + i * vocab;
      partial[ith] += rowKl(t, s, vocab, logSumExp(t, vocab), logSumExp(s, vocab), s, scale);
    }
  });
  double total = 0.0;
  for (const double p : partial) total += p;
  return total;
}

}  // namespace fas::calibrate
