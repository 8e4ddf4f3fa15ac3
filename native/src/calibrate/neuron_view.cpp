#include "calibrate/neuron_view.h"

#include <stdexcept>

namespace fas::calibrate {

using spiking::Granularity;

Granularity granularityOf(const NeuronValues& v) {
  if (v.positions > 0) return Granularity::PositionNeuron;
  return v.threshold.size() == 1 ? Granularity::Layer : Granularity::Neuron;
}

namespace {

template <class F>
spiking::NeuronTensor<F> view(F* values, const NeuronValues& like, int64_t n) {
  const Granularity g = granularityOf(like);
  F* last = g == Granularity::PositionNeuron ? values + (like.positions - 1) * n : nullptr;
  return {g, values, last, static_cast<int>(like.positions)};
}

}  // namespace

spiking::IfNeuron neuronView(const NeuronValues& v, bool signedSpikes) {
  const int64_t n = v.positions > 0 ? static_cast<int64_t>(v.threshold.size()) / v.positions
                                    : static_cast<int64_t>(v.threshold.size());
  return {view<const float>(v.threshold.data(), v, n), view<const float>(v.v0.data(), v, n), signedSpikes};
}

spiking::NeuronGrad gradView(std::vector<float>& grad, const NeuronValues& like, int64_t n) {
  if (grad.size() != like.threshold.size()) throw std::logic_error("gradient buffer and parameters differ in size");
  return view<float>(grad.data(), like, n);
}

NeuronValues layerValues(float theta, float v0) { return NeuronValues{{theta}, {v0}, 0}; }

NeuronValues expandValues(const NeuronValues& from, int64_t n, int64_t positions) {
  if (from.positions > 0) throw std::logic_error("expandValues takes per-layer or per-neuron values");
  const int64_t rows = positions > 0 ? positions : 1;
  NeuronValues out{std::vector<float>(rows * n), std::vector<float>(rows * n), positions};
  const bool perLayer = from.threshold.size() == 1;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      out.threshold[r * n + i] = from.threshold[perLayer ? 0 : i];
      out.v0[r * n + i] = from.v0[perLayer ? 0 : i];
    }
  }
  return out;
}

NeuronValues fittableValues(const NeuronValues& from, int64_t n, int64_t positions) {
  const bool sameShape =
      from.positions == positions && (positions > 0 || static_cast<int64_t>(from.threshold.size()) == n);
  if (sameShape) return from;
  if (from.positions > 0) {
    throw std::invalid_argument("values stored for " + std::to_string(from.positions) +
                                " positions cannot be fitted for " + std::to_string(positions));
  }
  return expandValues(from, n, positions);
}

}  // namespace fas::calibrate
