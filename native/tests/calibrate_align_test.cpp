// The align loss and its gradient plumbing (native/src/calibrate/align_loss): the loss against a
// direct sum over the reference IF neuron, and the surrogate gradient to per-neuron and
// per-position thresholds and initial potentials against finite differences where the loss is
// smooth (no potential within the surrogate's width of a firing point, so the surrogate term is zero
// and the hard gradient is exact).
#include <cmath>
#include <random>
#include <vector>

#include "calibrate/align_loss.h"
#include "calibrate/neuron_view.h"
#include "engine/threadpool.h"
#include "spiking/if_neuron.h"
#include "spiking/if_surrogate.h"
#include "test.h"

using namespace fas;
using namespace fas::calibrate;

namespace {

SiteBatch randomBatch(int64_t sequences, int64_t seqLen, int T, int64_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  SiteBatch b;
  b.sequences = sequences;
  b.seqLen = seqLen;
  b.n = n;
  b.T = T;
  b.target.resize(sequences * seqLen * n);
  b.input.resize(b.target.size() * T);
  for (float& x : b.target) x = scale * std::fabs(normal(rng));
  for (float& x : b.input) x = scale * normal(rng);
  return b;
}

// Per-neuron values around theta = scale, v0 = scale / 2.
NeuronValues randomValues(int64_t n, int64_t positions, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.7f, 1.3f);
  const int64_t rows = positions > 0 ? positions : 1;
  NeuronValues v{std::vector<float>(rows * n), std::vector<float>(rows * n), positions};
  for (int64_t i = 0; i < rows * n; ++i) {
    v.threshold[i] = scale * u(rng);
    v.v0[i] = v.threshold[i] * 0.5f * u(rng);
  }
  return v;
}

// True when no pre-reset potential of any (sequence, position, neuron) comes within `margin` of the
// threshold (or of 0 for the signed neuron): the spikes then do not change under small changes of
// the parameters, and the surrogate term vanishes.
bool farFromFiring(const SiteBatch& b, const NeuronValues& values, bool signedSpikes, float margin) {
  const spiking::IfNeuron nr = neuronView(values, signedSpikes);
  const spiking::SpikeShape sh = b.shape();
  for (int64_t s = 0; s < b.sequences; ++s) {
    for (int64_t r = 0; r < b.seqLen; ++r) {
      for (int64_t i = 0; i < b.n; ++i) {
        const float theta = nr.theta.at(int(r), int(i), int(b.n));
        float v = nr.v0.at(int(r), int(i), int(b.n));
        for (int t = 0; t < b.T; ++t) {
          const float u = v + b.input[s * sh.size() + t * sh.rowElems() + r * b.n + i];
          if (std::fabs(u - theta) < margin || (signedSpikes && std::fabs(u) < margin)) return false;
          v = u - spiking::fire(u, theta, signedSpikes) * theta;
        }
      }
    }
  }
  return true;
}

void checkAgainstFiniteDifferences(int64_t positions, bool signedSpikes) {
  ThreadPool pool(3);
  const int64_t n = 3, seqLen = 3;
  const float scale = 100.0f;  // potentials far apart compared with the surrogate's width of 1
  // Find a seed whose potentials all stay clear of the firing points.
  for (uint32_t seed = 1; seed < 2000; ++seed) {
    SiteBatch b = randomBatch(2, seqLen, 3, n, scale, seed);
    NeuronValues values = randomValues(n, positions, scale, seed + 7);
    if (!farFromFiring(b, values, signedSpikes, 2.0f * spiking::kSurrogateWidth)) continue;
    std::vector<float> dTheta(values.threshold.size(), 0.0f), dV0(values.v0.size(), 0.0f);
    const float kScale = 0.25f;
    const double sse = alignSseBackward(pool, b, neuronView(values, signedSpikes), gradView(dTheta, values, n),
                                        gradView(dV0, values, n), kScale);
    CHECK_NEAR(sse, alignSse(pool, b, neuronView(values, signedSpikes)), 1e-9 * sse);
    const auto loss = [&](const NeuronValues& v) { return kScale * alignSse(pool, b, neuronView(v, signedSpikes)); };
    const float eps = 0.05f;
    for (size_t i = 0; i < values.threshold.size(); ++i) {
      for (int which = 0; which < 2; ++which) {
        NeuronValues plus = values, minus = values;
        (which == 0 ? plus.threshold : plus.v0)[i] += eps;
        (which == 0 ? minus.threshold : minus.v0)[i] -= eps;
        const double fd = (loss(plus) - loss(minus)) / (2.0 * eps);
        const double analytic = (which == 0 ? dTheta : dV0)[i];
        CHECK_NEAR(analytic, fd, 1e-3 * (1.0 + std::fabs(fd)));
      }
    }
    return;
  }
  CHECK(false);  // no seed gave a smooth point
}

}  // namespace

