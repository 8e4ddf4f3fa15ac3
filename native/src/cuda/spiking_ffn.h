// The spiking FFN site of a whole model on the GPU: every layer's spike-driven down projection and
// neuron parameters uploaded once, then per call the IF neurons and the event-driven layer run back
// to back with the spikes staying on the device (kernels of cuda/spiking.h). Built from
// spiking_ffn.cu; builds without CUDA link spiking_ffn_stub.cpp, whose constructor throws.
// Errors are std::runtime_error carrying CUDA's error name and message.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "spiking/if_neuron.h"
#include "spiking/spike_linear.h"

namespace fas::spiking::cuda {

// One layer as the CPU holds it (host pointers): the receiving layer and the neurons feeding it.
struct FfnLayer {
  SpikeLinear down;  // Wt [n, down.out], bias, and theta (the neurons' thresholds)
  IfNeuron neuron;
};

class DeviceFfn {
 public:
  // Copies every layer to the current device; n is the number of neurons (the FFN width).
  DeviceFfn(const std::vector<FfnLayer>& layers, int n);
  ~DeviceFfn();
  DeviceFfn(const DeviceFfn&) = delete;
  DeviceFfn& operator=(const DeviceFfn&) = delete;

  // x (host) holds `sequences` blocks of `shape` ([T, rows, n] each) one after another. Writes the
  // spikes in the same layout and y as `sequences` blocks of [T, rows, out], both on the host.
  void run(int layer, const float* x, const SpikeShape& shape, int sequences, int8_t* spikes, float* y) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fas::spiking::cuda
