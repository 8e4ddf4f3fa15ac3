// Whole tiny models of every family: the training forward against the inference engine, the
// double-precision graph against finite differences (QCFS off, and on with its straight-through
// gradient), and the fast float trainer's gradients against the double graph.
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/runtime/forward.h"
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

// QCFS with the rounding residual of every element frozen at the point of recording:
//   y = lambda (clip(x / lambda, lo, 1) + residual),  residual = qcfs(x0) / lambda0 - clip(x0 / lambda0, lo, 1).
// Equal to QCFS at that point, and differentiable around it with exactly the straight-through gradient,
// so finite differences of the model check the backward of the QCFS site.
struct FrozenQcfsKernels : RefKernels {
  static inline bool recording = true;
  static inline std::vector<std::vector<double>> residuals;
  static inline size_t call = 0;  // QCFS sites visited in this forward pass

  static void qcfs(P, const double* x, double* y, int64_t n, double lambda, const QcfsSite& site) {
    const double lo = site.signedClip ? -1.0 : 0.0;
    if (recording) {
      residuals.resize(call + 1);
      residuals[call].resize(n);
      for (int64_t i = 0; i < n; ++i) {
        const double q = spiking::qcfs(static_cast<float>(x[i]), site.at(static_cast<float>(lambda))) / lambda;
        residuals[call][i] = q - std::clamp(x[i] / lambda, lo, 1.0);
      }
    }
    for (int64_t i = 0; i < n; ++i) y[i] = lambda * (std::clamp(x[i] / lambda, lo, 1.0) + residuals[call][i]);
    ++call;
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
      : config(m.config), layout(m.config, names(m), site.enabled), graph(m.config, layout.offsets(), site) {
    params.assign(layout.total(), 0.0);
    grads.assign(layout.total(), 0.0);
    for (const ParamInfo& p : layout.params()) {
      if (p.group == ParamGroup::Threshold) {
        params[p.offset] = kLambda;
        continue;
      }
      const float* src = m.weights.tensors.at(p.name).data;
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
void checkGraphGradients(Tiny t, bool qcfs) {
  const auto model = tinyModel(t);
  RefModel<K> ref(*model, siteFor(t, qcfs));
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
    checkFiniteDifferences(std::string(tinyName(t)) + " " + p.name, ref.params, ref.grads, loss, qcfs ? 1e-5 : 1e-6,
                           1e-6, at);
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
  for (const Tiny t : kTinyFamilies) checkGraphGradients<RefKernels>(t, false);
}

TEST(train_model_gradients_finite_differences_qcfs) {
  for (const Tiny t : kTinyFamilies) checkGraphGradients<FrozenQcfsKernels>(t, true);
}

// The fast float trainer against the double graph, element by element for every parameter.
TEST(train_model_fast_gradients_match_reference) {
  for (const bool qcfs : {false, true}) {
    for (const Tiny t : kTinyFamilies) {
      const auto model = tinyModel(t);
      const QcfsSite site = siteFor(t, qcfs);
      RefModel<RefKernels> ref(*model, site);
      ThreadPool pool(1);
      const TinyBatch b = maskedBatch(ref.config);
      const LossSum refLoss = ref.graph.forward(pool, ref.params.data(), view(b), qcfs);
      ref.graph.backward(pool, ref.params.data(), ref.grads.data(), 1.0);

      TrainerOptions options;
      if (qcfs) options.qcfs = QcfsOptions{kLevels, kLambda, site.signedClip};
      Trainer trainer(*model, options);
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
