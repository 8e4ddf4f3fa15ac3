// The Trainer: AdamW by hand, parameter groups, clipping, gradient accumulation, non-finite losses,
// optimizer state round trips, thread-count independence, evaluation modes and input checks.
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "test.h"
#include "train/optim/adamw.h"
#include "train/trainer.h"
#include "train_tiny_models.h"

using namespace fas;
using namespace fas::train;
using namespace fas::test;

namespace {

TokenBatch view(const TinyBatch& b) {
  return TokenBatch{b.inputs.data(), b.targets.data(), b.mask.data(), b.batch, b.seqLen};
}

StepHyper hyper(double clipNorm = 0.0) { return StepHyper{1e-2, 2e-2, 5e-2, 0.1, 0.9, 0.999, 1e-8, clipNorm}; }

TrainerOptions withQcfs(int threads = 0) {
  TrainerOptions o;
  o.qcfs = QcfsOptions{8, 1.0f, false};
  o.threads = threads;
  return o;
}

// Every parameter, concatenated in layout order.
std::vector<float> allParams(const Trainer& t) {
  std::vector<float> out;
  for (const ParamInfo& p : t.parameters()) {
    const std::vector<float> v = t.tensor(p.name);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

template <typename F>
bool throwsInvalid(F f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

}  // namespace

TEST(train_adamw_update_matches_hand_computation) {
  ThreadPool pool(2);
  std::vector<float> p = {1.0f, -2.0f, 0.5f}, m(3), v(3);
  const std::vector<float> g1 = {0.2f, -0.4f, 0.6f}, g2 = {-0.1f, 0.3f, 0.0f};
  const AdamWHyper h{0.01, 0.1, 0.9, 0.99, 1e-8};
  // The gradient arrives summed over 2 tokens: gradScale 0.5.
  adamw_update(pool, p.data(), g1.data(), m.data(), v.data(), 3, 0.5f, h, 1);
  adamw_update(pool, p.data(), g2.data(), m.data(), v.data(), 3, 0.5f, h, 2);
  for (int i = 0; i < 3; ++i) {
    double pe = i == 0 ? 1.0 : i == 1 ? -2.0 : 0.5, me = 0, ve = 0;
    const double grads[2] = {0.5 * g1[i], 0.5 * g2[i]};
    for (int t = 1; t <= 2; ++t) {
      const double g = grads[t - 1];
      pe *= 1 - 0.01 * 0.1;
      me = 0.9 * me + 0.1 * g;
      ve = 0.99 * ve + 0.01 * g * g;
      pe -= 0.01 * (me / (1 - std::pow(0.9, t))) / (std::sqrt(ve / (1 - std::pow(0.99, t))) + 1e-8);
    }
    CHECK_NEAR(p[i], pe, 1e-6);
    CHECK_NEAR(m[i], me, 1e-7);
    CHECK_NEAR(v[i], ve, 1e-8);
  }
}

// First step: m/bc1 = g and sqrt(v/bc2) = |g|, so p -= lr g / (|g| + eps), after p *= 1 - lr wd for
// the decay group only; each group with its own learning rate.
TEST(train_trainer_step_uses_group_learning_rates_and_decay) {
  const auto model = tinyModel(Tiny::Gpt2);
  Trainer trainer(*model, withQcfs());
  const TinyBatch b = tinyBatch(model->config, 2, 6, 3);
  const LossSum loss = trainer.forwardBackward(view(b));
  CHECK(loss.tokens == 12);
  const char* names[] = {"layers.0.ffn.up.weight", "layers.1.attn_norm.bias", "layers.1.qcfs.lambda"};
  std::vector<std::vector<float>> before, grads;
  for (const char* name : names) {
    before.push_back(trainer.tensor(name));
    grads.push_back(trainer.gradient(name));
  }
  const StepHyper h = hyper();
  const StepResult r = trainer.optimizerStep(h);
  CHECK(r.applied);
  const double lr[] = {h.lrDecay, h.lrNoDecay, h.lrThreshold};
  const double decay[] = {h.weightDecay, 0.0, 0.0};
  for (int k = 0; k < 3; ++k) {
    const std::vector<float> after = trainer.tensor(names[k]);
    for (size_t i = 0; i < after.size(); ++i) {
      const double g = grads[k][i] / 12.0;
      const double expected = before[k][i] * (1 - lr[k] * decay[k]) - lr[k] * g / (std::fabs(g) + h.eps);
      CHECK_NEAR(after[i], expected, 1e-6);
    }
    // Gradients are zeroed after the step.
    for (const float g : trainer.gradient(names[k])) CHECK(g == 0.0f);
  }
  CHECK(trainer.optimizerState().step == 1);
}

TEST(train_trainer_clips_the_global_norm) {
  const auto model = tinyModel(Tiny::LlamaGqaTied);
  Trainer trainer(*model, TrainerOptions{});
  const TinyBatch b = tinyBatch(model->config, 1, 8, 4);
  trainer.forwardBackward(view(b));
  double sumSq = 0;
  std::vector<std::vector<float>> grads;
  for (const ParamInfo& p : trainer.parameters()) {
    grads.push_back(trainer.gradient(p.name));
    for (const float g : grads.back()) sumSq += (g / 8.0) * (g / 8.0);
  }
  const double norm = std::sqrt(sumSq), clipNorm = 0.25 * norm;
  const StepResult r = trainer.optimizerStep(hyper(clipNorm));
  CHECK(r.applied);
  CHECK_NEAR(r.gradNorm, norm, 1e-6 * norm);
  // m = (1 - beta1) * the clipped gradient.
  const OptimizerState s = trainer.optimizerState();
  const double clip = clipNorm / (norm + 1e-6);
  size_t k = 0;
  for (const ParamInfo& p : trainer.parameters()) {
    const std::vector<float>& m = s.m.at(p.name);
    for (size_t i = 0; i < m.size(); ++i) CHECK_NEAR(m[i], 0.1 * grads[k][i] / 8.0 * clip, 1e-7);
    ++k;
  }
}

TEST(train_trainer_accumulation_equals_one_big_batch) {
  const auto model = tinyModel(Tiny::OptPostLn);
  const TinyBatch both = tinyBatch(model->config, 2, 7, 5);
  TinyBatch first = both, second = both;
  for (TinyBatch* half : {&first, &second}) {
    const size_t from = half == &first ? 0 : 7;
    half->inputs.assign(both.inputs.begin() + from, both.inputs.begin() + from + 7);
    half->targets.assign(both.targets.begin() + from, both.targets.begin() + from + 7);
    half->mask.assign(7, 1);
    half->batch = 1;
  }
  first.mask[2] = 0;  // uneven token counts: the step must average over tokens, not micro-batches
  TinyBatch bothMasked = both;
  bothMasked.mask[2] = 0;

  Trainer split(*model, TrainerOptions{}), whole(*model, TrainerOptions{});
  const LossSum a = split.forwardBackward(view(first));
  const LossSum c = split.forwardBackward(view(second));
  const LossSum all = whole.forwardBackward(view(bothMasked));
  CHECK(a.tokens == 6 && c.tokens == 7 && all.tokens == 13);
  CHECK_NEAR(a.sum + c.sum, all.sum, 1e-5 * all.sum);
  const StepResult rs = split.optimizerStep(hyper(1.0));
  const StepResult rw = whole.optimizerStep(hyper(1.0));
  CHECK_NEAR(rs.gradNorm, rw.gradNorm, 1e-5 * rw.gradNorm);
  const std::vector<float> ps = allParams(split), pw = allParams(whole);
  for (size_t i = 0; i < ps.size(); ++i) CHECK_NEAR(ps[i], pw[i], 1e-5);
}

TEST(train_trainer_reports_a_nan_loss_and_skips_the_step) {
  const auto model = tinyModel(Tiny::Gpt2);
  Trainer trainer(*model, TrainerOptions{});
  const TinyBatch b = tinyBatch(model->config, 1, 6, 6);
  std::vector<float> w = trainer.tensor("layers.0.ffn.up.weight");
  const float saved = w[3];
  w[3] = std::numeric_limits<float>::quiet_NaN();
  trainer.setTensor("layers.0.ffn.up.weight", w.data(), static_cast<int64_t>(w.size()));
  const std::vector<float> before = allParams(trainer);

  const LossSum loss = trainer.forwardBackward(view(b));
  CHECK(std::isnan(loss.sum));
  const StepResult r = trainer.optimizerStep(hyper());
  CHECK(!r.applied);
  CHECK(std::isnan(r.gradNorm));
  const std::vector<float> after = allParams(trainer);
  CHECK(before.size() == after.size());
  for (size_t i = 0; i < before.size(); ++i) CHECK(std::memcmp(&before[i], &after[i], sizeof(float)) == 0);
  CHECK(trainer.optimizerState().step == 0);

  // Once the weight is repaired, training goes on.
  w[3] = saved;
  trainer.setTensor("layers.0.ffn.up.weight", w.data(), static_cast<int64_t>(w.size()));
  CHECK(std::isfinite(trainer.forwardBackward(view(b)).sum));
  CHECK(trainer.optimizerStep(hyper()).applied);
}

TEST(train_trainer_loss_falls_on_a_repeated_batch) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::LlamaGqaTied}) {
    const auto model = tinyModel(t);
    TrainerOptions options = withQcfs();
    options.qcfs->signedClip = t == Tiny::LlamaGqaTied;
    Trainer trainer(*model, options);
    const TinyBatch b = tinyBatch(model->config, 2, 8, 7);
    double first = 0, last = 0;
    for (int step = 0; step < 8; ++step) {
      const LossSum loss = trainer.forwardBackward(view(b));
      (step == 0 ? first : last) = loss.sum / loss.tokens;
      CHECK(trainer.optimizerStep(hyper(1.0)).applied);
    }
    CHECK(last < 0.75 * first);
  }
}

