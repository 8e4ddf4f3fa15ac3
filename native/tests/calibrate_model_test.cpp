// Calibration on whole tiny models (native/src/calibrate/calibrator): the engine's site capture,
// the coarse and fine passes lowering each layer's align loss, and the teacher/student comparison.
#include <cmath>
#include <memory>
#include <vector>

#include "calibrate/calibrator.h"
#include "engine/runtime/forward.h"
#include "test.h"
#include "train_tiny_models.h"

using namespace fas;
using namespace fas::calibrate;
using namespace fas::test;

namespace {

constexpr int kT = 4;  // below L = 8, so even the first layer's neurons differ from QCFS

SpikingParams spikingFor(Tiny t) {
  SpikingParams p;
  p.levels = 8;
  p.signedSpikes = tinyConfig(t).activation == Activation::SiluGated;
  p.lambdas.assign(tinyConfig(t).numLayers, 1.5f);
  return p;
}

std::unique_ptr<Calibrator> calibratorFor(Tiny t, ThreadPool& pool) {
  auto cal = std::make_unique<Calibrator>(tinyModel(t), spikingFor(t), kT, pool);
  const TinyBatch data = tinyBatch(cal->model().config, 6, 10, 21);
  cal->setData(CalibrationSet{data.inputs, 6, 10, 2});
  return cal;
}

}  // namespace

TEST(calibrate_forward_captures_the_site_input_of_one_layer) {
  ThreadPool pool(2);
  std::unique_ptr<Model> m = tinyModel(Tiny::Gpt2);
  m->spiking = std::make_shared<const SpikingSite>(m->config, spikingFor(Tiny::Gpt2));
  const TinyBatch data = tinyBatch(m->config, 2, 5, 3);
  const int64_t f = m->config.ffnSize, rows = 2 * 5;
  FloatVector k(2 * kT * 5 * m->config.kvDim()), v(k.size());
  const std::vector<KvView> kv(m->config.numLayers, KvView{k.data(), v.data(), 5});
  const auto captured = [&](RunMode mode, int64_t layer) {
    std::vector<float> site(rows * mode.copies() * f);
    const SiteCapture cap{layer, site.data(), true};
    ForwardArgs a;
    a.ids = data.inputs.data();
    a.batch = 2;
    a.seqLen = 5;
    a.kv = kv.data();
    a.mode = mode;
    a.capture = &cap;
    forward(*m, pool, a, nullptr);
    return site;
  };
  // The first layer's input is the same at every timestep (direct coding), and the teacher's, up to
  // float rounding: the student's T x 10 rows go through the GEMM, the teacher's 10 through dot products.
  const std::vector<float> teacher = captured(RunMode{FfnMode::Qcfs, 1}, 0);
  const std::vector<float> student = captured(RunMode{FfnMode::Snn, kT}, 0);
  for (int64_t b = 0; b < 2; ++b) {
    for (int t = 0; t < kT; ++t) {
      for (int64_t e = 0; e < 5 * f; ++e) CHECK_NEAR(student[(b * kT + t) * 5 * f + e], teacher[b * 5 * f + e], 1e-5);
    }
  }
  // The second layer's differs over time: the spikes of the first layer are not QCFS's values.
  const std::vector<float> later = captured(RunMode{FfnMode::Snn, kT}, 1);
  double change = 0.0;
  for (int64_t e = 0; e < 5 * f; ++e) change += std::fabs(later[e] - later[5 * f + e]);
  CHECK(change > 1e-3);
}

TEST(calibrate_coarse_then_fine_lowers_the_align_loss_of_every_layer) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::LlamaGqaTied}) {
    ThreadPool pool(2);
    std::unique_ptr<Calibrator> cal = calibratorFor(t, pool);
    for (int64_t l = 0; l < cal->model().config.numLayers; ++l) {
      const double before = cal->alignLoss(l);
      const CoarseResult coarse = cal->coarse(l);
      CHECK_NEAR(coarse.startLoss, before, 1e-9 * before);
      CHECK(coarse.loss <= before);  // the start is a candidate
      CHECK_NEAR(cal->alignLoss(l), coarse.loss, 1e-9 * coarse.loss);
      CHECK(cal->neurons(l).threshold.size() == 1);

      AdamHyper h;
      h.lr = 0.01f;
      cal->startFine(l, 0, h);
      FineEpoch epoch;
      for (int e = 0; e < 8; ++e) epoch = cal->fineEpoch(l);
      CHECK(cal->neurons(l).threshold.size() == static_cast<size_t>(cal->model().config.ffnSize));
      CHECK_NEAR(cal->alignLoss(l), epoch.loss, 1e-9 * epoch.loss);
      CHECK(epoch.loss < coarse.loss);
    }
  }
}

