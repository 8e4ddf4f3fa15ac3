// The activation-align loss of one spiking layer (fas-method.md section 4): squared error between
// the time-averaged IF output on the student's site input and the teacher's QCFS output, and its
// surrogate gradient to the neurons' thresholds and initial potentials through the T timesteps.
#pragma once
#include <vector>

#include "calibrate/site_batch.h"
#include "engine/threadpool.h"
#include "spiking/neuron_param.h"

namespace fas::calibrate {

// Sum over the batch's (position, neuron) pairs of (mean_t out - target)^2.
double alignSse(ThreadPool& pool, const SiteBatch& batch, const spiking::IfNeuron& neuron);

// The same sum; also adds scale * d(sum)/d(theta) and d(sum)/d(v0) to the gradient buffers, which
// must be per neuron or per (position, neuron): threads own disjoint neurons.
double alignSseBackward(ThreadPool& pool, const SiteBatch& batch, const spiking::IfNeuron& neuron,
                        const spiking::NeuronGrad& dTheta, const spiking::NeuronGrad& dV0, float scale);

// The same sum split by parameter entry: adds each (position row, neuron) or neuron's squared
// errors to sse[entry], which is sized like the neuron's per-neuron or per-position values. The
// layer's loss is the sum of these, and each depends on its own entry only, so entries can be
// chosen one by one.
void addEntrySse(ThreadPool& pool, const SiteBatch& batch, const spiking::IfNeuron& neuron, std::vector<double>& sse);

}  // namespace fas::calibrate
