// The IF neurons and the event-driven spike linear on an NVIDIA GPU: the same structs and results
// as spiking/if_neuron.h and spiking/spike_linear.h (the linear's sums may round differently).
// Built from spiking.cu; builds without CUDA link spiking_stub.cpp, whose functions throw.
// Errors (no driver, out of memory, bad launch) are thrown as std::runtime_error carrying CUDA's
// error name and message.
#pragma once
#include <cstdint>

#include "spiking/if_neuron.h"
#include "spiking/spike_linear.h"

namespace fas::spiking::cuda {

// Every pointer (inputs, outputs, and the parameters' values) in device memory of the current
// device. Launches on the default stream and returns without waiting.
void ifForwardDevice(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfOutputs& out);
void spikeLinearEventDevice(const int8_t* spikes, const SpikeShape& shape, const SpikeLinear& layer, float* y);

// Every pointer in host memory: copies the inputs to the current device, runs, copies the outputs back.
void ifForward(const float* x, const SpikeShape& shape, const IfNeuron& neuron, const IfOutputs& out);
void spikeLinearEvent(const int8_t* spikes, const SpikeShape& shape, const SpikeLinear& layer, float* y);

}  // namespace fas::spiking::cuda
