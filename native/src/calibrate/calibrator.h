// Stage 2 of FAS (fas-method.md section 4) on one converted model: the weights are frozen and the
// IF neurons' thresholds and initial potentials are fitted so that the spiking model at T matches
// its teacher, the same model with QCFS. Teacher and student run side by side on the same
// calibration sequences; each layer's site input is captured from both, and every pass works on
// one layer at a time, in order, so each layer is fitted to what the calibrated layers before it
// deliver. The joint pass then fits every layer at once on the method's whole loss, the logits' KL
// plus the align losses, back-propagated through the spiking network (joint_pass.h).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "calibrate/coarse_search.h"
#include "calibrate/compare_logits.h"
#include "calibrate/joint_pass.h"
#include "calibrate/neuron_adam.h"
#include "calibrate/site_batch.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_site.h"
#include "engine/threadpool.h"

namespace fas::calibrate {

// The calibration sequences, all of one length, run `batch` at a time (one Adam step per batch).
struct CalibrationSet {
  std::vector<int32_t> ids;  // [sequences, seqLen]
  int64_t sequences = 0, seqLen = 0, batch = 1;
};

// How the coarse pass picks a layer's values.
enum class CoarseChoice {
  Search,          // the lowest align loss among coarseGrid and refinedGrid
  ReferenceStart,  // no search: the FAS reference code's theta = 0.6 lambda, v0 = 0.2 theta
};

struct CoarseResult {
  LayerCandidate best;         // now the layer's values
  double loss = 0.0;           // align loss (mean squared error per site output) of the best
  double startLoss = 0.0;      // of theta = lambda, v0 = theta / 2
  double referenceLoss = 0.0;  // of theta = 0.6 lambda, v0 = 0.2 theta
  int candidates = 0;
};

struct JointEpoch {
  double kl = 0.0;     // mean KL per position seen while stepping
  double align = 0.0;  // mean sum over layers of the align losses, likewise
};

struct FineEpoch {
  double trainLoss = 0.0;  // mean align loss seen while stepping (the values moved during the epoch)
  double loss = 0.0;       // align loss of the layer's values after the epoch
};

class Calibrator {
 public:
  // params.neurons may be empty (every layer starts uncalibrated: theta = lambda, v0 = theta / 2).
  // The model's spiking site is replaced by one built from params. Throws std::invalid_argument
  // for parameters that do not fit the model, or timesteps out of range.
  Calibrator(std::unique_ptr<Model> model, SpikingParams params, int timesteps, ThreadPool& pool);

  const Model& model() const { return *model_; }
  int timesteps() const { return timesteps_; }
  void setData(CalibrationSet set);

  const NeuronValues& neurons(int64_t layer) const;
  // Any granularity; later layers' captured inputs are recomputed on next use.
  void setNeurons(int64_t layer, NeuronValues values);

  // The layer's align loss over the calibration set with its current values.
  double alignLoss(int64_t layer);
  // Per-layer (theta, v0) chosen as `choice` says, with the align losses of both published starting
  // points; sets it.
  CoarseResult coarse(int64_t layer, CoarseChoice choice = CoarseChoice::Search);
  // Starts the fine pass of a layer: per neuron, or per (position, neuron) for positions > 0, from
  // the layer's current values, with fresh Adam moments.
  void startFine(int64_t layer, int64_t positions, const AdamHyper& hyper);
  // One epoch over the set, one Adam step per batch on the surrogate gradient. The layer's loss is a
  // sum over its parameter entries, each depending on its own entry only, so after the epoch every
  // entry keeps the best value it has had (by the exact align loss); the layer is set to those.
  FineEpoch fineEpoch(int64_t layer);

  // Starts the joint pass of every layer from the current values, per neuron or per (position,
  // neuron) for positions > 0, with fresh Adam moments.
  void startJoint(const JointHyper& hyper);
  // One epoch over the set, one Adam step per batch; then every layer takes the pass's values.
  JointEpoch jointEpoch();

  // Teacher and student logits on inputs [batch, seqLen], compared against targets.
  LogitsComparison evaluate(const int32_t* inputs, const int32_t* targets, int64_t batch, int64_t seqLen);

  // Raised by another thread: the call in progress throws Aborted between batches or layers.
  std::atomic<bool>& abortFlag() { return abort_; }

 private:
  void checkLayer(int64_t layer) const;
  void rebuildSite();
  SiteBatch capture(int64_t layer, int64_t first, int64_t count);
  void forEachBatch(int64_t layer, const std::function<void(const SiteBatch&)>& fn);
  double siteOutputs() const;
  std::vector<double> entrySse(int64_t layer, const NeuronValues& values);

  std::unique_ptr<Model> model_;
  SpikingParams params_;  // neurons: every layer's current values
  const int timesteps_;
  ThreadPool& pool_;
  CalibrationSet set_;
  std::atomic<bool> abort_{false};

  // The captured batches of one layer, kept while they fit in kCacheBytes.
  std::vector<SiteBatch> cache_;
  int64_t cachedLayer_ = -1;

  // The fine pass in progress: Adam's iterate, and the best value of every entry so far.
  std::optional<NeuronAdam> adam_;
  int64_t fineLayer_ = -1;
  NeuronValues best_;
  std::vector<double> bestSse_;

  std::optional<JointPass> joint_;
};

}  // namespace fas::calibrate
