// Whole tiny models of every family: the training forward against the inference engine, the
// double-precision graph against finite differences (QCFS off, on, and at every site of scope all,
// with the straight-through gradient), the fast float trainer's gradients against the double graph,
// and the scope all graph's logits against the engine's qcfs mode on the same thresholds.
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/forward.h"
#include "spiking_simulation.h"
#include "test.h"
#include "train/model/kernels.h"
#include "train/model/transformer_impl.h"
#include "train/trainer.h"
#include "train_grad_check.h"
#include "train_tiny_models.h"

using namespace fas;
using namespace fas::train;
using namespace fas::test;

namespace {

constexpr float kLambda = 1.0f;  // the activations of the tiny models straddle it: some clip, some do not
constexpr int kLevels = 4;

QcfsSite siteFor(Tiny t, bool on) {
  return QcfsSite{on, kLevels, on && tinyConfig(t).activation == Activation::SiluGated};
}

// Scope all: every site quantised, the FFN site's lambda per neuron or per layer.
QcfsSite allSitesFor(Tiny t, bool perNeuronFfn) {
  QcfsSite site = siteFor(t, true);
  site.everySite = true;
  site.perNeuronFfn = perNeuronFfn;
  return site;
}

// QCFS with the rounding residual of every element frozen at the point of recording:
//   y = lambda (clip(x / lambda, lo, 1) + residual),  residual = qcfs(x0) / lambda0 - clip(x0 / lambda0, lo, 1).
// Equal to QCFS at that point, and differentiable around it with exactly the straight-through gradient,
// so finite differences of the model check the backward of the QCFS site.
struct FrozenQcfsKernels : RefKernels {
  static inline bool recording = true;
  static inline std::vector<std::vector<double>> residuals;
  static inline size_t call = 0;  // QCFS sites visited in this forward pass

  static std::vector<double>& residualsOfCall(int64_t n) {
    if (recording) {
      residuals.resize(call + 1);
      residuals[call].resize(n);
    }
    return residuals[call++];
  }

  static void qcfs(P pool, const double* x, double* y, int64_t n, double lambda, const QcfsSite& site) {
    quantise(pool, x, y, 1, n, &lambda, SiteQuant{site.levels, site.signedClip, false});
  }

  // The same at a scope all site, per channel.
  static void quantise(P, const double* x, double* y, int64_t rows, int64_t width, const double* lambda,
                       const SiteQuant& q) {
    const double lo = q.signedSite ? -1.0 : 0.0;
    std::vector<double>& residual = residualsOfCall(rows * width);
    for (int64_t i = 0; i < rows * width; ++i) {
      const double lam = lambda[q.perChannel ? i % width : 0];
      if (recording) {
        residual[i] = spiking::qcfs(static_cast<float>(x[i]), q.at(static_cast<float>(lam))) / lam -
                      std::clamp(x[i] / lam, lo, 1.0);
      }
      y[i] = lam * (std::clamp(x[i] / lam, lo, 1.0) + residual[i]);
    }
  }
};

// The double graph of a tiny model: parameters copied from the float model.
template <class K>
struct RefModel {
  ModelConfig config;
  ParamLayout layout;
  Transformer<K> graph;
  std::vector<double> params, grads;

  RefModel(const Model& m, const QcfsSite& site)
      : config(m.config), layout(m.config, names(m), site), graph(m.config, layout.offsets(), site) {
    std::mt19937 rng(13);
    std::uniform_real_distribution<double> spread(0.7, 1.4);
    params.assign(layout.total(), 0.0);
    grads.assign(layout.total(), 0.0);
    for (const ParamInfo& p : layout.params()) {
      if (p.group == ParamGroup::Threshold) {
        // Scope all: thresholds that differ by channel and site, so that no site's quantised output
        // (a multiple of its lambda / L) lands exactly on the next site's clip edge, where finite
        // differences would straddle a kink.
        for (int64_t k = 0; k < p.size; ++k) params[p.offset + k] = site.everySite ? spread(rng) : kLambda;
        continue;
      }
      const float* src = m.weights.tensors.at(p.name).view.f32();
      std::copy(src, src + p.size, params.begin() + p.offset);
    }
  }

