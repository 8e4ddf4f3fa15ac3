#include "calibrate/calibrator.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "calibrate/align_loss.h"
#include "calibrate/neuron_view.h"
#include "engine/runtime/forward.h"
#include "spiking/qcfs.h"

namespace fas::calibrate {

namespace {

// Captured batches are kept for the passes over one layer while they fit: a fine pass visits the
// set once per epoch, and recapturing means running the network up to that layer again.
constexpr size_t kCacheBytes = size_t(1) << 30;

size_t bytesOf(const SiteBatch& b) { return (b.input.size() + b.target.size()) * sizeof(float); }

}  // namespace

Calibrator::Calibrator(std::unique_ptr<Model> model, SpikingParams params, int timesteps, ThreadPool& pool)
    : model_(std::move(model)), params_(std::move(params)), timesteps_(timesteps), pool_(pool) {
  if (timesteps < 1 || timesteps > kMaxTimesteps) {
    throw std::invalid_argument("timesteps must be in 1.." + std::to_string(kMaxTimesteps));
  }
  if (params_.neurons.empty()) {
    for (const float lambda : params_.lambdas) params_.neurons.push_back(layerValues(lambda, lambda / 2));
  }
  params_.preferCuda = false;
  rebuildSite();
}

void Calibrator::setData(CalibrationSet set) {
  const ModelConfig& c = model_->config;
  if (set.sequences < 1 || set.seqLen < 1 || set.batch < 1) {
    throw std::invalid_argument("the calibration set needs at least one sequence of one token, and a batch of one");
  }
  if (static_cast<int64_t>(set.ids.size()) != set.sequences * set.seqLen) {
    throw std::invalid_argument("the calibration ids are not sequences * seqLen long");
  }
  if (set.seqLen > c.maxPositions) {
    throw std::invalid_argument("calibration sequences of " + std::to_string(set.seqLen) +
                                " tokens exceed the model's maxPositions (" + std::to_string(c.maxPositions) + ")");
  }
  for (const int32_t id : set.ids) {
    if (id < 0 || id >= c.vocabSize) {
      throw std::invalid_argument("calibration token id " + std::to_string(id) + " is outside the vocabulary");
    }
  }
  set_ = std::move(set);
  cache_.clear();
  cachedLayer_ = -1;
}

void Calibrator::checkLayer(int64_t layer) const {
  if (layer < 0 || layer >= model_->config.numLayers) {
    throw std::invalid_argument("layer " + std::to_string(layer) + " does not exist (the model has " +
                                std::to_string(model_->config.numLayers) + ")");
  }
}

const NeuronValues& Calibrator::neurons(int64_t layer) const {
  checkLayer(layer);
  return params_.neurons[layer];
}

void Calibrator::setNeurons(int64_t layer, NeuronValues values) {
  checkLayer(layer);
  std::swap(params_.neurons[layer], values);
  try {
    rebuildSite();
  } catch (...) {
    std::swap(params_.neurons[layer], values);  // keep the old, valid values
    throw;
  }
  if (cachedLayer_ > layer) {
    cache_.clear();
    cachedLayer_ = -1;
  }
}

// SpikingSite checks the values (shapes, thresholds > 0, finite) and is what snn mode runs.
void Calibrator::rebuildSite() { model_->spiking = std::make_shared<const SpikingSite>(model_->config, params_); }

// Runs the teacher (qcfs) and the student (snn at T) on sequences [first, first + count) up to
// `layer`, keeping that layer's site inputs; the teacher's becomes its QCFS output.
SiteBatch Calibrator::capture(int64_t layer, int64_t first, int64_t count) {
  const ModelConfig& c = model_->config;
  SiteBatch b;
  b.sequences = count;
  b.seqLen = set_.seqLen;
  b.n = c.ffnSize;
  b.T = timesteps_;
  const int64_t tokens = count * set_.seqLen;
  const CaptureWidths w = captureWidths(c, timesteps_);
  b.target.resize(tokens * w.target);
  b.input.resize(tokens * w.input);
  FloatVector k(tokens * w.keys), v(tokens * w.values);
  const std::vector<KvView> kv(c.numLayers, KvView{k.data(), v.data(), set_.seqLen});
  const auto run = [&](RunMode mode, float* into) {
    const SiteCapture cap{layer, into, true};
    ForwardArgs a;
    a.ids = set_.ids.data() + first * set_.seqLen;
    a.batch = count;
    a.seqLen = set_.seqLen;
    a.kv = kv.data();
    a.abort = &abort_;
    a.mode = mode;
    a.capture = &cap;
    forward(*model_, pool_, a, nullptr);
  };
  run(RunMode{FfnMode::Qcfs, 1}, b.target.data());
  run(RunMode{FfnMode::Snn, timesteps_}, b.input.data());
  const spiking::Qcfs q = model_->spiking->qcfs(layer);
  pool_.run(
      [&](int ith, int nth) { spiking::qcfsForward(b.target.data(), b.target.data(), b.target.size(), q, ith, nth); });
  return b;
}

void Calibrator::forEachBatch(int64_t layer, const std::function<void(const SiteBatch&)>& fn) {
  if (set_.sequences == 0) throw std::logic_error("no calibration data: call setData first");
  if (cachedLayer_ == layer) {
    for (const SiteBatch& b : cache_) {
      if (abort_) throw Aborted();
      fn(b);
    }
    return;
  }
  cache_.clear();
  cachedLayer_ = -1;
  std::vector<SiteBatch> kept;
  size_t bytes = 0;
  bool keep = true;
  for (int64_t first = 0; first < set_.sequences; first += set_.batch) {
    if (abort_) throw Aborted();
    SiteBatch b = capture(layer, first, std::min(set_.batch, set_.sequences - first));
    fn(b);
    bytes += bytesOf(b);
    keep = keep && bytes <= kCacheBytes;
    if (keep) {
      kept.push_back(std::move(b));
    } else {
      kept.clear();
    }
  }
  if (keep) {
    cache_ = std::move(kept);
    cachedLayer_ = layer;
  }
}

// The number of site outputs in the calibration set: align losses are sums divided by it.
double Calibrator::siteOutputs() const {
  return double(set_.sequences) * double(set_.seqLen) * double(model_->config.ffnSize);
}

double Calibrator::alignLoss(int64_t layer) {
  checkLayer(layer);
  const spiking::IfNeuron neuron = neuronView(params_.neurons[layer], params_.signedSpikes);
  double sse = 0.0;
  forEachBatch(layer, [&](const SiteBatch& b) { sse += alignSse(pool_, b, neuron); });
  return sse / siteOutputs();
}

CoarseResult Calibrator::coarse(int64_t layer, CoarseChoice choice) {
  checkLayer(layer);
  const float lambda = params_.lambdas[layer];
  const auto search = [&](const std::vector<LayerCandidate>& candidates) {
    std::vector<double> sse(candidates.size(), 0.0);
    forEachBatch(layer, [&](const SiteBatch& b) { addCandidateSse(pool_, b, candidates, params_.signedSpikes, sse); });
    const size_t best = std::min_element(sse.begin(), sse.end()) - sse.begin();
    return std::make_pair(best, sse);
  };
  const double count = siteOutputs();
  CoarseResult r;
  if (choice == CoarseChoice::ReferenceStart) {
    const std::vector<LayerCandidate> starts{uncalibratedStart(lambda), referenceStart(lambda)};
    const std::vector<double> sse = search(starts).second;
    r.best = starts[1];
    r.loss = r.referenceLoss = sse[1] / count;
    r.startLoss = sse[0] / count;
    r.candidates = static_cast<int>(starts.size());
  } else {
    const std::vector<LayerCandidate> first = coarseGrid(lambda);
    const auto [best1, sse1] = search(first);
    const std::vector<LayerCandidate> second = refinedGrid(first[best1], lambda);
    const auto [best2, sse2] = search(second);
    const bool refined = sse2[best2] < sse1[best1];
    r.best = refined ? second[best2] : first[best1];
    r.loss = (refined ? sse2[best2] : sse1[best1]) / count;
    r.startLoss = sse1[0] / count;
    r.referenceLoss = sse1[1] / count;
    r.candidates = static_cast<int>(first.size() + second.size());
  }
  setNeurons(layer, layerValues(r.best.theta, r.best.v0));
  return r;
}

std::vector<double> Calibrator::entrySse(int64_t layer, const NeuronValues& values) {
  std::vector<double> sse(values.threshold.size(), 0.0);
  const spiking::IfNeuron neuron = neuronView(values, params_.signedSpikes);
  forEachBatch(layer, [&](const SiteBatch& b) { addEntrySse(pool_, b, neuron, sse); });
  return sse;
}

void Calibrator::startFine(int64_t layer, int64_t positions, const AdamHyper& hyper) {
  checkLayer(layer);
  if (positions < 0 || positions > model_->config.maxPositions) {
    throw std::invalid_argument("positions must be in 0.." + std::to_string(model_->config.maxPositions));
  }
  best_ = fittableValues(params_.neurons[layer], model_->config.ffnSize, positions);
  bestSse_ = entrySse(layer, best_);
  adam_.emplace(best_, hyper);
  fineLayer_ = layer;
}

FineEpoch Calibrator::fineEpoch(int64_t layer) {
  checkLayer(layer);
  if (!adam_ || fineLayer_ != layer) throw std::logic_error("startFine must come before the fine pass of a layer");
  const int64_t n = model_->config.ffnSize;
  double trainSse = 0.0;
  forEachBatch(layer, [&](const SiteBatch& b) {
    const NeuronValues& values = adam_->values();
    std::vector<float> dTheta(values.threshold.size(), 0.0f), dV0(values.v0.size(), 0.0f);
    // Scaled to the per-neuron mean over the batch's tokens; Adam is insensitive to the scale anyway.
    const float scale = 1.0f / static_cast<float>(b.tokens());
    trainSse += alignSseBackward(pool_, b, neuronView(values, params_.signedSpikes), gradView(dTheta, values, n),
                                 gradView(dV0, values, n), scale);
    adam_->step(dTheta, dV0);
  });
  const NeuronValues& now = adam_->values();
  const std::vector<double> sse = entrySse(layer, now);
  double total = 0.0;
  for (size_t e = 0; e < sse.size(); ++e) {
    if (sse[e] < bestSse_[e]) {
      bestSse_[e] = sse[e];
      best_.threshold[e] = now.threshold[e];
      best_.v0[e] = now.v0[e];
    }
    total += bestSse_[e];
  }
  setNeurons(layer, best_);
  return {trainSse / siteOutputs(), total / siteOutputs()};
}

void Calibrator::startJoint(const JointHyper& hyper) {
  // The joint pass captures nothing: the per-layer passes' inputs and an earlier joint pass's
  // training graphs (with their weight copy) go before the new graphs are made.
  cache_.clear();
  cachedLayer_ = -1;
  joint_.reset();
  joint_.emplace(*model_, params_, timesteps_, hyper);
}

JointEpoch Calibrator::jointEpoch() {
  if (!joint_) throw std::logic_error("startJoint must come before the joint pass");
  if (set_.sequences == 0) throw std::logic_error("no calibration data: call setData first");
  JointLoss sum;
  for (int64_t first = 0; first < set_.sequences; first += set_.batch) {
    if (abort_) throw Aborted();
    const int64_t count = std::min(set_.batch, set_.sequences - first);
    sum.add(joint_->step(pool_, set_.ids.data() + first * set_.seqLen, count, set_.seqLen));
  }
  const std::vector<NeuronValues> values = joint_->values();
  for (int64_t l = 0; l < model_->config.numLayers; ++l) setNeurons(l, values[l]);
  const double tokens = double(sum.tokens);
  return {sum.kl / tokens, sum.alignSse / (tokens * double(model_->config.ffnSize))};
}

LogitsComparison Calibrator::evaluate(const int32_t* inputs, const int32_t* targets, int64_t batch, int64_t seqLen) {
  const int64_t vocab = model_->config.vocabSize;
  for (int64_t i = 0; i < batch * seqLen; ++i) {
    if (targets[i] < 0 || targets[i] >= vocab) {
      throw std::invalid_argument("target id " + std::to_string(targets[i]) + " is outside the vocabulary");
    }
  }
  const std::vector<float> teacher =
      forwardSequences(*model_, pool_, inputs, batch, seqLen, false, RunMode{FfnMode::Qcfs, 1});
  if (abort_) throw Aborted();
  const std::vector<float> student =
      forwardSequences(*model_, pool_, inputs, batch, seqLen, false, RunMode{FfnMode::Snn, timesteps_});
  return compareLogits(pool_, teacher.data(), student.data(), targets, batch * seqLen, vocab);
}

}  // namespace fas::calibrate
