#include "calibrate/joint_pass.h"

#include <cmath>
#include <stdexcept>

#include "calibrate/compare_logits.h"
#include "calibrate/neuron_view.h"

namespace fas::calibrate {

namespace {

train::QcfsSite qcfsSiteOf(const SpikingParams& p) { return train::QcfsSite{true, p.levels, p.signedSpikes}; }

}  // namespace

JointPass::JointPass(const Model& model, const SpikingParams& params, int timesteps, const JointHyper& hyper)
    : config_(model.config), timesteps_(timesteps), alignWeight_(hyper.alignWeight), klReduction_(hyper.klReduction),
      signedSpikes_(params.signedSpikes), layout_(model.config, train::tensorNames(model), qcfsSiteOf(params)),
      weights_(train::flatWeights(model, layout_)), teacher_(model.config, layout_.offsets(), qcfsSiteOf(params)),
      student_(model.config, layout_.offsets(), qcfsSiteOf(params)) {
  const int64_t layers = config_.numLayers, n = config_.ffnSize;
  if (static_cast<int64_t>(params.neurons.size()) != layers || static_cast<int64_t>(params.lambdas.size()) != layers) {
    throw std::invalid_argument("the joint pass needs neuron values and a lambda for every layer");
  }
  if (hyper.positions < 0 || hyper.positions > config_.maxPositions) {
    throw std::invalid_argument("positions must be in 0.." + std::to_string(config_.maxPositions));
  }
  for (int64_t l = 0; l < layers; ++l) {
    weights_[layout_.offsets().layers[l].lambda] = params.lambdas[l];
    adam_.emplace_back(fittableValues(params.neurons[l], n, hyper.positions), hyper.adam);
  }
}

JointGradient JointPass::gradient(ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen) {
  const int64_t layers = config_.numLayers, n = config_.ffnSize, tokens = batch * seqLen;
  // No targets: the loss is the teacher's, so cross entropy counts nothing (mask all zero).
  const std::vector<uint8_t> noTargets(tokens, 0);
  const train::TokenBatch b{ids, ids, noTargets.data(), batch, seqLen};
  teacher_.forward(pool, weights_.data(), b, true);

  JointGradient g;
  g.dTheta.resize(layers);
  g.dV0.resize(layers);
  train::IfSite site;
  site.timesteps = timesteps_;
  for (int64_t l = 0; l < layers; ++l) {
    const NeuronValues& v = adam_[l].values();
    g.dTheta[l].assign(v.threshold.size(), 0.0f);
    g.dV0[l].assign(v.v0.size(), 0.0f);
    train::IfLayer layer{neuronView(v, signedSpikes_), gradView(g.dTheta[l], v, n), gradView(g.dV0[l], v, n)};
    if (alignWeight_ > 0.0f) {
      layer.alignTarget = teacher_.siteOutput(l);
      layer.alignScale = alignWeight_ / static_cast<float>(tokens * n);
    }
    site.layers.push_back(layer);
  }
  student_.forwardSpiking(pool, weights_.data(), b, site);

  JointLoss& loss = g.loss;
  loss.tokens = tokens;
  loss.kl = klBackward(pool, teacher_.logits(), student_.logits(), tokens, config_.vocabSize,
                       klLossScale(klReduction_, batch, seqLen));
  for (const double sse : student_.alignSse()) loss.alignSse += sse;
  if (!std::isfinite(loss.kl) || !std::isfinite(loss.alignSse)) {
    throw std::runtime_error(
        "the calibration loss is not finite; the neurons keep the values they had before this batch");
  }
  student_.backwardFromLogits(pool, weights_.data(), nullptr);
  return g;
}

JointLoss JointPass::step(ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen) {
  const JointGradient g = gradient(pool, ids, batch, seqLen);
  for (int64_t l = 0; l < config_.numLayers; ++l) adam_[l].step(g.dTheta[l], g.dV0[l]);
  return g.loss;
}

std::vector<NeuronValues> JointPass::values() const {
  std::vector<NeuronValues> out;
  for (const NeuronAdam& a : adam_) out.push_back(a.values());
  return out;
}

}  // namespace fas::calibrate
