// The joint pass of stage 2 (native/src/calibrate/joint_pass): the training graph in spiking mode
// against the engine's snn mode, its surrogate gradient against the per-layer align pass, the KL
// gradient against finite differences, and the pass lowering the logits' KL on tiny models.
#include <cmath>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "calibrate/align_loss.h"
#include "calibrate/calibrator.h"
#include "calibrate/compare_logits.h"
#include "calibrate/neuron_view.h"
#include "engine/runtime/forward.h"
#include "test.h"
#include "train/model/kernels.h"
#include "train/model/transformer.h"
#include "train_tiny_models.h"

using namespace fas;
using namespace fas::calibrate;
using namespace fas::test;

namespace {

constexpr int kT = 4;
constexpr float kLambda = 1.5f;

bool isSigned(Tiny t) { return tinyConfig(t).activation == Activation::SiluGated; }

SpikingParams spikingFor(Tiny t) {
  SpikingParams p;
  p.levels = 8;
  p.signedSpikes = isSigned(t);
  p.lambdas.assign(tinyConfig(t).numLayers, kLambda);
  return p;
}

// Per-neuron values scattered around the uncalibrated ones.
std::vector<NeuronValues> randomNeurons(const ModelConfig& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> around(0.7f, 1.3f), start(0.3f, 0.7f);
  std::vector<NeuronValues> out(c.numLayers);
  for (NeuronValues& v : out) {
    for (int64_t i = 0; i < c.ffnSize; ++i) {
      v.threshold.push_back(kLambda * around(rng));
      v.v0.push_back(v.threshold.back() * start(rng));
    }
  }
  return out;
}

// The training graph of a tiny model with its frozen weights and lambdas.
struct Graph {
  train::ParamLayout layout;
  std::vector<float> weights;
  train::Transformer<train::FastKernels> graph;

  Graph(const Model& m, Tiny t)
      : layout(m.config, train::tensorNames(m), train::QcfsSite{true, 8, isSigned(t)}),
        weights(train::flatWeights(m, layout)),
        graph(m.config, layout.offsets(), train::QcfsSite{true, 8, isSigned(t)}) {
    for (const train::LayerOffsets& o : layout.offsets().layers) weights[o.lambda] = kLambda;
  }
};

// IF layers viewing `values`, with gradient buffers in `dTheta`, `dV0` (zeroed).
train::IfSite siteOf(const std::vector<NeuronValues>& values, bool signedSpikes, int64_t n,
                     std::vector<std::vector<float>>& dTheta, std::vector<std::vector<float>>& dV0) {
  train::IfSite site;
  site.timesteps = kT;
  dTheta.assign(values.size(), std::vector<float>(n, 0.0f));
  dV0 = dTheta;
  for (size_t l = 0; l < values.size(); ++l) {
    site.layers.push_back(
        {neuronView(values[l], signedSpikes), gradView(dTheta[l], values[l], n), gradView(dV0[l], values[l], n)});
  }
  return site;
}

}  // namespace

TEST(calibrate_spiking_graph_matches_the_engine_snn_logits) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::OptPostLn, Tiny::LlamaGqaTied}) {
    ThreadPool pool(2);
    std::unique_ptr<Model> m = tinyModel(t);
    SpikingParams params = spikingFor(t);
    params.neurons = randomNeurons(m->config, 3);
    m->spiking = std::make_shared<const SpikingSite>(m->config, params);
    const TinyBatch data = tinyBatch(m->config, 2, 7, 5);
    const std::vector<float> engine =
        forwardSequences(*m, pool, data.inputs.data(), 2, 7, false, RunMode{FfnMode::Snn, kT});

    Graph g(*m, t);
    std::vector<std::vector<float>> dTheta, dV0;
    const train::IfSite site = siteOf(params.neurons, params.signedSpikes, m->config.ffnSize, dTheta, dV0);
    g.graph.forwardSpiking(pool, g.weights.data(), {data.inputs.data(), data.targets.data(), nullptr, 2, 7}, site);
    const float* logits = g.graph.logits();
    double scale = 0.0, error = 0.0;
    for (size_t i = 0; i < engine.size(); ++i) {
      scale = std::max(scale, double(std::fabs(engine[i])));
      error = std::max(error, double(std::fabs(engine[i] - logits[i])));
    }
    CHECK(scale > 0.1);
    CHECK(error < 1e-4 * scale);
  }
}

