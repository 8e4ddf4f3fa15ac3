#include "train/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <thread>

#include "train/optim/adamw.h"

namespace fas::train {

namespace {

int threadCount(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

QcfsSite siteOf(const TrainerOptions& options) {
  if (!options.qcfs) return QcfsSite{};
  const QcfsOptions& q = *options.qcfs;
  if (q.levels < 1 || q.levels > 1 << 16) throw std::invalid_argument("qcfs.levels must be from 1 to 65536");
  if (!(std::isfinite(q.initialLambda) && q.initialLambda >= kMinLambda)) {
    throw std::invalid_argument("qcfs.initialLambda must be a finite number >= " + std::to_string(kMinLambda));
  }
  return QcfsSite{true, q.levels, q.signedClip, q.everySite, q.everySite && q.perNeuronFfn};
}

void checkHyper(const StepHyper& h) {
  const auto require = [](bool ok, const char* message) {
    if (!ok) throw std::invalid_argument(message);
  };
  const auto nonNegative = [](double x) { return std::isfinite(x) && x >= 0; };
  require(nonNegative(h.lrDecay) && nonNegative(h.lrNoDecay) && nonNegative(h.lrThreshold),
          "learning rates must be finite numbers >= 0");
  require(nonNegative(h.weightDecay), "weightDecay must be a finite number >= 0");
  require(h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1, "beta1 and beta2 must be in [0, 1)");
  require(std::isfinite(h.eps) && h.eps > 0, "eps must be a finite number > 0");
  require(nonNegative(h.clipNorm), "clipNorm must be a finite number >= 0 (0: no clipping)");
}

}  // namespace

Trainer::Trainer(const Model& model, const TrainerOptions& options)
    : config_(model.config), layout_(model.config, tensorNames(model), siteOf(options)),
      pool_(threadCount(options.threads)), model_(model.config, layout_.offsets(), siteOf(options)),
      qcfs_(options.qcfs.has_value()) {
  params_ = flatWeights(model, layout_);
  for (const ParamInfo& p : layout_.params()) {
    if (p.group == ParamGroup::Threshold) std::fill_n(params_.begin() + p.offset, p.size, options.qcfs->initialLambda);
  }
  grads_.assign(layout_.total(), 0.0f);
  m_.assign(layout_.total(), 0.0f);
  v_.assign(layout_.total(), 0.0f);
}

LossSum Trainer::forwardBackward(const TokenBatch& batch) {
  const LossSum loss = model_.forward(pool_, params_.data(), batch, qcfs_);
  // The backward pass costs about twice the forward: a cancel need not wait for it.
  if (abort_) throw std::runtime_error("aborted");
  pendingTokens_ += loss.tokens;
  // A non-finite loss would only spread NaN through the gradients: skip its backward, refuse the step.
  if (!std::isfinite(loss.sum)) {
    pendingNonFinite_ = true;
    return loss;
  }
  model_.backward(pool_, params_.data(), grads_.data(), 1.0f);
  return loss;
}

StepResult Trainer::optimizerStep(const StepHyper& hyper) {
  checkHyper(hyper);
  if (pendingTokens_ == 0 && !pendingNonFinite_) {
    throw std::logic_error("optimizerStep needs gradients: run forwardBackward on a batch with counted targets first");
  }
  // The step's gradient is the mean over every counted target since the last step.
  const float scale = pendingTokens_ > 0 ? 1.0f / static_cast<float>(pendingTokens_) : 0.0f;
  const double norm = std::sqrt(sum_of_squares(pool_, grads_.data(), layout_.total())) * scale;
  if (pendingNonFinite_ || !std::isfinite(norm)) {
    const double reported = pendingNonFinite_ ? std::numeric_limits<double>::quiet_NaN() : norm;
    clearGradients();
    return {reported, false};
  }
  // As torch.nn.utils.clip_grad_norm_: scale by clipNorm / (norm + 1e-6) when the norm exceeds it.
  const double clip = hyper.clipNorm > 0 && norm > hyper.clipNorm ? hyper.clipNorm / (norm + 1e-6) : 1.0;
  ++step_;
  for (const ParamInfo& p : layout_.params()) {
    AdamWHyper h{0.0, 0.0, hyper.beta1, hyper.beta2, hyper.eps};
    switch (p.group) {
      case ParamGroup::Decay:
        h.lr = hyper.lrDecay;
        h.weightDecay = hyper.weightDecay;
        break;
      case ParamGroup::NoDecay: h.lr = hyper.lrNoDecay; break;
      case ParamGroup::Threshold: h.lr = hyper.lrThreshold; break;
    }
    adamw_update(pool_, params_.data() + p.offset, grads_.data() + p.offset, m_.data() + p.offset, v_.data() + p.offset,
                 p.size, static_cast<float>(scale * clip), h, step_);
    if (p.group != ParamGroup::Threshold) continue;
    for (int64_t i = p.offset; i < p.offset + p.size; ++i) params_[i] = std::max(params_[i], kMinLambda);
  }
  clearGradients();
  return {norm, true};
}

LossSum Trainer::evaluate(const TokenBatch& batch, EvalMode mode) {
  if (mode == EvalMode::Qcfs && !qcfs_) {
    throw std::invalid_argument("evaluate in 'qcfs' mode needs a trainer created with the qcfs option");
  }
  return model_.forward(pool_, params_.data(), batch, mode == EvalMode::Qcfs);
}

const ParamInfo& Trainer::info(const std::string& name) const {
  const ParamInfo* p = layout_.find(name);
  if (!p) throw std::invalid_argument("the model has no parameter named " + name);
  return *p;
}

std::vector<float> Trainer::tensor(const std::string& name) const {
  const ParamInfo& p = info(name);
  return std::vector<float>(params_.begin() + p.offset, params_.begin() + p.offset + p.size);
}

void Trainer::setTensor(const std::string& name, const float* data, int64_t count) {
  const ParamInfo& p = info(name);
  if (count != p.size) {
    throw std::invalid_argument(name + " has " + std::to_string(p.size) + " values, got " + std::to_string(count));
  }
  if (p.group == ParamGroup::Threshold &&
      !std::all_of(data, data + count, [](float x) { return std::isfinite(x) && x >= kMinLambda; })) {
    throw std::invalid_argument("every value of " + name + " must be a finite number >= " + std::to_string(kMinLambda));
  }
  std::copy(data, data + count, params_.begin() + p.offset);
}

std::vector<float> Trainer::gradient(const std::string& name) const {
  const ParamInfo& p = info(name);
  return std::vector<float>(grads_.begin() + p.offset, grads_.begin() + p.offset + p.size);
}

OptimizerState Trainer::optimizerState() const {
  OptimizerState state;
  state.step = step_;
  for (const ParamInfo& p : layout_.params()) {
    state.m[p.name].assign(m_.begin() + p.offset, m_.begin() + p.offset + p.size);
    state.v[p.name].assign(v_.begin() + p.offset, v_.begin() + p.offset + p.size);
  }
  return state;
}

void Trainer::setOptimizerState(const OptimizerState& state) {
  if (state.step < 0) throw std::invalid_argument("the optimizer step count must be >= 0");
  const auto check = [&](const std::map<std::string, std::vector<float>>& moments, const char* which) {
    for (const auto& entry : moments) info(entry.first);  // no unknown names
    for (const ParamInfo& p : layout_.params()) {
      const auto it = moments.find(p.name);
      if (it == moments.end()) {
        throw std::invalid_argument(std::string("optimizer state ") + which + " lacks " + p.name);
      }
      if (static_cast<int64_t>(it->second.size()) != p.size) {
        throw std::invalid_argument(std::string("optimizer state ") + which + "[" + p.name + "] has " +
                                    std::to_string(it->second.size()) + " values, expected " + std::to_string(p.size));
      }
    }
  };
  check(state.m, "m");
  check(state.v, "v");
  for (const ParamInfo& p : layout_.params()) {
    std::copy(state.m.at(p.name).begin(), state.m.at(p.name).end(), m_.begin() + p.offset);
    std::copy(state.v.at(p.name).begin(), state.v.at(p.name).end(), v_.begin() + p.offset);
  }
  step_ = state.step;
}

void Trainer::clearGradients() {
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  pendingTokens_ = 0;
  pendingNonFinite_ = false;
}

}  // namespace fas::train
