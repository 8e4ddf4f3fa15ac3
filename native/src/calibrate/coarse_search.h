// The coarse pass's search (fas-method.md section 4): one threshold and one initial potential per
// layer, chosen among candidates by the layer's align loss. The published starting points come
// first, then a grid around them, then a finer grid around the best of the first round.
#pragma once
#include <vector>

#include "calibrate/site_batch.h"
#include "engine/threadpool.h"

namespace fas::calibrate {

struct LayerCandidate {
  float theta, v0;
};

// The uncalibrated neuron: theta = lambda, v0 = theta / 2 (the QCFS shift).
LayerCandidate uncalibratedStart(float lambda);
// The FAS GPT-2 reference code's hard-coded starting point: theta = 0.6 lambda, v0 = 0.2 theta.
LayerCandidate referenceStart(float lambda);

// Index 0: uncalibratedStart. Index 1: referenceStart. Then theta / lambda in 0.3 .. 1.5 by
// v0 / theta in 0 .. 1, steps of 0.1.
std::vector<LayerCandidate> coarseGrid(float lambda);

// Steps of 0.025 (in the same ratios), two either side of the best of the first round.
std::vector<LayerCandidate> refinedGrid(const LayerCandidate& best, float lambda);

// Adds each candidate's sum of squared errors over the batch to sse[candidate].
void addCandidateSse(ThreadPool& pool, const SiteBatch& batch, const std::vector<LayerCandidate>& candidates,
                     bool signedSpikes, std::vector<double>& sse);

}  // namespace fas::calibrate