TEST(calibrate_align_loss_matches_reference_sum) {
  ThreadPool pool(3);
  const SiteBatch b = randomBatch(3, 5, 6, 37, 1.0f, 11);
  const NeuronValues values = randomValues(37, 0, 1.0f, 12);
  const spiking::IfNeuron nr = neuronView(values, false);
  double expected = 0.0;
  std::vector<float> mean(b.seqLen * b.n);
  for (int64_t s = 0; s < b.sequences; ++s) {
    spiking::ifForwardRef(b.input.data() + s * b.shape().size(), b.shape(), nr, {nullptr, mean.data(), nullptr});
    for (size_t e = 0; e < mean.size(); ++e) {
      const double d = double(mean[e]) - b.target[s * mean.size() + e];
      expected += d * d;
    }
  }
  CHECK_NEAR(alignSse(pool, b, nr), expected, 1e-6 * expected);  // the SIMD kernel may round differently
}

TEST(calibrate_align_gradient_per_neuron_matches_finite_differences) { checkAgainstFiniteDifferences(0, false); }

TEST(calibrate_align_gradient_per_position_matches_finite_differences) {
  // Two position rows for three positions: the last row also stands for position 2.
  checkAgainstFiniteDifferences(2, false);
}

TEST(calibrate_align_gradient_signed_matches_finite_differences) { checkAgainstFiniteDifferences(0, true); }

TEST(calibrate_align_backward_equals_op_backward_with_the_loss_gradient) {
  // Near the firing points too: the plumbing hands ifBackwardRef exactly 2 * scale * (mean - target).
  ThreadPool pool(2);
  const SiteBatch b = randomBatch(2, 3, 4, 9, 1.0f, 5);
  const NeuronValues values = randomValues(9, 0, 1.0f, 6);
  const spiking::IfNeuron nr = neuronView(values, false);
  std::vector<float> dTheta(9, 0.0f), dV0(9, 0.0f), eTheta(9, 0.0f), eV0(9, 0.0f);
  alignSseBackward(pool, b, nr, gradView(dTheta, values, 9), gradView(dV0, values, 9), 0.5f);
  std::vector<float> mean(b.seqLen * b.n), dMean(mean.size());
  for (int64_t s = 0; s < b.sequences; ++s) {
    const float* x = b.input.data() + s * b.shape().size();
    spiking::ifForwardRef(x, b.shape(), nr, {nullptr, mean.data(), nullptr});
    for (size_t e = 0; e < mean.size(); ++e) dMean[e] = 2.0f * 0.5f * (mean[e] - b.target[s * mean.size() + e]);
    spiking::ifBackwardRef(x, b.shape(), nr, {nullptr, dMean.data()},
                           {gradView(eTheta, values, 9), gradView(eV0, values, 9), nullptr});
  }
  for (int i = 0; i < 9; ++i) {
    CHECK_NEAR(dTheta[i], eTheta[i], 1e-5 * (1 + std::fabs(eTheta[i])));
    CHECK_NEAR(dV0[i], eV0[i], 1e-5 * (1 + std::fabs(eV0[i])));
  }
}
