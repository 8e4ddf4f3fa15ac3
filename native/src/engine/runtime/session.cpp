#include "engine/runtime/session.h"

#include <stdexcept>
#include <string>

#include "engine/runtime/forward.h"

namespace fas {

Session::Session(std::shared_ptr<const Model> model)
    : model_(std::move(model)), k_(model_->config.numLayers), v_(model_->config.numLayers) {}

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
  const ModelConfig& c = model_->config;
  // Grow every layer's cache to the context length; vector growth is geometric, so appending one
  // token at a time stays amortised O(1).
  std::vector<KvView> kv(c.numLayers);
  for (int64_t l = 0; l < c.numLayers; ++l) {
    k_[l].resize(length * c.kvDim());
    v_[l].resize(length * c.kvDim());
    kv[l] = KvView{k_[l].data(), v_[l].data(), length};
  }
  ForwardArgs args;
  args.ids = tokens_.data() + cached_;
  args.seqLen = length - cached_;
  args.past = cached_;
  args.kv = kv.data();
  args.lastOnly = true;
  args.abort = abort;
  logits_.resize(c.vocabSize);
  forward(*model_, pool, args, logits_.data());
  cached_ = length;
  return logits_;
}

void Session::reset() {
  tokens_.clear();
  cached_ = 0;
  for (auto& k : k_) FloatVector().swap(k);
  for (auto& v : v_) FloatVector().swap(v);
  logits_.clear();
}

}  // namespace fas
