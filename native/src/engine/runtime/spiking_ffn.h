// The FFN activation site of one forward pass in qcfs or snn mode, and the down projection after it
// (fas-method.md sections 2 and 3). In snn mode the rows are `batch` sequences of seqLen positions,
// each repeated over T timesteps: [batch, T, seqLen]. The IF neurons carry state over t within each
// position, starting from v0 at every position; the down projection is computed from the spikes,
// event-driven or dense as the cost model picks from this call's firing rate, or on the GPU.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_site.h"
#include "engine/runtime/spiking_stats.h"
#include "engine/threadpool.h"
#include "spiking/neuron_param.h"

namespace fas {

class SpikingFfn {
 public:
  // The model must have spiking parameters (see checkMode); stats may be null.
  SpikingFfn(const Model& model, const RunMode& mode, int64_t batch, int64_t seqLen, int64_t past, RunStats* stats);

  // act [rows, ffn]: the site's input (the activation's input, or LLaMA's product silu(gate) * up),
  // used as scratch. out [rows, hidden]: the down projection of the site's output, bias included.
  void run(ThreadPool& pool, int64_t layer, float* act, float* out);

 private:
  void qcfs(ThreadPool& pool, int64_t layer, float* act, float* out);
  void snn(ThreadPool& pool, int64_t layer, float* act, float* out);
  void snnOnCpu(ThreadPool& pool, int64_t layer, float* act, float* out);
  // False, noting why in the stats, when the GPU was not asked for, is not usable or failed.
  bool snnOnGpu(int64_t layer, const float* act, float* out);
  void tally(ThreadPool& pool, int64_t layer);
  spiking::SpikeShape sequenceShape() const;

  const Model& m_;
  const SpikingSite& site_;
  const RunMode mode_;
  const int64_t batch_, seqLen_, past_, rows_;
  RunStats* stats_;
  std::vector<int8_t> spikes_;  // [rows, ffn]
  int64_t fired_ = 0;           // nonzero spikes of the current layer
};

}  // namespace fas