// The paper preset's coarse step: no search, the reference code's theta = 0.6 lambda, v0 = 0.2 theta,
// with the same losses of both starting points as the search reports.
TEST(calibrate_coarse_reference_start_sets_the_reference_codes_values) {
  ThreadPool pool(2);
  std::unique_ptr<Calibrator> searched = calibratorFor(Tiny::Gpt2, pool);
  std::unique_ptr<Calibrator> fixed = calibratorFor(Tiny::Gpt2, pool);
  const float lambda = spikingFor(Tiny::Gpt2).lambdas[0];
  const CoarseResult s = searched->coarse(0);
  const CoarseResult r = fixed->coarse(0, CoarseChoice::ReferenceStart);
  CHECK(r.candidates == 2);
  CHECK_NEAR(r.best.theta, 0.6f * lambda, 1e-6);
  CHECK_NEAR(r.best.v0, 0.2f * 0.6f * lambda, 1e-6);
  CHECK_NEAR(r.startLoss, s.startLoss, 1e-9 * s.startLoss);
  CHECK_NEAR(r.referenceLoss, s.referenceLoss, 1e-9 * s.referenceLoss);
  CHECK_NEAR(r.loss, r.referenceLoss, 0.0);
  const NeuronValues& v = fixed->neurons(0);
  CHECK(v.threshold.size() == 1 && v.threshold[0] == r.best.theta && v.v0[0] == r.best.v0);
  CHECK_NEAR(fixed->alignLoss(0), r.loss, 1e-9 * r.loss);
}

TEST(calibrate_fine_per_position_keeps_the_stored_layout) {
  ThreadPool pool(2);
  std::unique_ptr<Calibrator> cal = calibratorFor(Tiny::Gpt2, pool);
  cal->coarse(0);
  const double coarse = cal->alignLoss(0);
  AdamHyper h;
  h.lr = 0.01f;
  cal->startFine(0, 6, h);  // positions 6.. of the 10-token sequences share the last row
  for (int epoch = 0; epoch < 6; ++epoch) cal->fineEpoch(0);
  const NeuronValues& v = cal->neurons(0);
  CHECK(v.positions == 6);
  CHECK(v.threshold.size() == static_cast<size_t>(6 * cal->model().config.ffnSize));
  CHECK(cal->alignLoss(0) < coarse);
}

TEST(calibrate_evaluate_compares_teacher_and_student_logits) {
  ThreadPool pool(2);
  std::unique_ptr<Calibrator> cal = calibratorFor(Tiny::Gpt2, pool);
  const TinyBatch held = tinyBatch(cal->model().config, 3, 10, 99);
  const LogitsComparison before = cal->evaluate(held.inputs.data(), held.targets.data(), 3, 10);
  CHECK(before.tokens == 30);
  CHECK(before.kl > 0.0);
  // The teacher's NLL is that of the model's own qcfs logits.
  const std::vector<float> logits =
      forwardSequences(cal->model(), pool, held.inputs.data(), 3, 10, false, RunMode{FfnMode::Qcfs, 1});
  const int64_t vocab = cal->model().config.vocabSize;
  double nll = 0.0;
  for (int64_t r = 0; r < 30; ++r) {
    double max = -1e30, sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v) max = std::max(max, double(logits[r * vocab + v]));
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(logits[r * vocab + v] - max);
    nll += max + std::log(sum) - logits[r * vocab + held.targets[r]];
  }
  CHECK_NEAR(before.teacherNll, nll, 1e-6 * nll);
  // Calibrating every layer brings the student's logits closer to the teacher's.
  for (int64_t l = 0; l < 2; ++l) cal->coarse(l);
  const LogitsComparison after = cal->evaluate(held.inputs.data(), held.targets.data(), 3, 10);
  CHECK_NEAR(after.teacherNll, before.teacherNll, 1e-9 * nll);
  CHECK(after.kl < before.kl);
}

TEST(calibrate_refuses_bad_values_and_stops_when_aborted) {
  ThreadPool pool(2);
  std::unique_ptr<Calibrator> cal = calibratorFor(Tiny::Gpt2, pool);
  bool threw = false;
  try {
    cal->setNeurons(0, NeuronValues{{-1.0f}, {0.0f}, 0});
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(cal->neurons(0).threshold[0] == 1.5f);  // the old values stay
  cal->abortFlag() = true;
  threw = false;
  try {
    cal->alignLoss(1);
  } catch (const Aborted&) {
    threw = true;
  }
  CHECK(threw);
}