// With the align loss on the last layer only and no gradient from the logits, the graph's gradient
// of that layer's neurons is the per-layer fine pass's, on the site input the engine captures.
TEST(calibrate_spiking_graph_align_gradient_matches_the_layer_pass) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::LlamaGqaTied}) {
    ThreadPool pool(2);
    std::unique_ptr<Model> m = tinyModel(t);
    const ModelConfig& c = m->config;
    const int64_t last = c.numLayers - 1, n = c.ffnSize, seqs = 2, seqLen = 6;
    SpikingParams params = spikingFor(t);
    params.neurons = randomNeurons(c, 9);
    m->spiking = std::make_shared<const SpikingSite>(c, params);
    const TinyBatch data = tinyBatch(c, seqs, seqLen, 4);

    SiteBatch b;
    b.sequences = seqs;
    b.seqLen = seqLen;
    b.n = n;
    b.T = kT;
    b.input.resize(seqs * kT * seqLen * n);
    b.target.resize(seqs * seqLen * n);
    std::mt19937 rng(8);
    std::uniform_real_distribution<float> target(0.0f, kLambda);
    for (float& x : b.target) x = target(rng);
    FloatVector k(seqs * kT * seqLen * c.kvDim()), v(k.size());
    const std::vector<KvView> kv(c.numLayers, KvView{k.data(), v.data(), seqLen});
    const SiteCapture cap{last, b.input.data(), true};
    ForwardArgs a;
    a.ids = data.inputs.data();
    a.batch = seqs;
    a.seqLen = seqLen;
    a.kv = kv.data();
    a.mode = RunMode{FfnMode::Snn, kT};
    a.capture = &cap;
    forward(*m, pool, a, nullptr);
    const float kScale = 0.5f;
    std::vector<float> eTheta(n, 0.0f), eV0(n, 0.0f);
    const spiking::IfNeuron neuron = neuronView(params.neurons[last], params.signedSpikes);
    const double sse = alignSseBackward(pool, b, neuron, gradView(eTheta, params.neurons[last], n),
                                        gradView(eV0, params.neurons[last], n), kScale);

    Graph g(*m, t);
    std::vector<std::vector<float>> dTheta, dV0;
    train::IfSite site = siteOf(params.neurons, params.signedSpikes, n, dTheta, dV0);
    site.layers[last].alignTarget = b.target.data();
    site.layers[last].alignScale = kScale;
    g.graph.forwardSpiking(pool, g.weights.data(), {data.inputs.data(), data.targets.data(), nullptr, seqs, seqLen},
                           site);
    CHECK_NEAR(g.graph.alignSse()[last], sse, 1e-4 * sse);
    std::fill(g.graph.logits(), g.graph.logits() + seqs * seqLen * c.vocabSize, 0.0f);
    g.graph.backwardFromLogits(pool, g.weights.data(), nullptr);
    for (int64_t i = 0; i < n; ++i) {
      CHECK_NEAR(dTheta[last][i], eTheta[i], 1e-4 * (1.0 + std::fabs(eTheta[i])));
      CHECK_NEAR(dV0[last][i], eV0[i], 1e-4 * (1.0 + std::fabs(eV0[i])));
    }
  }
}

TEST(calibrate_kl_gradient_matches_finite_differences) {
  ThreadPool pool(2);
  const int64_t rows = 3, vocab = 7;
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<float> teacher(rows * vocab), student(rows * vocab);
  for (float& x : teacher) x = 2.0f * normal(rng);
  for (float& x : student) x = 2.0f * normal(rng);
  const std::vector<int32_t> targets(rows, 0);
  const auto kl = [&](const std::vector<float>& s) {
    return compareLogits(pool, teacher.data(), s.data(), targets.data(), rows, vocab).kl;
  };
  std::vector<float> grad = student;
  const double sum = klBackward(pool, teacher.data(), grad.data(), rows, vocab, 0.5f);
  CHECK_NEAR(sum, kl(student), 1e-9 * sum);
  const float eps = 1e-2f;
  for (int64_t i = 0; i < rows * vocab; ++i) {
    std::vector<float> plus = student, minus = student;
    plus[i] += eps;
    minus[i] -= eps;
    const double fd = 0.5 * (kl(plus) - kl(minus)) / (2.0 * eps);
    CHECK_NEAR(grad[i], fd, 1e-3 * (1.0 + std::fabs(fd)));
  }
}

