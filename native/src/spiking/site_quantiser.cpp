#include "spiking/site_quantiser.h"

#include <cmath>
#include <vector>

#include "engine/simd.h"
#include "engine/threadpool.h"

namespace fas::spiking {

namespace {

// One row, compiled per ISA; the loop is unswitched on perChannel (-O3).
FAS_SIMD_CLONES void quantiseRow(float* x, int32_t* counts, int64_t width, const float* lambda, bool perChannel,
                                 int levels, bool signedSite, int32_t& abs, int32_t& nonzero) {
  int32_t a = 0, nz = 0;
  for (int64_t c = 0; c < width; ++c) {
    const float l = perChannel ? lambda[c] : lambda[0];
    const int32_t k = siteCount(x[c], l, levels, signedSite);
    counts[c] = k;
    x[c] = siteValue(k, l, levels);
    a += k < 0 ? -k : k;
    nz += k != 0;
  }
  abs = a;
  nonzero = nz;
}

FAS_SIMD_CLONES int32_t rowAbsCount(const float* y, int64_t width, const float* lambda, bool perChannel, int levels) {
  int32_t sum = 0;
  // |y| * levels / lambda is an integer up to rounding: + 0.5 and truncation give it.
  for (int64_t c = 0; c < width; ++c) {
    sum += int32_t(std::fabs(y[c]) * float(levels) / (perChannel ? lambda[c] : lambda[0]) + 0.5f);
  }
  return sum;
}

}  // namespace

SiteTally quantiseSite(float* x, int32_t* counts, double* rowAbs, int64_t rows, int64_t width, const SiteQuantiser& q,
                       int ith, int nth) {
  const Range r = splitRange(rows, ith, nth);
  SiteTally t;
  for (int64_t row = r.begin; row < r.end; ++row) {
    // Per row |count| <= levels * width, which fits int32 for any site this engine runs.
    int32_t abs = 0, nonzero = 0;
    quantiseRow(x + row * width, counts + row * width, width, q.lambda, q.perChannel, q.levels, q.signedSite, abs,
                nonzero);
    if (rowAbs) rowAbs[row] = double(abs);
    t.absCount += double(abs);
    t.nonzero += nonzero;
  }
  t.values = (r.end - r.begin) * width;
  return t;
}

void rowAbsCounts(const float* y, int64_t rows, int64_t width, const SiteQuantiser& q, double* sums) {
  for (int64_t r = 0; r < rows; ++r) {
    sums[r] = double(rowAbsCount(y + r * width, width, q.lambda, q.perChannel, q.levels));
  }
}

namespace {

// countLinearEvent with W stored as T.
struct CountLinearEvent {
  template <DType T>
  static void runAs(const int32_t* counts, int64_t rows, int64_t in, const SiteQuantiser& q, WeightView weights,
                    const float* bias, int64_t out, float* y, int ith, int nth) {
    const simd::Stored<T>* w = weights.as<simd::Stored<T>>();
    const Range cols = blockSlice(out, 16, ith, nth);
    std::vector<int32_t> active;
    std::vector<float> value;
    active.reserve(in);
    value.reserve(in);
    for (int64_t r = 0; r < rows; ++r) {
      active.clear();
      value.clear();
      const int32_t* cr = counts + r * in;
      for (int64_t i = 0; i < in; ++i) {
        if (cr[i] == 0) continue;
        active.push_back(int32_t(i));
        value.push_back(siteValue(cr[i], q.lambdaOf(i), q.levels));
      }
      const size_t n = active.size();
      float* yr = y + r * out;
      for (int64_t o = cols.begin; o < cols.end; ++o) {
        const simd::Stored<T>* wo = w + o * in;
        float acc = bias ? bias[o] : 0.0f;
        for (size_t k = 0; k < n; ++k) acc += value[k] * simd::scalarAs<T>(wo[active[k]]);
        yr[o] = acc;
      }
    }
  }
};

}  // namespace

void countLinearEvent(const int32_t* counts, int64_t rows, int64_t in, const SiteQuantiser& q, WeightView w,
                      const float* bias, int64_t out, float* y, int ith, int nth) {
  simd::runAsStored<CountLinearEvent>(w.dtype, counts, rows, in, q, w, bias, out, y, ith, nth);
}

bool preferEventCounts(double nonzeroFraction, int64_t rows) {
  // The gather reads only the active W[o, i], but one at a time, against the SIMD product that reads
  // every i and reuses each weight block across rows. Measured with both on the shared 2-core AVX-512
  // build machine, one thread, 768 -> 768 and 768 -> 3072: for one row they cross between 5% and
  // 10% nonzero; for 64 rows the dense product is already faster at 5%.
  return nonzeroFraction < (rows <= 8 ? 0.05 : 0.02);
}

}  // namespace fas::spiking
