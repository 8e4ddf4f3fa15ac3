// Integrate-and-fire neurons over T timesteps at once (method section 3). Per neuron:
//   v = v0;  for t:  v += x_t;  s_t = fire(v);  v -= s_t * theta;  out_t = s_t * theta
// fire(v) = 1 when v >= theta, else 0. Signed (ST-BIF): also -1 when v < 0. With one spike at most
// per step the count stays within [-T, T] by construction, so ST-BIF's count limit never binds and
// is not checked. Constant input x and v0 = theta/2 give
//   count = clip(floor(T*x/theta + 0.5), 0, T)   (signed: clip(..., -T, T)).
// Every token position starts from v0: the state runs over the T axis only.
#pragma once
#include <cstdint>

#include "spiking/neuron_param.h"

namespace fas::spiking {

// The spike for pre-reset potential u: 1 when u >= theta; -1 when signed and u < 0; else 0.
[[gnu::always_inline]] FAS_HOST_DEVICE inline float fire(float u, float theta, bool signedSpikes) {
  return (u >= theta ? 1.0f : 0.0f) - (signedSpikes && u < 0.0f ? 1.0f : 0.0f);
}

// Any output may be null when not needed.
struct IfOutputs {
  int8_t* spikes = nullptr;   // [T, rows, n]: {0, 1}, or {-1, 0, 1} when signed
  float* mean = nullptr;      // [rows, n]: time-averaged output, count * theta / T
  int32_t* counts = nullptr;  // [rows, n]: sum of spikes over T (firing rate = |spikes| / T)
  float* out = nullptr;       // [T, rows, n]: the output at every timestep, spike * theta
};

// x is [T, rows, n] as described by `shape`.
void ifForwardRef(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfOutputs& out);

// Same results; thread ith of nth takes a slice of the neurons of every row.
void ifForward(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfOutputs& out, int ith = 0,
               int nth = 1);

}  // namespace fas::spiking
