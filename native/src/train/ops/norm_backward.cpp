#include "train/ops/norm_backward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/simd.h"

namespace fas::train {

// With xhat = (x - mean) r and g = dy * w:  dx = r (g - mean(g) - xhat mean(g xhat)).
void layernorm_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, double* db,
                            int64_t n, int64_t dim, double eps) {
  std::vector<double> xhat(dim);
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = x + i * dim;
    const double* dyi = dy + i * dim;
    double mean = 0, var = 0;
    for (int64_t k = 0; k < dim; ++k) mean += xi[k];
    mean /= dim;
    for (int64_t k = 0; k < dim; ++k) var += (xi[k] - mean) * (xi[k] - mean);
    const double r = 1.0 / std::sqrt(var / dim + eps);
    double meanG = 0, meanGx = 0;
    for (int64_t k = 0; k < dim; ++k) {
      xhat[k] = (xi[k] - mean) * r;
      meanG += dyi[k] * w[k];
      meanGx += dyi[k] * w[k] * xhat[k];
    }
    meanG /= dim;
    meanGx /= dim;
    for (int64_t k = 0; k < dim; ++k) {
      if (dx) dx[i * dim + k] += r * (dyi[k] * w[k] - meanG - xhat[k] * meanGx);
      if (dw) dw[k] += dyi[k] * xhat[k];
      if (db) db[k] += dyi[k];
    }
  }
}

// With g = dy * w:  dx = r (g - x r^2 mean(g x)).
void rmsnorm_backward_ref(const double* x, const double* w, const double* dy, double* dx, double* dw, int64_t n,
                          int64_t dim, double eps) {
  for (int64_t i = 0; i < n; ++i) {
    const double* xi = x + i * dim;
    const double* dyi = dy + i * dim;
    double ss = 0, meanGx = 0;
    for (int64_t k = 0; k < dim; ++k) {
      ss += xi[k] * xi[k];
      meanGx += dyi[k] * w[k] * xi[k];
    }
    const double r = 1.0 / std::sqrt(ss / dim + eps);
    meanGx /= dim;
    for (int64_t k = 0; k < dim; ++k) {
      if (dx) dx[i * dim + k] += r * (dyi[k] * w[k] - xi[k] * r * r * meanGx);
      if (dw) dw[k] += dyi[k] * xi[k] * r;
    }
  }
}

namespace {

using namespace simd;

struct RowStats {
  float mean, r;
};

// dx for rows [i0, i1); keeps each row's mean and r for the parameter pass.
FAS_SIMD_CLONES void layernormRowsBackward(const float* x, const float* w, const float* dy, float* dx, RowStats* stats,
                                           int64_t i0, int64_t i1, int64_t dim, float eps) {
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    vf acc = {};
    int64_t k = 0;
    for (; k + kLanes <= dim; k += kLanes) acc += load(xi + k);
    float s = sum(acc);
    for (; k < dim; ++k) s += xi[k];
    const float mean = s / dim;
    acc = vf{};
    for (k = 0; k + kLanes <= dim; k += kLanes) {
      const vf d = load(xi + k) - mean;
      acc += d * d;
    }
    float ss = sum(acc);
    for (; k < dim; ++k) ss += (xi[k] - mean) * (xi[k] - mean);
    const float r = 1.0f / std::sqrt(ss / dim + eps);
    stats[i] = {mean, r};
    if (!dx) continue;
    vf accG = {}, accGx = {};
    for (k = 0; k + kLanes <= dim; k += kLanes) {
      const vf g = load(dyi + k) * load(w + k);
      accG += g;
      accGx += g * ((load(xi + k) - mean) * r);
    }
    float sumG = sum(accG), sumGx = sum(accGx);
    for (; k < dim; ++k) {
      const float g = dyi[k] * w[k];
      sumG += g;
      sumGx += g * ((xi[k] - mean) * r);
    }
    const float meanG = sumG / dim, meanGx = sumGx / dim;
    float* dxi = dx + i * dim;
    for (k = 0; k + kLanes <= dim; k += kLanes) {
      const vf xhat = (load(xi + k) - mean) * r;
      store(dxi + k, load(dxi + k) + r * (load(dyi + k) * load(w + k) - meanG - xhat * meanGx));
    }
    for (; k < dim; ++k) dxi[k] += r * (dyi[k] * w[k] - meanG - (xi[k] - mean) * r * meanGx);
  }
}

