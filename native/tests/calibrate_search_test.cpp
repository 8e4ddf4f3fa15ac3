// The coarse search's candidates and the fine pass's Adam (native/src/calibrate).
#include <cmath>
#include <random>
#include <vector>

#include "calibrate/align_loss.h"
#include "calibrate/coarse_search.h"
#include "calibrate/neuron_adam.h"
#include "calibrate/neuron_view.h"
#include "spiking/if_neuron.h"
#include "test.h"

using namespace fas;
using namespace fas::calibrate;

TEST(calibrate_coarse_grid_starts_from_the_published_points) {
  const std::vector<LayerCandidate> grid = coarseGrid(2.0f);
  CHECK_NEAR(grid[0].theta, 2.0, 1e-6);
  CHECK_NEAR(grid[0].v0, 1.0, 1e-6);
  CHECK_NEAR(grid[1].theta, 1.2, 1e-6);
  CHECK_NEAR(grid[1].v0, 0.24, 1e-6);
  for (const LayerCandidate& c : grid) CHECK(c.theta > 0.0f && c.v0 >= 0.0f && c.v0 <= c.theta);
  for (const LayerCandidate& c : refinedGrid({0.1f, 0.0f}, 2.0f)) CHECK(c.theta > 0.0f);
}

TEST(calibrate_coarse_search_finds_the_threshold_that_generated_the_target) {
  // Constant input over T and a target made by neurons with theta = 0.8, v0 = 0.4 * theta: the
  // grid holds that point, so the search must find a zero loss there, and the start is worse.
  ThreadPool pool(2);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 2.0f);
  SiteBatch b;
  b.sequences = 2, b.seqLen = 6, b.n = 20, b.T = 4;
  b.target.resize(b.sequences * b.seqLen * b.n);
  b.input.resize(b.target.size() * b.T);
  for (int64_t s = 0; s < b.sequences; ++s) {
    for (size_t e = 0; e < b.shape().rowElems(); ++e) {
      const float x = u(rng);
      for (int t = 0; t < b.T; ++t) b.input[s * b.shape().size() + t * b.shape().rowElems() + e] = x;
    }
  }
  const float theta = 0.8f, v0 = 0.32f;
  for (int64_t s = 0; s < b.sequences; ++s) {
    const spiking::IfNeuron nr{spiking::layerParam(&theta), spiking::layerParam(&v0), false};
    spiking::ifForwardRef(b.input.data() + s * b.shape().size(), b.shape(), nr,
                          {nullptr, b.target.data() + s * b.shape().rowElems(), nullptr});
  }
  const std::vector<LayerCandidate> grid = coarseGrid(1.0f);
  std::vector<double> sse;
  addCandidateSse(pool, b, grid, false, sse);
  size_t best = 0;
  for (size_t i = 0; i < sse.size(); ++i) best = sse[i] < sse[best] ? i : best;
  CHECK_NEAR(sse[best], 0.0, 1e-9);
  CHECK(sse[0] > 0.0);
}

TEST(calibrate_adam_steps_against_the_gradient_and_keeps_thresholds_positive) {
  AdamHyper h;
  h.lr = 0.1f;
  h.minTheta = 0.05f;
  NeuronAdam adam(NeuronValues{{1.0f, 0.1f}, {0.5f, 0.5f}, 0}, h);
  adam.step({1.0f, 1.0f}, {-2.0f, 0.0f});
  // First Adam step: m / sqrt(v) after bias correction is sign(g), so each moves by lr.
  CHECK_NEAR(adam.values().threshold[0], 0.9, 1e-5);
  CHECK_NEAR(adam.values().threshold[1], 0.05, 1e-7);  // 0.0 clamped to minTheta
  CHECK_NEAR(adam.values().v0[0], 0.6, 1e-5);
  CHECK_NEAR(adam.values().v0[1], 0.5, 1e-7);
  CHECK(adam.steps() == 1);
}

TEST(calibrate_expand_values_spreads_layer_values) {
  const NeuronValues e = expandValues(layerValues(2.0f, 1.0f), 3, 2);
  CHECK(e.positions == 2 && e.threshold.size() == 6 && e.v0.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(e.threshold[i] == 2.0f && e.v0[i] == 1.0f);
  CHECK(granularityOf(expandValues(layerValues(2.0f, 1.0f), 3, 0)) == spiking::Granularity::Neuron);
}
