// Full-parameter training on the CPU (FAS stage 1 and plain fine-tuning): F32 parameters in canonical
// layout, their gradients and AdamW state, driven one micro-batch at a time.
//
//   forwardBackward  adds the gradient of the micro-batch's summed token loss (gradient accumulation)
//   optimizerStep    divides by the tokens counted since the last step (so a step sees the mean over
//                    every counted target of every micro-batch, as one big batch would), clips the
//                    global norm, applies AdamW per parameter group, and zeroes the gradients
//   evaluate         summed token loss without gradients, with the original activation or QCFS
//
// A non-finite loss or gradient is reported and the step is then not applied. Results are bit-for-bit
// the same for any thread count: every reduction runs in a fixed order.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/model.h"
#include "engine/threadpool.h"
#include "train/model/kernels.h"
#include "train/model/params.h"
#include "train/model/transformer.h"

namespace fas::train {

// The QCFS site (method section 2): `levels` levels, every layer's lambda starting at initialLambda.
// everySite: scope all (method section 9), a quantiser with a lambda per channel at every input of a
// matrix product (every threshold starting at initialLambda until setTensor sets it), the FFN
// site's lambda per neuron when perNeuronFfn.
struct QcfsOptions {
  int levels = 8;
  float initialLambda = 2.0f;
  bool signedClip = false;
  bool everySite = false;
  bool perNeuronFfn = false;
};

struct TrainerOptions {
  std::optional<QcfsOptions> qcfs;
  int threads = 0;  // 0: one per hardware thread
};

struct StepHyper {
  double lrDecay, lrNoDecay, lrThreshold;  // learning rate of each parameter group
  double weightDecay;                      // applied to the "decay" group only
  double beta1, beta2, eps;
  double clipNorm;  // global gradient norm limit; 0 turns clipping off
};

struct StepResult {
  double gradNorm;  // of the mean gradient, before clipping; NaN after a non-finite loss
  bool applied;     // false when the loss or the gradient was not finite
};

enum class EvalMode { Ann, Qcfs };

struct OptimizerState {
  int64_t step = 0;  // steps applied so far
  std::map<std::string, std::vector<float>> m, v;
};

// Lambdas (every channel's) are clamped to at least this after every step, so QCFS never divides by
// zero or flips sign.
constexpr float kMinLambda = 1e-3f;

class Trainer {
 public:
  // Copies the model's weights; the trainer keeps no reference to the model.
  Trainer(const Model& model, const TrainerOptions& options);

  // Forward (with QCFS when the site is on) and backward of one micro-batch. Throws "aborted" between
  // the two passes once abortFlag() is set (the gradients of this micro-batch are then not added).
  LossSum forwardBackward(const TokenBatch& batch);
  StepResult optimizerStep(const StepHyper& hyper);
  LossSum evaluate(const TokenBatch& batch, EvalMode mode);

  const std::vector<ParamInfo>& parameters() const { return layout_.params(); }
  // Throw std::invalid_argument for an unknown name or a wrong size (or a lambda <= 0).
  std::vector<float> tensor(const std::string& name) const;
  void setTensor(const std::string& name, const float* data, int64_t count);
  // The gradient summed over the tokens of the micro-batches since the last step.
  std::vector<float> gradient(const std::string& name) const;

  OptimizerState optimizerState() const;
  // Checks every name and size first; on error nothing changes.
  void setOptimizerState(const OptimizerState& state);

  int threads() const { return pool_.size(); }
  // Set from any thread to stop a forwardBackward in flight, and every later one (a cancelled job).
  std::atomic<bool>& abortFlag() { return abort_; }

 private:
  const ParamInfo& info(const std::string& name) const;
  void clearGradients();

  ModelConfig config_;
  ParamLayout layout_;
  ThreadPool pool_;
  Transformer<FastKernels> model_;
  const bool qcfs_;  // the QCFS site is on
  std::vector<float> params_, grads_, m_, v_;
  int64_t step_ = 0;
  int64_t pendingTokens_ = 0;  // counted targets since the last step
  bool pendingNonFinite_ = false;
  std::atomic<bool> abort_{false};
};

}  // namespace fas::train
