// Operation counts and energy estimate of the spiking model (method section 5). A MAC is a
// multiply-accumulate on real values (4.6 pJ at 45 nm), an AC an accumulate caused by one spike
// reaching one synapse (0.9 pJ). Counted: synaptic operations of linear layers; not counted: bias
// additions, neuron updates, nonlinearities.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fas::spiking {

constexpr double kMacPicojoules = 4.6;
constexpr double kAcPicojoules = 0.9;

struct OpCounts {
  double macs = 0.0;
  double acs = 0.0;

  double picojoules() const { return macs * kMacPicojoules + acs * kAcPicojoules; }
  OpCounts& operator+=(const OpCounts& o) {
    macs += o.macs;
    acs += o.acs;
    return *this;
  }
};

// A real-valued linear layer [rows, in] -> [rows, out], run `timesteps` times (1 in the ANN; T in
// the spiking model for every per-timestep op that stays dense).
OpCounts denseLinearOps(size_t rows, size_t in, size_t out, int timesteps = 1);

// A linear layer receiving `spikes` (count entries, any layout): one AC per nonzero spike per output.
OpCounts spikeLinearOps(const int8_t* spikes, size_t count, size_t out);

size_t countSpikes(const int8_t* spikes, size_t count);  // nonzero entries, +1 and -1 alike

// Fraction of nonzero entries: the layer's firing rate per neuron and timestep.
double firingRate(const int8_t* spikes, size_t count);

// 1 - E_snn / E_ann: the fraction of the ANN's energy saved (negative when the SNN costs more).
double energySaving(const OpCounts& ann, const OpCounts& snn);

}  // namespace fas::spiking