TEST(train_trainer_lambdas_stay_positive) {
  const auto model = tinyModel(Tiny::OptPreLn);
  Trainer trainer(*model, withQcfs());
  const TinyBatch b = tinyBatch(model->config, 2, 8, 8);
  trainer.forwardBackward(view(b));
  std::vector<float> grads;
  for (int l = 0; l < 2; ++l) grads.push_back(trainer.gradient(lambdaName(l))[0]);
  StepHyper h = hyper();
  h.lrThreshold = 10.0;  // a step far larger than lambda: downhill it would cross zero
  trainer.optimizerStep(h);
  for (int l = 0; l < 2; ++l) {
    const float lambda = trainer.tensor(lambdaName(l))[0];
    CHECK(lambda >= kMinLambda);
    const double unclamped = 1.0 - 10.0 * (grads[l] > 0 ? 1.0 : -1.0);
    CHECK_NEAR(lambda, std::max<double>(unclamped, kMinLambda), 1e-5);
  }
}

// Scope all: every channel of every site's lambda is clamped, each by itself; a bad value anywhere
// in a threshold vector is refused.
TEST(train_trainer_every_site_lambdas_stay_positive_per_channel) {
  const auto model = tinyModel(Tiny::Gpt2);
  TrainerOptions options = withQcfs();
  options.qcfs->everySite = true;
  options.qcfs->perNeuronFfn = true;
  Trainer trainer(*model, options);
  const TinyBatch b = tinyBatch(model->config, 2, 8, 8);
  trainer.forwardBackward(view(b));
  const std::string name = siteLambdaName(1, Site::AttnIn);
  const std::vector<float> grad = trainer.gradient(name);
  StepHyper h = hyper();
  h.lrThreshold = 10.0;  // a step far larger than lambda: downhill it would cross zero
  trainer.optimizerStep(h);
  const std::vector<float> lambda = trainer.tensor(name);
  CHECK(lambda.size() == static_cast<size_t>(model->config.hiddenSize));
  int clamped = 0, moved = 0;
  for (size_t c = 0; c < lambda.size(); ++c) {
    if (grad[c] == 0.0f) continue;
    const double unclamped = 1.0 - 10.0 * (grad[c] > 0 ? 1.0 : -1.0);
    CHECK_NEAR(lambda[c], std::max<double>(unclamped, kMinLambda), 2e-3);  // AdamW: 10 * g / (|g| + eps)
    (unclamped < kMinLambda ? clamped : moved) += 1;
  }
  CHECK(clamped > 0 && moved > 0);
  std::vector<float> bad(lambda.size(), 1.0f);
  bad.back() = 0.0f;
  CHECK(throwsInvalid([&] { trainer.setTensor(name, bad.data(), static_cast<int64_t>(bad.size())); }));
}