  static std::set<std::string> names(const Model& m) {
    std::set<std::string> out;
    for (const auto& entry : m.weights.tensors) out.insert(entry.first);
    return out;
  }
};

TokenBatch view(const TinyBatch& b) {
  return TokenBatch{b.inputs.data(), b.targets.data(), b.mask.data(), b.batch, b.seqLen};
}

TinyBatch maskedBatch(const ModelConfig& c) {
  TinyBatch b = tinyBatch(c, 2, 5, 11);
  b.mask[0] = 0;  // a few targets that do not count
  b.mask[7] = 0;
  return b;
}

// A few indices of a tensor: both ends, the middle and some in between.
std::vector<int64_t> sampleIndices(const ParamInfo& p) {
  std::set<int64_t> s = {0, p.size / 2, p.size - 1, p.size / 3, (2 * p.size) / 3};
  return std::vector<int64_t>(s.begin(), s.end());
}

// Finite differences of the double graph's summed loss for sampled elements of every parameter.
template <class K>
void checkGraphGradients(Tiny t, const QcfsSite& site) {
  const bool qcfs = site.enabled;
  const auto model = tinyModel(t);
  RefModel<K> ref(*model, site);
  ThreadPool pool(1);
  const TinyBatch b = maskedBatch(ref.config);
  if constexpr (std::is_same_v<K, FrozenQcfsKernels>) {
    K::recording = true;
    K::call = 0;
  }
  ref.graph.forward(pool, ref.params.data(), view(b), qcfs);
  ref.graph.backward(pool, ref.params.data(), ref.grads.data(), 1.0);
  if constexpr (std::is_same_v<K, FrozenQcfsKernels>) K::recording = false;
  const auto loss = [&] {
    if constexpr (std::is_same_v<K, FrozenQcfsKernels>) K::call = 0;
    return ref.graph.forward(pool, ref.params.data(), view(b), qcfs).sum;
  };
  for (const ParamInfo& p : ref.layout.params()) {
    std::vector<int64_t> at;
    for (const int64_t i : sampleIndices(p)) at.push_back(p.offset + i);
    const std::string what = std::string(tinyName(t)) + (site.everySite ? " (all sites) " : " ") + p.name;
    checkFiniteDifferences(what, ref.params, ref.grads, loss, qcfs ? 1e-5 : 1e-6, 1e-6, at);
  }
}

}  // namespace

TEST(train_model_forward_matches_inference_engine) {
  for (const Tiny t : kTinyFamilies) {
    const auto model = tinyModel(t);
    const TinyBatch b = maskedBatch(model->config);
    ThreadPool pool(2);
    const std::vector<float> logits = forwardSequences(*model, pool, b.inputs.data(), b.batch, b.seqLen, false);
    double expected = 0;
    const int64_t vocab = model->config.vocabSize;
    for (size_t i = 0; i < b.inputs.size(); ++i) {
      if (!b.mask[i]) continue;
      const float* row = logits.data() + i * vocab;
      double total = 0;
      for (int64_t j = 0; j < vocab; ++j) total += std::exp(static_cast<double>(row[j]));
      expected += std::log(total) - row[b.targets[i]];
    }
    Trainer trainer(*model, TrainerOptions{});
    const LossSum loss = trainer.evaluate(view(b), EvalMode::Ann);
    CHECK(loss.tokens == 8);
    CHECK_NEAR(loss.sum, expected, 1e-5 * expected);
  }
}

TEST(train_model_gradients_finite_differences) {
  for (const Tiny t : kTinyFamilies) checkGraphGradients<RefKernels>(t, siteFor(t, false));
}

TEST(train_model_gradients_finite_differences_qcfs) {
  for (const Tiny t : kTinyFamilies) checkGraphGradients<FrozenQcfsKernels>(t, siteFor(t, true));
}

// Scope all: every site's straight-through gradient, weights and every channel's lambda.
TEST(train_model_gradients_finite_differences_every_site) {
  for (const Tiny t : kTinyFamilies) {
    checkGraphGradients<FrozenQcfsKernels>(t, allSitesFor(t, true));
    checkGraphGradients<FrozenQcfsKernels>(t, allSitesFor(t, false));
  }
}

