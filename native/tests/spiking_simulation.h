// Tiny converted models and fas-method.md section 3 taken literally: the whole network stepped T
// times, one timestep after another, with the IF neurons' potentials carried from step to step, so
// the engine's T-batched snn mode can be checked against it. Plain loops and the *_ref ops only.
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/ops/widen.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_site.h"
#include "fixtures.h"

namespace fas::test {

// GPT-2 (LayerNorm, gelu_new, learned positions, tied head), OPT (ReLU, untied) or LLaMA (RMSNorm,
// SwiGLU, rotary, grouped-query heads, no biases), small enough to simulate step by step.
inline ModelConfig spikingConfig(Family family) {
  ModelConfig c = tinyConfig(family, {37, 16, 2, 8, 48, 24});
  if (family == Family::Opt) c.tiedHead = false;
  if (family == Family::Llama) {
    c.numHeads = 4;
    c.headDim = 4;
  }
  return c;
}

// Random weights; upShift is added to the up projection's bias (GPT-2, OPT), so most neurons see a
// positive input and fire often: a layer dense enough for the cost model to pick the dense product.
inline std::unique_ptr<Model> spikingTinyModel(Family family, uint32_t seed, float upShift = 0.0f) {
  const ModelConfig c = spikingConfig(family);
  const auto keep = [&](const std::string& name) {
    return family != Family::Llama || name.find("bias") == std::string::npos;
  };
  return modelFromTensors(c, randomTensors(c, seed, keep, 3.0f, upShift));
}

enum class NeuronKind { Uncalibrated, Layer, Neuron, Position };

// Lambdas near `lambda`; neurons as stage 2 would leave them: none (theta = lambda, v0 = theta / 2),
// one per layer, one per neuron, or one per (position, neuron) for the first 3 positions.
inline SpikingParams spikingParams(const ModelConfig& c, NeuronKind kind, float lambda, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  SpikingParams p;
  p.signedSpikes = c.activation == Activation::SiluGated;
  for (int64_t l = 0; l < c.numLayers; ++l) p.lambdas.push_back(lambda * (0.8f + 0.4f * u(rng)));
  if (kind == NeuronKind::Uncalibrated) return p;
  const int64_t positions = kind == NeuronKind::Position ? 3 : 0;
  const int64_t count = kind == NeuronKind::Layer ? 1 : (positions ? positions : 1) * c.ffnSize;
  for (int64_t l = 0; l < c.numLayers; ++l) {
    NeuronValues n;
    n.positions = positions;
    for (int64_t k = 0; k < count; ++k) {
      const float theta = p.lambdas[l] * (0.5f + u(rng));
      n.threshold.push_back(theta);
      n.v0.push_back(theta * u(rng));
    }
    p.neurons.push_back(std::move(n));
  }
  return p;
}

inline std::shared_ptr<const Model> withSpiking(std::unique_ptr<Model> model, SpikingParams params) {
  model->spiking = std::make_shared<SpikingSite>(model->config, std::move(params));
  return model;
}

struct Simulation {
  std::vector<float> logits;             // [S, vocab], averaged over the timesteps
  std::vector<int64_t> spikes;           // per layer, nonzero spikes over every step and position
  std::vector<std::vector<int>> counts;  // [layer][position * ffn + neuron], spikes (+1 and -1 alike)
};

// Threshold and initial potential of neuron i at `position`, read from the parameters as the file
// stores them; a per-position table holds for its positions, later ones use its last row.
inline std::pair<float, float> neuronAt(const SpikingParams& p, int64_t layer, int64_t position, int64_t i,
                                        int64_t ffn) {
  if (p.neurons.empty()) return {p.lambdas[layer], p.lambdas[layer] / 2};
  const NeuronValues& n = p.neurons[layer];
  size_t k = 0;
  if (n.positions > 0) k = size_t(std::min(position, n.positions - 1) * ffn + i);
  else if (n.threshold.size() > 1) k = size_t(i);
  return {n.threshold[k], n.v0[k]};
}

// One sequence from position 0. Snn: T steps of the whole network; the site's input x_t drives
//   v += x_t;  s = +1 if v >= theta, -1 if signed and v < 0, else 0;  v -= s * theta;  output s * theta
// (ST-BIF's limit of -T on the count cannot bind with one spike per step), and every other op sees
// only its own step. Qcfs: one pass with QCFS at the site (T is ignored).
inline Simulation simulate(const Model& m, const std::vector<int32_t>& ids, FfnMode mode, int T) {
  const ModelConfig& c = m.config;
  const SpikingParams* p = m.spiking ? &m.spiking->params() : nullptr;
  const int64_t S = int64_t(ids.size()), h = c.hiddenSize, f = c.ffnSize;
  const int steps = mode == FfnMode::Snn ? T : 1;
  const ReferenceGraph g(m, S);

  Simulation out;
  out.spikes.assign(c.numLayers, 0);
  out.counts.assign(c.numLayers, std::vector<int>(S * f, 0));
  std::vector<std::vector<float>> v(c.numLayers, std::vector<float>(S * f));
  for (int64_t l = 0; l < c.numLayers && mode == FfnMode::Snn; ++l) {
    for (int64_t k = 0; k < S * f; ++k) v[l][k] = neuronAt(*p, l, k / f, k % f, f).second;
  }
  std::vector<double> sum(S * c.vocabSize, 0.0);
  for (int t = 0; t < steps; ++t) {
    std::vector<float> x = g.embed(ids);
    for (int64_t l = 0; l < c.numLayers; ++l) {
      const LayerWeights& L = m.layers[l];
      const auto attention = [&](const std::vector<float>& in) { return g.attention(L, in); };
      const auto ffn = [&](const std::vector<float>& in) {
        auto a = g.upGated(L, in);
        for (int64_t k = 0; k < S * f; ++k) {
          if (mode == FfnMode::Qcfs) {
            const float lambda = p->lambdas[l], levels = float(p->levels);
            const float level = std::floor(a[k] * levels / lambda + 0.5f);
            a[k] = lambda * (std::min(std::max(level, p->signedSpikes ? -levels : 0.0f), levels) / levels);
            continue;
          }
          const float theta = neuronAt(*p, l, k / f, k % f, f).first;
          v[l][k] += a[k];
          const int s = v[l][k] >= theta ? 1 : (p->signedSpikes && v[l][k] < 0 ? -1 : 0);
          v[l][k] -= float(s) * theta;
          a[k] = float(s) * theta;
          out.spikes[l] += s != 0;
          out.counts[l][k] += s != 0;
        }
        return g.linear(a, L.down, L.downB, f, h);
      };
      x = g.layer(L, std::move(x), attention, ffn);
    }
    const auto logits = g.logits(std::move(x));
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += logits[k];
  }
  out.logits.resize(sum.size());
  for (size_t k = 0; k < sum.size(); ++k) out.logits[k] = float(sum[k] / steps);
  return out;
}

}  // namespace fas::test