// dw, db for columns [k0, k1), rows in order.
FAS_SIMD_CLONES void layernormParamsBackward(const float* x, const float* dy, const RowStats* stats, float* dw,
                                             float* db, int64_t n, int64_t dim, int64_t k0, int64_t k1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    const float mean = stats[i].mean, r = stats[i].r;
    int64_t k = k0;
    for (; k + kLanes <= k1; k += kLanes) {
      const vf g = load(dyi + k);
      if (dw) store(dw + k, load(dw + k) + g * ((load(xi + k) - mean) * r));
      if (db) store(db + k, load(db + k) + g);
    }
    for (; k < k1; ++k) {
      if (dw) dw[k] += dyi[k] * ((xi[k] - mean) * r);
      if (db) db[k] += dyi[k];
    }
  }
}

FAS_SIMD_CLONES void rmsnormRowsBackward(const float* x, const float* w, const float* dy, float* dx, RowStats* stats,
                                         int64_t i0, int64_t i1, int64_t dim, float eps) {
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    vf accSq = {}, accGx = {};
    int64_t k = 0;
    for (; k + kLanes <= dim; k += kLanes) {
      const vf v = load(xi + k);
      accSq += v * v;
      accGx += load(dyi + k) * load(w + k) * v;
    }
    float ss = sum(accSq), sumGx = sum(accGx);
    for (; k < dim; ++k) {
      ss += xi[k] * xi[k];
      sumGx += dyi[k] * w[k] * xi[k];
    }
    const float r = 1.0f / std::sqrt(ss / dim + eps);
    stats[i] = {0.0f, r};
    if (!dx) continue;
    const float c = r * r * (sumGx / dim);
    float* dxi = dx + i * dim;
    for (k = 0; k + kLanes <= dim; k += kLanes) {
      store(dxi + k, load(dxi + k) + r * (load(dyi + k) * load(w + k) - load(xi + k) * c));
    }
    for (; k < dim; ++k) dxi[k] += r * (dyi[k] * w[k] - xi[k] * c);
  }
}

FAS_SIMD_CLONES void rmsnormParamsBackward(const float* x, const float* dy, const RowStats* stats, float* dw, int64_t n,
                                           int64_t dim, int64_t k0, int64_t k1) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    const float* dyi = dy + i * dim;
    const float r = stats[i].r;
    int64_t k = k0;
    for (; k + kLanes <= k1; k += kLanes) store(dw + k, load(dw + k) + load(dyi + k) * (load(xi + k) * r));
    for (; k < k1; ++k) dw[k] += dyi[k] * (xi[k] * r);
  }
}

// Column range of thread ith, in whole vectors.
Range columns(int64_t dim, int ith, int nth) {
  const Range r = splitRange((dim + kLanes - 1) / kLanes, ith, nth);
  return {r.begin * kLanes, std::min(dim, r.end * kLanes)};
}

}  // namespace

void layernorm_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw,
                        float* db, int64_t n, int64_t dim, float eps) {
  std::vector<RowStats> stats(n);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    layernormRowsBackward(x, w, dy, dx, stats.data(), r.begin, r.end, dim, eps);
  });
  if (!dw && !db) return;
  pool.run([&](int ith, int nth) {
    const Range c = columns(dim, ith, nth);
    layernormParamsBackward(x, dy, stats.data(), dw, db, n, dim, c.begin, c.end);
  });
}

void rmsnorm_backward(ThreadPool& pool, const float* x, const float* w, const float* dy, float* dx, float* dw,
                      int64_t n, int64_t dim, float eps) {
  std::vector<RowStats> stats(n);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(n, ith, nth);
    rmsnormRowsBackward(x, w, dy, dx, stats.data(), r.begin, r.end, dim, eps);
  });
  if (!dw) return;
  pool.run([&](int ith, int nth) {
    const Range c = columns(dim, ith, nth);
    rmsnormParamsBackward(x, dy, stats.data(), dw, n, dim, c.begin, c.end);
  });
}

}  // namespace fas::train
