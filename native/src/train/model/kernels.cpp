#include "train/model/kernels.h"

#include <algorithm>

namespace fas::train {

namespace {
constexpr int64_t kQcfsChunk = 8192;   // fixed slices: the lambda gradient's sum order never changes
constexpr int64_t kSiteRowChunk = 32;  // the same for the scope all sites, in rows
}  // namespace

void FastKernels::quantise(P p, const float* x, float* y, int64_t rows, int64_t width, const float* lambda,
                           const SiteQuant& q) {
  p.run([&](int ith, int nth) {
    for (int64_t r = ith; r < rows; r += nth) {
      for (int64_t c = 0; c < width; ++c) {
        const int64_t i = r * width + c;
        y[i] = spiking::qcfs(x[i], q.at(lambda[q.perChannel ? c : 0]));
      }
    }
  });
}

void FastKernels::quantiseBackward(P p, const float* x, const float* dy, float* dx, int64_t rows, int64_t width,
                                   const float* lambda, float* dlambda, const SiteQuant& q) {
  const int64_t chunks = (rows + kSiteRowChunk - 1) / kSiteRowChunk, lambdas = q.perChannel ? width : 1;
  std::vector<double> partial(dlambda ? chunks * lambdas : 0, 0.0);
  p.run([&](int ith, int nth) {
    for (int64_t chunk = ith; chunk < chunks; chunk += nth) {
      double* part = dlambda ? partial.data() + chunk * lambdas : nullptr;
      for (int64_t r = chunk * kSiteRowChunk; r < std::min(rows, (chunk + 1) * kSiteRowChunk); ++r) {
        for (int64_t c = 0; c < width; ++c) {
          const int64_t i = r * width + c, k = q.perChannel ? c : 0;
          const spiking::QcfsGrad g = spiking::qcfsGrad(x[i], q.at(lambda[k]));
          dx[i] += dy[i] * g.dx;
          if (part) part[k] += double(dy[i]) * g.dlambda;
        }
      }
    }
  });
  if (!dlambda) return;
  for (int64_t k = 0; k < lambdas; ++k) {
    double sum = 0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) sum += partial[chunk * lambdas + k];
    dlambda[k] += static_cast<float>(sum);
  }
}

void FastKernels::qcfs(P p, const float* x, float* y, int64_t n, float lambda, const QcfsSite& site) {
  const spiking::Qcfs q = site.at(lambda);
  p.run([&](int ith, int nth) { spiking::qcfsForward(x, y, static_cast<size_t>(n), q, ith, nth); });
}

double FastKernels::qcfsBackward(P p, const float* x, const float* dy, float* dx, int64_t n, float lambda,
                                 const QcfsSite& site) {
  const spiking::Qcfs q = site.at(lambda);
  const int64_t chunks = std::max<int64_t>(1, (n + kQcfsChunk - 1) / kQcfsChunk);
  std::vector<double> partial(chunks);
  p.run([&](int ith, int nth) {
    for (int64_t c = ith; c < chunks; c += nth) {
      partial[c] =
          spiking::qcfsBackward(x, dy, dx, static_cast<size_t>(n), q, static_cast<int>(c), static_cast<int>(chunks));
    }
  });
  double dlambda = 0;
  for (const double d : partial) dlambda += d;
  return dlambda;
}

}  // namespace fas::train
