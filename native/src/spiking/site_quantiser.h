// The quantiser at every input of a matrix product in the fully spike-driven scope (fas-method.md
// section 9), per channel c of a site with thresholds lambda_c > 0 and `levels` levels:
//   count_c = clip(floor(x_c * levels / lambda_c + 0.5), lo, levels),  lo = -levels (signed) or 0
//   y_c     = lambda_c * (count_c / levels)
// With levels = L this is the fine-tuned quantised model (mode qcfs); with levels = T it is the
// spike count of layer-encoded IF neurons (theta = lambda, v0 = lambda / 2, constant input x for T
// timesteps), so y is the time-averaged spike train (mode snn). QCFS (qcfs.h) is the one-channel
// case of the same formula.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/weight_view.h"

namespace fas::spiking {

struct SiteQuantiser {
  const float* lambda = nullptr;  // [width], or [1] when !perChannel
  bool perChannel = true;
  int levels = 8;
  bool signedSite = true;

  float lambdaOf(int64_t channel) const { return lambda[perChannel ? channel : 0]; }
};

[[gnu::always_inline]] inline int32_t siteCount(float x, float lambda, int levels, bool signedSite) {
  // Clipped before the floor, which gives the same count (the bounds are integers), and floored by
  // truncation, exact on the clipped range: unlike std::floor this vectorises, and the quantiser runs
  // at every input of every matrix product.
  const float z =
      std::min(std::max(x * float(levels) / lambda + 0.5f, signedSite ? -float(levels) : 0.0f), float(levels));
  const int32_t t = int32_t(z);
  return t - int32_t(float(t) > z);
}

[[gnu::always_inline]] inline float siteValue(int32_t count, float lambda, int levels) {
  return lambda * (float(count) / float(levels));
}

// What a site's values did: sum of |count|, nonzero counts, and how many values there were.
struct SiteTally {
  double absCount = 0.0;
  int64_t nonzero = 0;
  int64_t values = 0;

  SiteTally& operator+=(const SiteTally& o) {
    absCount += o.absCount;
    nonzero += o.nonzero;
    values += o.values;
    return *this;
  }
};

// x [rows, width] -> its quantised values in place; counts [rows, width] receive the counts;
// rowAbs (optional, [rows]) each row's sum of |count|. Thread ith of nth takes a slice of the rows
// and returns its tally; the caller adds the slices up.
SiteTally quantiseSite(float* x, int32_t* counts, double* rowAbs, int64_t rows, int64_t width, const SiteQuantiser& q,
                       int ith = 0, int nth = 1);

// sums [rows]: each row's sum of |count| over the site's quantised values y [rows, width] (a value is
// lambda_c * count / levels, so its count is read back exactly): the counts of cached values.
void rowAbsCounts(const float* y, int64_t rows, int64_t width, const SiteQuantiser& q, double* sums);

// y [rows, out] = bias + sum over the nonzero counts of row r of (lambda_i * count_i / levels) * W[:, i]
// with W stored [out, in] as the engine keeps it, in its dtype: only the active inputs are read
// (event-driven). Thread ith of nth takes a slice of the outputs.
void countLinearEvent(const int32_t* counts, int64_t rows, int64_t in, const SiteQuantiser& q, WeightView w,
                      const float* bias, int64_t out, float* y, int ith = 0, int nth = 1);

// The cost model of the count-driven products: true when the event-driven form is expected to be
// faster than the dense product at this fraction of nonzero counts over `rows` rows.
bool preferEventCounts(double nonzeroFraction, int64_t rows);

}  // namespace fas::spiking
