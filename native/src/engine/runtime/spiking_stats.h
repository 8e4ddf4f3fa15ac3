// What a forward pass or a generation did, for the energy estimate of fas-method.md section 5:
// firing rates of the spiking site, MACs of every dense op (T times in snn mode), ACs of the
// spike-driven down projection, and the same positions' cost through the ANN.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/runtime/spiking_mode.h"
#include "spiking/energy.h"
#include "spiking/site_quantiser.h"

namespace fas {

// Accumulated over the forward passes of one call (a forward, an eval, a generation).
struct RunStats {
  RunMode mode;
  int64_t tokens = 0;                                    // token positions run (each counted once, whatever T)
  spiking::OpCounts ops;                                 // in this mode
  spiking::OpCounts annOps;                              // the same positions through the ANN
  std::vector<int64_t> spikes;                           // per layer, nonzero spikes (+1 and -1 alike); snn mode
  std::vector<std::vector<int64_t>> neuronSpikes;        // [layer][ffn], when mode.neuronRates
  int64_t eventCalls = 0, denseCalls = 0, gpuCalls = 0;  // down projections run by each path
  std::string gpuNote;  // why the CPU ran although the GPU was asked for; empty otherwise
  // Scope all (qcfs and snn): per layer and site [layer * kLayerSites + site] the counts' tally,
  // head_in's, and per site (Site order) the ACs in snn mode.
  std::vector<spiking::SiteTally> sites;
  spiking::SiteTally headIn;
  int siteLevels = 0;  // L in qcfs mode, T in snn mode
  std::array<double, kSiteCount> siteAcs{};

  // Adds another pass's counts (the mode and a non-empty gpuNote are taken over).
  void add(const RunStats& other);
  // Fraction of (neuron, timestep, position) slots of a layer that fired.
  double firingRate(int64_t layer, int64_t ffnSize) const;
  double neuronFiringRate(int64_t layer, int64_t neuron) const;
  // Scope all: mean |count| / levels over a site's values (every layer's), or over a layer's sites.
  double siteFiringRate(Site site) const;
  double layerSiteFiringRate(int64_t layer) const;
};

// The statement of what the counts include and leave out, for reports.
extern const char* const kOpCountScope;

// MACs of one forward over `batch` sequences of seqLen positions after `past` cached ones: every
// linear layer and the attention products, T times (timesteps) except the vocabulary head, which
// runs once per scored position on the time-averaged features. spikingDown: the down projection is
// spike-driven (counted as ACs by the caller), so it adds no MACs.
// The same statement for scope all, where every matrix product is spike-driven.
extern const char* const kAllSitesOpCountScope;

spiking::OpCounts forwardMacs(const ModelConfig& c, int64_t batch, int64_t seqLen, int64_t past, bool lastOnly,
                              int timesteps, bool spikingDown);

// Scope all in snn mode: the MACs left where real values meet weights (project_in per position;
// the head after project_out per scored position). The products from spike counts are ACs.
spiking::OpCounts spikeDrivenMacs(const ModelConfig& c, int64_t batch, int64_t seqLen, bool lastOnly);

}  // namespace fas
