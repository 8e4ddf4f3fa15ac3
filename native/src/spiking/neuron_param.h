// Shapes and neuron parameters shared by the spiking ops (method sections 3 and 4).
#pragma once
#include <cstddef>

#ifdef __CUDACC__
#define FAS_HOST_DEVICE __host__ __device__
#else
#define FAS_HOST_DEVICE
#endif

namespace fas::spiking {

// One layer's activations over T timesteps, laid out [T, rows, n] (timestep-major: the T copies of
// a row sit rows*n apart). Rows are consecutive token positions of one sequence: row r is the token
// at position pos0 + r (a batch of sequences is one call per sequence). T = 1 gives a plain [rows, n].
struct SpikeShape {
  int T = 1;
  int rows = 1;
  int n = 0;
  int pos0 = 0;

  FAS_HOST_DEVICE size_t rowElems() const { return size_t(rows) * size_t(n); }  // elements of one timestep
  FAS_HOST_DEVICE size_t size() const { return size_t(T) * rowElems(); }
};

enum class Granularity { Layer, Neuron, PositionNeuron };

// A threshold or initial potential of one layer, or the gradient buffer of one:
//   Layer:          values[1]
//   Neuron:         values[n]
//   PositionNeuron: values[positions, n] for token positions < positions, and the per-neuron
//                   fallback[n] beyond, so a model calibrated up to some length still runs past it.
template <class F>  // const float for parameters, float for gradients
struct NeuronTensor {
  Granularity granularity = Granularity::Layer;
  F* values = nullptr;
  F* fallback = nullptr;
  int positions = 0;

  // The values of the token at `position`; neuron i's value is row(position, n)[i * stride()].
  FAS_HOST_DEVICE F* row(int position, int n) const {
    if (granularity != Granularity::PositionNeuron) return values;
    return position < positions ? values + size_t(position) * size_t(n) : fallback;
  }
  FAS_HOST_DEVICE int stride() const { return granularity == Granularity::Layer ? 0 : 1; }
  FAS_HOST_DEVICE F& at(int position, int neuron, int n) const {
    return row(position, n)[size_t(neuron) * size_t(stride())];
  }
  // Number of floats in `values` (the fallback, when used, always has n).
  size_t count(int n) const {
    if (granularity == Granularity::Layer) return 1;
    return granularity == Granularity::Neuron ? size_t(n) : size_t(positions) * size_t(n);
  }
};

using NeuronParam = NeuronTensor<const float>;
using NeuronGrad = NeuronTensor<float>;

inline NeuronParam layerParam(const float* value) { return {Granularity::Layer, value, nullptr, 0}; }
inline NeuronParam neuronParam(const float* values) { return {Granularity::Neuron, values, nullptr, 0}; }
inline NeuronParam positionParam(const float* values, int positions, const float* fallback) {
  return {Granularity::PositionNeuron, values, fallback, positions};
}
inline NeuronGrad layerGrad(float* value) { return {Granularity::Layer, value, nullptr, 0}; }
inline NeuronGrad neuronGrad(float* values) { return {Granularity::Neuron, values, nullptr, 0}; }
inline NeuronGrad positionGrad(float* values, int positions, float* fallback) {
  return {Granularity::PositionNeuron, values, fallback, positions};
}

// Integrate-and-fire neurons of one layer: no leak, reset by subtraction.
struct IfNeuron {
  NeuronParam theta;          // threshold, > 0
  NeuronParam v0;             // initial membrane potential (theta/2 before calibration)
  bool signedSpikes = false;  // ST-BIF: also fires -1 when the potential drops below 0
};

}  // namespace fas::spiking
