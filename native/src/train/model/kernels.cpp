#include "train/model/kernels.h"

#include <algorithm>

namespace fas::train {

namespace {
constexpr int64_t kQcfsChunk = 8192;  // fixed slices: the lambda gradient's sum order never changes
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
      partial[c] = spiking::qcfsBackward(x, dy, dx, static_cast<size_t>(n), q, static_cast<int>(c),
                                         static_cast<int>(chunks));
    }
  });
  double dlambda = 0;
  for (const double d : partial) dlambda += d;
  return dlambda;
}

}  // namespace fas::train