// The fast float trainer against the double graph, element by element for every parameter.
TEST(train_model_fast_gradients_match_reference) {
  for (const int scope : {0, 1, 2}) {  // no site, the FFN site, every site
    const bool qcfs = scope > 0;
    for (const Tiny t : kTinyFamilies) {
      const auto model = tinyModel(t);
      const QcfsSite site = scope == 2 ? allSitesFor(t, true) : siteFor(t, qcfs);
      RefModel<RefKernels> ref(*model, site);
      ThreadPool pool(1);
      const TinyBatch b = maskedBatch(ref.config);
      const LossSum refLoss = ref.graph.forward(pool, ref.params.data(), view(b), qcfs);
      ref.graph.backward(pool, ref.params.data(), ref.grads.data(), 1.0);

      TrainerOptions options;
      if (qcfs) options.qcfs = QcfsOptions{kLevels, kLambda, site.signedClip, site.everySite, site.perNeuronFfn};
      Trainer trainer(*model, options);
      for (const ParamInfo& p : ref.layout.params()) {
        if (p.group != ParamGroup::Threshold) continue;
        const std::vector<float> lambda(ref.params.begin() + p.offset, ref.params.begin() + p.offset + p.size);
        trainer.setTensor(p.name, lambda.data(), p.size);
      }
      const LossSum loss = trainer.forwardBackward(view(b));
      CHECK_NEAR(loss.sum, refLoss.sum, 1e-5 * refLoss.sum);
      for (const ParamInfo& p : ref.layout.params()) {
        const std::vector<double> expected(ref.grads.begin() + p.offset, ref.grads.begin() + p.offset + p.size);
        // Floor: some gradients are zero in exact arithmetic (the key bias shifts every score of a row alike).
        const double error = normalisedError(trainer.gradient(p.name), expected, 1e-2);
        if (!(error < 1e-4)) {
          throw Failure(std::string(tinyName(t)) + (qcfs ? " (qcfs) " : " ") + p.name + ": normalised error " +
                        std::to_string(error));
        }
      }
    }
  }
}

// The trained graph of scope all is the model the engine's qcfs mode runs: the same logits on the
// same weights and per-channel thresholds.
TEST(train_model_every_site_forward_matches_engine_qcfs) {
  for (const Tiny t : kTinyFamilies) {
    for (const bool perNeuronFfn : {true, false}) {
      auto model = tinyModel(t);
      const ModelConfig c = model->config;
      const QcfsSite site = allSitesFor(t, perNeuronFfn);
      const ParamLayout layout(c, tensorNames(*model), site);
      std::vector<float> params = flatWeights(*model, layout);
      std::mt19937 rng(5);
      std::uniform_real_distribution<float> u(0.6f, 2.0f);
      const auto thresholds = [&](int64_t layer, Site s) {
        const ParamInfo* p = layout.find(siteLambdaName(layer, s));
        std::vector<float> lambda(p->size);
        for (float& v : lambda) v = u(rng);
        std::copy(lambda.begin(), lambda.end(), params.begin() + p->offset);
        return lambda;
      };
      SpikingParams sp;
      sp.scope = SpikingScope::All;
      sp.levels = site.levels;
      sp.signedSpikes = site.signedClip;
      for (int64_t l = 0; l < c.numLayers; ++l) {
        LayerSiteLambdas layer;
        for (int s = 0; s < kLayerSites; ++s) layer[s] = thresholds(l, Site(s));
        sp.sites.push_back(layer);
      }
      sp.headIn = thresholds(0, Site::HeadIn);

      const TinyBatch b = maskedBatch(c);
      ThreadPool pool(2);
      Transformer<FastKernels> graph(c, layout.offsets(), site);
      graph.forward(pool, params.data(), view(b), true);
      const std::vector<float> trained(graph.logits(), graph.logits() + b.inputs.size() * c.vocabSize);
      const auto engine = test::withSpiking(std::move(model), sp);
      const auto qcfs =
          forwardSequences(*engine, pool, b.inputs.data(), b.batch, b.seqLen, false, RunMode{FfnMode::Qcfs});
      const auto ann = forwardSequences(*engine, pool, b.inputs.data(), b.batch, b.seqLen, false);
      double diff = 0, annDiff = 0;
      for (size_t i = 0; i < qcfs.size(); ++i) {
        diff = std::max(diff, double(std::fabs(trained[i] - qcfs[i])));
        annDiff = std::max(annDiff, double(std::fabs(qcfs[i] - ann[i])));
      }
      CHECK(diff < 1e-4);
      CHECK(annDiff > 1e-2);  // the quantisers do act
    }
  }
}
