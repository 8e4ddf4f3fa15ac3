// Surrogate-gradient backward of the IF neurons through the T timesteps, for calibrating theta and
// v0 (method section 4). The graph per neuron, u_t being the potential before the reset:
//   u_t = v_{t-1} + x_t,  s_t = fire(u_t),  v_t = u_t - s_t * theta,  out_t = s_t * theta,  v_0 = v0
// with the spike's derivative replaced by the triangle surrogate
//   ds/du = sg(u - theta) (+ sg(u) for the signed neuron's -1 spike at 0),  ds/dtheta = -sg(u - theta)
//   sg(z) = max(1 - |z| / g, 0) / g,  g = kSurrogateWidth.
#pragma once
#include <algorithm>
#include <cmath>

#include "spiking/neuron_param.h"

namespace fas::spiking {

constexpr float kSurrogateWidth = 1.0f;  // g = 1, as in the paper

[[gnu::always_inline]] inline float surrogate(float z) {
  return std::max(1.0f - std::fabs(z) / kSurrogateWidth, 0.0f) / kSurrogateWidth;
}

// dL/dout, either for every timestep or for the time average (one of the two, the other null).
struct IfUpstream {
  const float* dOut = nullptr;   // [T, rows, n]
  const float* dMean = nullptr;  // [rows, n]
};

// Gradient buffers, accumulated (+=); their granularity may differ from the parameters'. Threads
// own disjoint neurons, so per-neuron and per-(position, neuron) buffers can be shared; a per-layer
// buffer is one float that every neuron adds to: give each thread its own and sum them afterwards.
struct IfGrads {
  NeuronGrad theta;
  NeuronGrad v0;
  float* dx = nullptr;  // [T, rows, n], overwritten; may be null
};

void ifBackwardRef(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfUpstream& up,
                   const IfGrads& grads);

// Same results; thread ith of nth takes a slice of the neurons of every row.
void ifBackward(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfUpstream& up,
                const IfGrads& grads, int ith = 0, int nth = 1);

}  // namespace fas::spiking
