#include "calibrate/align_loss.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "spiking/if_neuron.h"
#include "spiking/if_surrogate.h"

namespace fas::calibrate {

namespace {

void requireNeuronGranularity(spiking::Granularity g) {
  if (g == spiking::Granularity::Layer) {
    throw std::logic_error("per-entry losses and gradients need per-neuron or per-position values");
  }
}

void timeAverage(ThreadPool& pool, const SiteBatch& b, const spiking::IfNeuron& neuron, int64_t s, FloatVector& mean) {
  const spiking::SpikeShape shape = b.shape();
  const float* input = b.input.data() + s * shape.size();
  pool.run([&](int ith, int nth) {
    spiking::ifForward(input, shape, neuron, {nullptr, mean.data(), nullptr}, ith, nth);
  });
}

// mean = the time-averaged output of sequence s; returns sum (mean - target)^2 and, when diff is
// given, writes diff = mean - target.
double sequenceSse(ThreadPool& pool, const SiteBatch& b, const spiking::IfNeuron& neuron, int64_t s, FloatVector& mean,
                   float* diff) {
  const spiking::SpikeShape shape = b.shape();
  const float* target = b.target.data() + s * shape.rowElems();
  timeAverage(pool, b, neuron, s, mean);
  std::vector<double> partial(pool.size(), 0.0);
  pool.run([&](int ith, int nth) {
    const Range r = splitRange(static_cast<int64_t>(shape.rowElems()), ith, nth);
    double sum = 0.0;
    for (int64_t e = r.begin; e < r.end; ++e) {
      const float d = mean[e] - target[e];
      if (diff) diff[e] = d;
      sum += double(d) * double(d);
    }
    partial[ith] = sum;
  });
  double sum = 0.0;
  for (const double p : partial) sum += p;
  return sum;
}

}  // namespace

double alignSse(ThreadPool& pool, const SiteBatch& b, const spiking::IfNeuron& neuron) {
  FloatVector mean(b.shape().rowElems());
  double sum = 0.0;
  for (int64_t s = 0; s < b.sequences; ++s) sum += sequenceSse(pool, b, neuron, s, mean, nullptr);
  return sum;
}

double alignSseBackward(ThreadPool& pool, const SiteBatch& b, const spiking::IfNeuron& neuron,
                        const spiking::NeuronGrad& dTheta, const spiking::NeuronGrad& dV0, float scale) {
  requireNeuronGranularity(dTheta.granularity);
  requireNeuronGranularity(dV0.granularity);
  const spiking::SpikeShape shape = b.shape();
  FloatVector mean(shape.rowElems()), dMean(shape.rowElems());
  double sum = 0.0;
  for (int64_t s = 0; s < b.sequences; ++s) {
    sum += sequenceSse(pool, b, neuron, s, mean, dMean.data());
    for (float& d : dMean) d *= 2.0f * scale;  // d(d^2) = 2 d
    const float* input = b.input.data() + s * shape.size();
    pool.run([&](int ith, int nth) {
      spiking::ifBackward(input, shape, neuron, {nullptr, dMean.data()}, {dTheta, dV0, nullptr}, ith, nth);
    });
  }
  return sum;
}

void addEntrySse(ThreadPool& pool, const SiteBatch& b, const spiking::IfNeuron& neuron, std::vector<double>& sse) {
  requireNeuronGranularity(neuron.theta.granularity);
  const spiking::SpikeShape shape = b.shape();
  const bool perPosition = neuron.theta.granularity == spiking::Granularity::PositionNeuron;
  const int64_t rows = perPosition ? neuron.theta.positions : 1;
  if (sse.size() != static_cast<size_t>(rows * b.n)) {
    throw std::logic_error("addEntrySse: sse is not sized like the values");
  }
  FloatVector mean(shape.rowElems());
  for (int64_t s = 0; s < b.sequences; ++s) {
    timeAverage(pool, b, neuron, s, mean);
    const float* target = b.target.data() + s * shape.rowElems();
    pool.run([&](int ith, int nth) {  // threads own disjoint neurons
      const Range cols = splitRange(b.n, ith, nth);
      for (int64_t r = 0; r < b.seqLen; ++r) {
        const int64_t entryRow = std::min(r, rows - 1) * b.n;  // later positions share the last row
        for (int64_t i = cols.begin; i < cols.end; ++i) {
          const float d = mean[r * b.n + i] - target[r * b.n + i];
          sse[entryRow + i] += double(d) * double(d);
        }
      }
    });
  }
}

}  // namespace fas::calibrate