// batchmean (the FAS reference code): the KL summed over each sequence's positions, the mean over
// sequences. Its gradient w.r.t. the student's logits against a plain double-precision reference,
// (softmax(s) - softmax(t)) / sequences; the per-position mean divides by every position instead.
TEST(calibrate_kl_batchmean_gradient_matches_a_plain_reference) {
  ThreadPool pool(2);
  const int64_t sequences = 3, seqLen = 4, rows = sequences * seqLen, vocab = 9;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> teacher(rows * vocab), student(rows * vocab);
  for (float& x : teacher) x = 2.0f * normal(rng);
  for (float& x : student) x = 2.0f * normal(rng);
  const auto softmax = [&](const float* row, int64_t v) {
    double max = row[0], sum = 0.0;
    for (int64_t i = 1; i < vocab; ++i) max = std::max(max, double(row[i]));
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(row[i]) - max);
    return std::exp(double(row[v]) - max) / sum;
  };
  double plainKl = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t v = 0; v < vocab; ++v) {
      const double p = softmax(&teacher[r * vocab], v), q = softmax(&student[r * vocab], v);
      plainKl += p * (std::log(p) - std::log(q));
    }
  }
  CHECK_NEAR(klLossScale(KlReduction::BatchMean, sequences, seqLen), 1.0 / sequences, 1e-7);
  CHECK_NEAR(klLossScale(KlReduction::PerPosition, sequences, seqLen), 1.0 / rows, 1e-7);
  std::vector<float> grad = student;
  const double sum = klBackward(pool, teacher.data(), grad.data(), rows, vocab,
                                klLossScale(KlReduction::BatchMean, sequences, seqLen));
  CHECK_NEAR(sum, plainKl, 1e-9 * plainKl);
  CHECK_NEAR(sum / sequences, plainKl / sequences, 1e-9 * plainKl);  // the batchmean loss
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t v = 0; v < vocab; ++v) {
      const double plain = (softmax(&student[r * vocab], v) - softmax(&teacher[r * vocab], v)) / double(sequences);
      CHECK_NEAR(grad[r * vocab + v], plain, 1e-6);
    }
  }
}

// Through the spiking network: with no align term, batchmean's gradient of every threshold and
// initial potential is seqLen times the per-position mean's; the align term adds the same under both.
TEST(calibrate_joint_pass_batchmean_reaches_the_neuron_gradients) {
  ThreadPool pool(2);
  std::unique_ptr<Model> m = tinyModel(Tiny::Gpt2);
  SpikingParams params = spikingFor(Tiny::Gpt2);
  params.neurons = randomNeurons(m->config, 4);
  const int64_t seqs = 2, seqLen = 6;
  const TinyBatch data = tinyBatch(m->config, seqs, seqLen, 7);
  const auto gradient = [&](KlReduction reduction, float alignWeight) {
    JointHyper h;
    h.klReduction = reduction;
    h.alignWeight = alignWeight;
    h.positions = seqLen;
    JointPass pass(*m, params, kT, h);
    return pass.gradient(pool, data.inputs.data(), seqs, seqLen);
  };
  const JointGradient mean = gradient(KlReduction::PerPosition, 0.0f);
  const JointGradient batch = gradient(KlReduction::BatchMean, 0.0f);
  const JointGradient meanAlign = gradient(KlReduction::PerPosition, 0.5f);
  const JointGradient batchAlign = gradient(KlReduction::BatchMean, 0.5f);
  CHECK_NEAR(batch.loss.kl, mean.loss.kl, 1e-9 * mean.loss.kl);  // the KL summed, before the reduction
  double scale = 0.0;
  for (size_t l = 0; l < mean.dTheta.size(); ++l) {
    CHECK(batch.dTheta[l].size() == static_cast<size_t>(seqLen * m->config.ffnSize));
    for (size_t i = 0; i < mean.dTheta[l].size(); ++i) {
      for (const auto& [b, mn, ba, ma] :
           {std::tuple{batch.dTheta[l][i], mean.dTheta[l][i], batchAlign.dTheta[l][i], meanAlign.dTheta[l][i]},
            std::tuple{batch.dV0[l][i], mean.dV0[l][i], batchAlign.dV0[l][i], meanAlign.dV0[l][i]}}) {
        scale = std::max(scale, double(std::fabs(b)));
        CHECK_NEAR(b, seqLen * mn, 1e-4 * (1e-3 + std::fabs(b)));
        CHECK_NEAR(ba - b, ma - mn, 1e-4 * (1e-3 + std::fabs(ba) + std::fabs(b)));
      }
    }
  }
  CHECK(scale > 1e-6);  // the gradients are not all zero
}

