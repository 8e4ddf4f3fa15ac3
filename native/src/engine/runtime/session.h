// A single-sequence conversation with a key/value cache, for generation. The context is every token
// appended so far; the cache holds the first `cached` of them, the rest run at the next run().
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/model.h"
#include "engine/threadpool.h"

namespace fas {

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model);

  const Model& model() const { return *model_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }

  // Adds tokens to the context without running them. Throws std::invalid_argument for an id outside
  // the vocabulary or a context longer than maxPositions; the context is then unchanged.
  void append(const int32_t* ids, int64_t n);
  // Runs the tokens not yet in the cache (one batched prefill) and returns the logits after the last
  // token of the context. Throws Aborted (the cache then ends where it was) or on an empty context.
  const std::vector<float>& run(ThreadPool& pool, const std::atomic<bool>* abort);
  // append + run, all or nothing: when anything fails (abort included) the context is as before.
  const std::vector<float>& eval(ThreadPool& pool, const int32_t* ids, int64_t n, const std::atomic<bool>* abort);
  void reset();

 private:
  std::shared_ptr<const Model> model_;
  std::vector<int32_t> tokens_;
  int64_t cached_ = 0;
  std::vector<FloatVector> k_, v_;  // per layer [capacity, kvDim]; grows with the context
  std::vector<float> logits_;              // after tokens_[cached_ - 1]
};

}  // namespace fas
