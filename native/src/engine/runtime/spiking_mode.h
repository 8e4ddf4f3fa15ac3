// How a forward pass treats the FFN activation site (fas-method.md sections 2 and 3):
//   Ann:  the model's own activation;
//   Qcfs: QCFS with each layer's lambda and L levels (two-sided for a signed site);
//   Snn:  IF neurons over T timesteps, T being a batch dimension of every other (stateless) op.
#pragma once

namespace fas {

enum class FfnMode { Ann, Qcfs, Snn };

constexpr int kMaxTimesteps = 1024;

struct RunMode {
  FfnMode ffn = FfnMode::Ann;
  int timesteps = 1;         // T, 1..kMaxTimesteps; used by Snn only
  bool neuronRates = false;  // Snn: also count every neuron's spikes (RunStats::neuronSpikes)

  // How many copies of each sequence run side by side: T in snn mode, else 1.
  int copies() const { return ffn == FfnMode::Snn ? timesteps : 1; }
};

}  // namespace fas
