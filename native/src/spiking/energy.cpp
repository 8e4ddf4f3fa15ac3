#include "spiking/energy.h"

namespace fas::spiking {

OpCounts denseLinearOps(size_t rows, size_t in, size_t out, int timesteps) {
  return {double(rows) * double(in) * double(out) * timesteps, 0.0};
}

OpCounts spikeLinearOps(const int8_t* spikes, size_t count, size_t out) {
  return {0.0, double(countSpikes(spikes, count)) * double(out)};
}

size_t countSpikes(const int8_t* spikes, size_t count) {
  size_t active = 0;
  for (size_t i = 0; i < count; ++i) active += spikes[i] != 0;
  return active;
}

double firingRate(const int8_t* spikes, size_t count) {
  return count ? double(countSpikes(spikes, count)) / double(count) : 0.0;
}

double energySaving(const OpCounts& ann, const OpCounts& snn) { return 1.0 - snn.picojoules() / ann.picojoules(); }

}  // namespace fas::spiking