// Save after 3 steps, run 2 more; a fresh trainer loaded with the saved parameters and optimizer
// state must reach the same bits.
TEST(train_trainer_optimizer_state_round_trip_continues_bit_exactly) {
  const auto model = tinyModel(Tiny::LlamaUntiedBiased);
  const TinyBatch b = tinyBatch(model->config, 2, 6, 9);
  TrainerOptions options = withQcfs();
  options.qcfs->signedClip = true;
  Trainer a(*model, options);
  for (int i = 0; i < 3; ++i) {
    a.forwardBackward(view(b));
    a.optimizerStep(hyper(1.0));
  }
  const OptimizerState saved = a.optimizerState();
  std::vector<std::vector<float>> params;
  for (const ParamInfo& p : a.parameters()) params.push_back(a.tensor(p.name));
  for (int i = 0; i < 2; ++i) {
    a.forwardBackward(view(b));
    a.optimizerStep(hyper(1.0));
  }

  Trainer c(*model, options);
  size_t k = 0;
  for (const ParamInfo& p : c.parameters()) {
    c.setTensor(p.name, params[k].data(), static_cast<int64_t>(params[k].size()));
    ++k;
  }
  c.setOptimizerState(saved);
  CHECK(c.optimizerState().step == 3);
  for (int i = 0; i < 2; ++i) {
    c.forwardBackward(view(b));
    c.optimizerStep(hyper(1.0));
  }
  CHECK(allParams(a) == allParams(c));
  const OptimizerState sa = a.optimizerState(), sc = c.optimizerState();
  CHECK(sa.step == 5 && sc.step == 5);
  CHECK(sa.m == sc.m && sa.v == sc.v);

  // An incomplete state is refused and changes nothing.
  OptimizerState partial = saved;
  partial.m.erase("embed.tokens");
  CHECK(throwsInvalid([&] { c.setOptimizerState(partial); }));
  CHECK(c.optimizerState().step == 5);
}

