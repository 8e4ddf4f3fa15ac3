#include "calibrate/coarse_search.h"

#include <algorithm>

#include "calibrate/align_loss.h"

namespace fas::calibrate {

namespace {

constexpr float kMinRatio = 0.05f;  // thresholds stay well above zero

LayerCandidate ratios(float thetaRatio, float v0Ratio, float lambda) {
  const float theta = lambda * std::max(thetaRatio, kMinRatio);
  return {theta, theta * v0Ratio};
}

}  // namespace

LayerCandidate uncalibratedStart(float lambda) { return ratios(1.0f, 0.5f, lambda); }

LayerCandidate referenceStart(float lambda) { return ratios(0.6f, 0.2f, lambda); }

std::vector<LayerCandidate> coarseGrid(float lambda) {
  std::vector<LayerCandidate> out{uncalibratedStart(lambda), referenceStart(lambda)};
  for (int a = 3; a <= 15; ++a) {
    for (int b = 0; b <= 10; ++b) out.push_back(ratios(0.1f * float(a), 0.1f * float(b), lambda));
  }
  return out;
}

std::vector<LayerCandidate> refinedGrid(const LayerCandidate& best, float lambda) {
  const float a = best.theta / lambda, b = best.v0 / best.theta;
  std::vector<LayerCandidate> out;
  for (int i = -2; i <= 2; ++i) {
    for (int j = -2; j <= 2; ++j) out.push_back(ratios(a + 0.025f * float(i), b + 0.025f * float(j), lambda));
  }
  return out;
}

void addCandidateSse(ThreadPool& pool, const SiteBatch& batch, const std::vector<LayerCandidate>& candidates,
                     bool signedSpikes, std::vector<double>& sse) {
  sse.resize(candidates.size(), 0.0);
  for (size_t c = 0; c < candidates.size(); ++c) {
    const spiking::IfNeuron neuron{spiking::layerParam(&candidates[c].theta), spiking::layerParam(&candidates[c].v0),
                                   signedSpikes};
    sse[c] += alignSse(pool, batch, neuron);
  }
}

}  // namespace fas::calibrate
