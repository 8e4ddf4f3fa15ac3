// The linear layer that receives spikes (c_proj, fc2, down_proj; method section 3):
//   y[m, :] = bias + sum_i s[m, i] * theta(position of m, i) * Wt[i, :]
// Spikes are [T, rows, in] (shape.n = in), y is [T, rows, out]. The weights come transposed,
// Wt = W^T [in, out], so each active input adds one contiguous row, kept in the model's dtype
// (F32, F16 or BF16): the kernels widen 16-bit rows as they read them.
#pragma once
#include <cstdint>

#include "engine/weight_view.h"
#include "spiking/neuron_param.h"

namespace fas::spiking {

struct SpikeLinear {
  WeightView Wt;                // [in, out]
  const float* bias = nullptr;  // [out], or null
  int out = 0;
  NeuronParam theta;  // the sending neurons' thresholds, i.e. the spike amplitudes
};

void spikeLinearRef(const int8_t* spikes, const SpikeShape& shape, const SpikeLinear& layer, float* y);

// Event-driven: gathers each row's active inputs and adds theta_i * Wt[i, :] for each of them, so
// the work follows the firing rate. (On neuromorphic hardware theta_i * W is the stored synaptic
// weight and each event is one addition; on a CPU the fused multiply-add costs the same as an add.)
// Thread ith of nth takes a slice of the rows, so each gathers only its own rows' events.
void spikeLinearEvent(const int8_t* spikes, const SpikeShape& shape, const SpikeLinear& layer, float* y, int ith = 0,
                      int nth = 1);

// Dense: the product of (spikes * theta) and Wt, whatever the firing rate. Thread ith of nth takes a
// slice of the output columns.
void spikeLinearDense(const int8_t* spikes, const SpikeShape& shape, const SpikeLinear& layer, float* y, int ith = 0,
                      int nth = 1);

// The cost model: true when the event-driven form is expected to be the faster one at this firing
// rate (fraction of nonzero spikes in the layer's input).
bool preferEventDriven(double firingRate);

}  // namespace fas::spiking
