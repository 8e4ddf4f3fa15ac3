#include "engine/runtime/session.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/ops/log_softmax.h"
#include "engine/runtime/forward.h"

namespace fas {

Session::Session(std::shared_ptr<const Model> model, const RunMode& mode)
    : model_(std::move(model)), mode_(modeFor(*model_, mode)), k_(model_->config.numLayers),
      v_(model_->config.numLayers) {
  checkMode(*model_, mode_);
  clearStats();
}

void Session::clearStats() {
  stats_ = RunStats();
  stats_.mode = mode_;
}

void Session::append(const int32_t* ids, int64_t n) {
  const ModelConfig& c = model_->config;
  const int64_t length = static_cast<int64_t>(tokens_.size()) + n;
  if (length > c.maxPositions) {
    throw std::invalid_argument("context overflow: " + std::to_string(length) +
                                " tokens exceed the model's maxPositions (" + std::to_string(c.maxPositions) + ")");
  }
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= c.vocabSize) {
      throw std::invalid_argument("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                                  " is outside the vocabulary (size " + std::to_string(c.vocabSize) + ")");
    }
  }
  tokens_.insert(tokens_.end(), ids, ids + n);
}

const std::vector<float>& Session::eval(ThreadPool& pool, const int32_t* ids, int64_t n,
                                        const std::atomic<bool>* abort) {
  const size_t before = tokens_.size();
  append(ids, n);
  try {
    return run(pool, abort);
  } catch (...) {
    tokens_.resize(before);
    throw;
  }
}

const std::vector<float>& Session::run(ThreadPool& pool, const std::atomic<bool>* abort) {
  const int64_t length = static_cast<int64_t>(tokens_.size());
  if (length == cached_) {
    if (length == 0) throw std::invalid_argument("the session is empty: give it at least one token");
    return logits_;
  }
  logits_.resize(model_->config.vocabSize);
  runPending(pool, abort, true, logits_.data());
  return logits_;
}

void Session::runPending(ThreadPool& pool, const std::atomic<bool>* abort, bool lastOnly, float* logits) {
  const ModelConfig& c = model_->config;
  const int64_t length = static_cast<int64_t>(tokens_.size());
  reserve(length);
  std::vector<KvView> kv(c.numLayers);
  for (int64_t l = 0; l < c.numLayers; ++l) kv[l] = KvView{k_[l].data(), v_[l].data(), capacity_};
  ForwardArgs args;
  args.ids = tokens_.data() + cached_;
  args.seqLen = length - cached_;
  args.past = cached_;
  args.kv = kv.data();
  args.lastOnly = lastOnly;
  args.abort = abort;
  args.mode = mode_;
  args.stats = &stats_;
  forward(*model_, pool, args, logits);
  cached_ = length;
}

void Session::score(ThreadPool& pool, const int32_t* ids, const int32_t* targets, int64_t n, double* scores,
                    const std::atomic<bool>* abort) {
  const int64_t vocab = model_->config.vocabSize;
  checkTargets(model_->config, targets, n);
  const size_t before = tokens_.size();
  append(ids, n);
  try {
    // Every token not yet cached runs, so the logits' last n rows are those after ids.
    const int64_t rows = static_cast<int64_t>(tokens_.size()) - cached_;
    FloatVector logits(rows * vocab);
    runPending(pool, abort, false, logits.data());
    const float* after = logits.data() + (rows - n) * vocab;
    ops::target_log_probs(pool, after, targets, n, vocab, scores);
    logits_.assign(after + (n - 1) * vocab, after + n * vocab);
  } catch (...) {
    tokens_.resize(before);
    throw;
  }
}

void Session::truncate(int64_t length) {
  if (length >= static_cast<int64_t>(tokens_.size())) return;
  tokens_.resize(std::max<int64_t>(length, 0));
  // The cached positions up to `length` stay; logits_ are after a token now gone, so the last one
  // kept runs again (one position) when the logits are next asked for.
  cached_ = std::min<int64_t>(cached_, std::max<int64_t>(length - 1, 0));
}

// Grows every layer's cache to hold `length` positions per copy, doubling the capacity so that
// appending one token at a time stays amortised O(1). Each copy's cached positions move to its new
// place.
void Session::reserve(int64_t length) {
  if (length <= capacity_) return;
  const ModelConfig& c = model_->config;
  const int64_t capacity = std::min(std::max(length, 2 * capacity_), c.maxPositions);
  const int64_t copies = mode_.copies(), kvDim = c.kvDim();
  for (auto* cache : {&k_, &v_}) {
    for (FloatVector& old : *cache) {
      FloatVector grown(copies * capacity * kvDim);
      for (int64_t t = 0; t < copies; ++t) {
        std::copy_n(old.begin() + t * capacity_ * kvDim, cached_ * kvDim, grown.begin() + t * capacity * kvDim);
      }
      old.swap(grown);
    }
  }
  capacity_ = capacity;
}

void Session::reset() {
  tokens_.clear();
  cached_ = 0;
  capacity_ = 0;
  for (auto& k : k_) FloatVector().swap(k);
  for (auto& v : v_) FloatVector().swap(v);
  logits_.clear();
  clearStats();
}

}  // namespace fas
