// A layer's neuron values in the layout of spiking.safetensors (NeuronValues: [1] per layer, [n]
// per neuron, [positions, n] per position and neuron) seen as the IF ops' parameters and gradient
// buffers. Per-position values: the last row stands for every later position, as SpikingSite reads
// them, so its gradient collects those positions too.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/runtime/spiking_site.h"
#include "spiking/neuron_param.h"

namespace fas::calibrate {

spiking::Granularity granularityOf(const NeuronValues& v);

spiking::IfNeuron neuronView(const NeuronValues& v, bool signedSpikes);

// A gradient buffer shaped like `like` (grad.size() == like.threshold.size()).
spiking::NeuronGrad gradView(std::vector<float>& grad, const NeuronValues& like, int64_t n);

// One value per layer.
NeuronValues layerValues(float theta, float v0);

// `from` (per layer or per neuron) spread to per neuron ([n]), or per (position, neuron) when
// positions > 0.
NeuronValues expandValues(const NeuronValues& from, int64_t n, int64_t positions);

// `from` in the shape a gradient pass fits: per neuron, or per (position, neuron) for positions > 0.
// Values already in that shape are kept; per-position values of another count cannot be reshaped
// (std::invalid_argument).
NeuronValues fittableValues(const NeuronValues& from, int64_t n, int64_t positions);

}  // namespace fas::calibrate
