// The fine pass on the method's whole loss (fas-method.md section 4), every layer at once:
//   KL(softmax(QCFS logits) || softmax(time-averaged SNN logits)), mean over positions (or batchmean),
//   + alignWeight * the sum over layers of the align losses (mean squared error per site output),
// back-propagated through the T-batched spiking network (train::Transformer::forwardSpiking) to
// every layer's thresholds and initial potentials through the surrogate spike gradient. The weights
// stay frozen: no weight gradient is computed. Teacher (the same graph with QCFS) and student run
// side by side on each batch, and Adam steps once per batch.
#pragma once
#include <cstdint>
#include <vector>

#include "calibrate/compare_logits.h"
#include "calibrate/neuron_adam.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_site.h"
#include "engine/threadpool.h"
#include "train/model/kernels.h"
#include "train/model/params.h"
#include "train/model/transformer.h"

namespace fas::calibrate {

struct JointHyper {
  AdamHyper adam;
  float alignWeight = 1.0f;
  int64_t positions = 0;  // > 0: per (position, neuron) values for that many position rows
  KlReduction klReduction = KlReduction::PerPosition;
};

// Sums over one batch (or several, added up).
struct JointLoss {
  double kl = 0.0;        // KL summed over positions
  double alignSse = 0.0;  // squared errors summed over layers and site outputs
  int64_t tokens = 0;

  void add(const JointLoss& o) {
    kl += o.kl;
    alignSse += o.alignSse;
    tokens += o.tokens;
  }
};

// The loss of one batch and its gradient w.r.t. every layer's values (shaped like them).
struct JointGradient {
  JointLoss loss;
  std::vector<std::vector<float>> dTheta, dV0;
};

class JointPass {
 public:
  // Starts from params.neurons (one NeuronValues per layer, any granularity), spread to per neuron
  // or per (position, neuron). The model is read, not kept.
  JointPass(const Model& model, const SpikingParams& params, int timesteps, const JointHyper& hyper);

  // The batch's loss and its gradient at the current values; nothing moves.
  JointGradient gradient(ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen);
  // One Adam step on the batch's loss; returns the loss before the step.
  JointLoss step(ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen);

  std::vector<NeuronValues> values() const;

 private:
  const ModelConfig config_;
  const int timesteps_;
  const float alignWeight_;
  const KlReduction klReduction_;
  const bool signedSpikes_;
  train::ParamLayout layout_;
  std::vector<float> weights_;  // frozen, with the stage-1 lambdas
  train::Transformer<train::FastKernels> teacher_, student_;
  std::vector<NeuronAdam> adam_;  // one per layer
};

}  // namespace fas::calibrate
