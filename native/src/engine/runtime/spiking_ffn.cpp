#include "engine/runtime/spiking_ffn.h"

#include <atomic>
#include <string>
#include <vector>

#include "cuda/spiking_ffn.h"
#include "engine/ops/matmul.h"
#include "engine/runtime/forward_sizes.h"
#include "spiking/if_neuron.h"
#include "spiking/qcfs.h"
#include "spiking/spike_linear.h"

namespace fas {

SpikingFfn::SpikingFfn(const Model& model, const RunMode& mode, int64_t batch, int64_t seqLen, int64_t past,
                       RunStats* stats)
    : m_(model), site_(*model.spiking), mode_(mode), batch_(batch), seqLen_(seqLen), past_(past),
      rows_(batch * mode.copies() * seqLen), stats_(stats) {
  const ModelConfig& c = model.config;
  if (mode_.ffn != FfnMode::Snn) return;
  spikes_.resize(rows_ * forwardWidths(c, m_.projectIn || m_.projectOut, mode_).spikes);
  if (!stats_) return;
  if (stats_->spikes.empty()) stats_->spikes.assign(c.numLayers, 0);
  if (mode_.neuronRates && stats_->neuronSpikes.empty()) {
    stats_->neuronSpikes.assign(c.numLayers, std::vector<int64_t>(c.ffnSize, 0));
  }
}

// Each sequence's block of the site, [T, seqLen, ffn]: its rows are consecutive positions from past.
spiking::SpikeShape SpikingFfn::sequenceShape() const {
  return spiking::SpikeShape{mode_.timesteps, static_cast<int>(seqLen_), static_cast<int>(m_.config.ffnSize),
                             static_cast<int>(past_)};
}

void SpikingFfn::run(ThreadPool& pool, int64_t layer, float* act, float* out) {
  if (mode_.ffn == FfnMode::Qcfs) {
    qcfs(pool, layer, act, out);
  } else {
    snn(pool, layer, act, out);
  }
}

void SpikingFfn::qcfs(ThreadPool& pool, int64_t layer, float* act, float* out) {
  const ModelConfig& c = m_.config;
  const spiking::Qcfs q = site_.qcfs(layer);
  const size_t n = static_cast<size_t>(rows_ * c.ffnSize);
  pool.run([&](int ith, int nth) { spiking::qcfsForward(act, act, n, q, ith, nth); });
  const LayerWeights& L = m_.layers[layer];
  ops::linear(pool, act, L.down, L.downB.f32(), out, rows_, c.ffnSize, c.hiddenSize);
}

void SpikingFfn::snn(ThreadPool& pool, int64_t layer, float* act, float* out) {
  if (snnOnGpu(layer, act, out)) {
    tally(pool, layer);
    if (stats_) ++stats_->gpuCalls;
  } else {
    snnOnCpu(pool, layer, act, out);
  }
  if (stats_) {
    stats_->spikes[layer] += fired_;
    stats_->ops.acs += double(fired_) * double(m_.config.hiddenSize);  // each spike reaches every output
  }
}

// The neurons, then the down projection from their spikes: event-driven or dense, whichever the
// cost model expects to be faster at this layer's measured firing rate.
void SpikingFfn::snnOnCpu(ThreadPool& pool, int64_t layer, float* act, float* out) {
  const ModelConfig& c = m_.config;
  const spiking::SpikeShape shape = sequenceShape();
  const size_t in = shape.size(), outSize = size_t(mode_.timesteps) * seqLen_ * c.hiddenSize;
  const spiking::IfNeuron neuron = site_.neuron(layer);
  pool.run([&](int ith, int nth) {
    for (int64_t b = 0; b < batch_; ++b) {
      spiking::ifForward(act + b * in, shape, neuron, spiking::IfOutputs{spikes_.data() + b * in}, ith, nth);
    }
  });
  tally(pool, layer);
  const bool event = spiking::preferEventDriven(double(fired_) / double(spikes_.size()));
  const auto linear = event ? spiking::spikeLinearEvent : spiking::spikeLinearDense;
  const spiking::SpikeLinear down{site_.transposedDown(m_, layer), m_.layers[layer].downB.f32(),
                                  static_cast<int>(c.hiddenSize), neuron.theta};
  pool.run([&](int ith, int nth) {
    for (int64_t b = 0; b < batch_; ++b) linear(spikes_.data() + b * in, shape, down, out + b * outSize, ith, nth);
  });
  if (stats_) ++(event ? stats_->eventCalls : stats_->denseCalls);
}

bool SpikingFfn::snnOnGpu(int64_t layer, const float* act, float* out) {
  if (!site_.params().preferCuda) return false;
  std::string why;
  if (const spiking::cuda::DeviceFfn* gpu = site_.gpu(m_, why)) {
    try {
      gpu->run(static_cast<int>(layer), act, sequenceShape(), static_cast<int>(batch_), spikes_.data(), out);
      return true;
    } catch (const std::exception& e) {
      why = std::string("the GPU failed, this layer ran on the CPU: ") + e.what();
    }
  }
  if (stats_) stats_->gpuNote = why;
  return false;
}

// Counts the layer's nonzero spikes into fired_, and per neuron into the stats when asked. Threads
// take slices of the neurons, so the per-neuron sums need no locking.
void SpikingFfn::tally(ThreadPool& pool, int64_t layer) {
  const int64_t n = m_.config.ffnSize;
  int64_t* perNeuron = stats_ && mode_.neuronRates ? stats_->neuronSpikes[layer].data() : nullptr;
  std::atomic<int64_t> fired{0};
  pool.run([&](int ith, int nth) {
    const Range cols = blockSlice(n, 64, ith, nth);
    std::vector<int32_t> count(cols.end - cols.begin, 0);
    for (int64_t r = 0; r < rows_; ++r) {
      const int8_t* s = spikes_.data() + r * n + cols.begin;
      for (size_t i = 0; i < count.size(); ++i) count[i] += s[i] != 0;
    }
    int64_t total = 0;
    for (size_t i = 0; i < count.size(); ++i) {
      total += count[i];
      if (perNeuron) perNeuron[cols.begin + i] += count[i];
    }
    fired += total;
  });
  fired_ = fired;
}

}  // namespace fas