TEST(train_trainer_same_bits_for_any_thread_count) {
  for (const Tiny t : {Tiny::Gpt2, Tiny::LlamaGqaTied}) {
    const auto model = tinyModel(t);
    // Long enough rows that every kernel really splits its work.
    const TinyBatch b = tinyBatch(model->config, 3, 12, 10);
    Trainer one(*model, withQcfs(1)), two(*model, withQcfs(2));
    CHECK(one.threads() == 1 && two.threads() == 2);
    for (int i = 0; i < 3; ++i) {
      const LossSum l1 = one.forwardBackward(view(b)), l2 = two.forwardBackward(view(b));
      CHECK(l1.sum == l2.sum);
      const StepResult r1 = one.optimizerStep(hyper(1.0)), r2 = two.optimizerStep(hyper(1.0));
      CHECK(r1.gradNorm == r2.gradNorm);
    }
    CHECK(allParams(one) == allParams(two));
  }
}

TEST(train_trainer_evaluates_ann_and_qcfs) {
  const auto model = tinyModel(Tiny::Gpt2);
  const TinyBatch b = tinyBatch(model->config, 2, 8, 11);
  Trainer plain(*model, TrainerOptions{}), staged(*model, withQcfs());
  const LossSum ann = staged.evaluate(view(b), EvalMode::Ann), qcfs = staged.evaluate(view(b), EvalMode::Qcfs);
  CHECK(ann.tokens == 16 && qcfs.tokens == 16);
  CHECK(ann.sum == plain.evaluate(view(b), EvalMode::Ann).sum);  // same weights, same activation
  CHECK(std::fabs(ann.sum - qcfs.sum) > 1e-3);
  CHECK(throwsInvalid([&] { plain.evaluate(view(b), EvalMode::Qcfs); }));

  // Evaluating between forwardBackward and the step leaves the accumulated gradient alone.
  staged.forwardBackward(view(b));
  const std::vector<float> g = staged.gradient("layers.0.ffn.down.weight");
  staged.evaluate(view(tinyBatch(model->config, 1, 5, 12)), EvalMode::Ann);
  CHECK(staged.gradient("layers.0.ffn.down.weight") == g);
}

TEST(train_trainer_rejects_bad_input) {
  const auto model = tinyModel(Tiny::OptPreLn);
  Trainer trainer(*model, withQcfs());
  TinyBatch b = tinyBatch(model->config, 1, 6, 13);
  // No gradient yet.
  try {
    trainer.optimizerStep(hyper());
    CHECK(false);
  } catch (const std::logic_error&) {
  }
  b.inputs[2] = static_cast<int32_t>(model->config.vocabSize);
  CHECK(throwsInvalid([&] { trainer.forwardBackward(view(b)); }));
  b.inputs[2] = 0;
  b.targets[4] = -1;
  CHECK(throwsInvalid([&] { trainer.forwardBackward(view(b)); }));
  b.mask[4] = 0;  // a target that does not count is never read
  CHECK(trainer.forwardBackward(view(b)).tokens == 5);
  const TinyBatch tooLong = tinyBatch(model->config, 1, model->config.maxPositions + 1, 14);
  CHECK(throwsInvalid([&] { trainer.evaluate(view(tooLong), EvalMode::Ann); }));
  const float bad = 0.0f;
  CHECK(throwsInvalid([&] { trainer.setTensor(lambdaName(0), &bad, 1); }));
  CHECK(throwsInvalid([&] { trainer.setTensor("layers.0.ffn.up.bias", &bad, 1); }));
  CHECK(throwsInvalid([&] { trainer.tensor("no.such.tensor"); }));
  StepHyper h = hyper();
  h.beta1 = 1.0;
  CHECK(throwsInvalid([&] { trainer.optimizerStep(h); }));
}