TEST(calibrate_joint_pass_lowers_the_logits_kl) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::LlamaGqaTied}) {
    ThreadPool pool(2);
    Calibrator cal(tinyModel(t), spikingFor(t), kT, pool);
    const TinyBatch data = tinyBatch(cal.model().config, 6, 10, 21);
    cal.setData(CalibrationSet{data.inputs, 6, 10, 2});
    const auto kl = [&] { return cal.evaluate(data.inputs.data(), data.targets.data(), 6, 10).kl; };
    for (int64_t l = 0; l < cal.model().config.numLayers; ++l) cal.coarse(l);
    const double before = kl();
    JointHyper h;
    h.adam.lr = 0.02f;
    h.alignWeight = 0.1f;
    cal.startJoint(h);
    JointEpoch first = cal.jointEpoch(), last = first;
    for (int e = 1; e < 10; ++e) last = cal.jointEpoch();
    CHECK(std::isfinite(first.kl) && first.align > 0.0);
    CHECK(last.kl < first.kl);
    CHECK(kl() < 0.9 * before);
    CHECK(cal.neurons(0).threshold.size() == static_cast<size_t>(cal.model().config.ffnSize));
  }
}

TEST(calibrate_joint_pass_per_position_keeps_the_stored_layout) {
  ThreadPool pool(2);
  Calibrator cal(tinyModel(Tiny::Gpt2), spikingFor(Tiny::Gpt2), kT, pool);
  const TinyBatch data = tinyBatch(cal.model().config, 4, 10, 21);
  cal.setData(CalibrationSet{data.inputs, 4, 10, 2});
  JointHyper h;
  h.positions = 6;
  cal.startJoint(h);
  cal.jointEpoch();
  const int64_t n = cal.model().config.ffnSize;
  for (int64_t l = 0; l < cal.model().config.numLayers; ++l) {
    CHECK(cal.neurons(l).positions == 6);
    CHECK(cal.neurons(l).threshold.size() == static_cast<size_t>(6 * n));
  }
  // Values stored for 6 positions cannot be spread to another count.
  h.positions = 4;
  bool threw = false;
  try {
    cal.startJoint(h);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(calibrate_spiking_graph_refuses_per_layer_gradient_buffers) {
  ThreadPool pool(1);
  std::unique_ptr<Model> m = tinyModel(Tiny::Gpt2);
  Graph g(*m, Tiny::Gpt2);
  const float theta = kLambda, v0 = kLambda / 2;
  float dTheta = 0, dV0 = 0;
  train::IfSite site;
  site.timesteps = kT;
  for (int64_t l = 0; l < m->config.numLayers; ++l) {
    site.layers.push_back({spiking::IfNeuron{spiking::layerParam(&theta), spiking::layerParam(&v0), false},
                           spiking::layerGrad(&dTheta), spiking::layerGrad(&dV0)});
  }
  const TinyBatch data = tinyBatch(m->config, 1, 4, 1);
  bool threw = false;
  try {
    g.graph.forwardSpiking(pool, g.weights.data(), {data.inputs.data(), data.targets.data(), nullptr, 1, 4}, site);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}
