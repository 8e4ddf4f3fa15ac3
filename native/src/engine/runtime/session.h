// A single-sequence conversation with a key/value cache, for generation. The context is every token
// appended so far; the cache holds the first `cached` of them, the rest run at the next run(). In
// snn mode every token runs its T timesteps and the cache keeps one copy per timestep.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_stats.h"
#include "engine/threadpool.h"

namespace fas {

class Session {
 public:
  // Throws std::invalid_argument when the model cannot run in `mode` (see checkMode).
  explicit Session(std::shared_ptr<const Model> model, const RunMode& mode = {});

  const Model& model() const { return *model_; }
  const RunMode& mode() const { return mode_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Counts of every run() since the last clearStats() (or reset()).
  const RunStats& stats() const { return stats_; }
  void clearStats();

  // Adds tokens to the context without running them. Throws std::invalid_argument for an id outside
  // the vocabulary or a context longer than maxPositions; the context is then unchanged.
  void append(const int32_t* ids, int64_t n);
  // Runs the tokens not yet in the cache (one batched prefill) and returns the logits after the last
  // token of the context. Throws Aborted (the cache then ends where it was) or on an empty context.
  const std::vector<float>& run(ThreadPool& pool, const std::atomic<bool>* abort);
  // append + run, all or nothing: when anything fails (abort included) the context is as before.
  const std::vector<float>& eval(ThreadPool& pool, const int32_t* ids, int64_t n, const std::atomic<bool>* abort);
  // eval, and scores[i] = log p(targets[i] | the context up to ids[i]): the scores of the tokens that
  // follow, after a context already in the cache (a multiple-choice answer after its passage). Throws
  // std::invalid_argument for a target outside the vocabulary, before anything runs.
  void score(ThreadPool& pool, const int32_t* ids, const int32_t* targets, int64_t n, double* scores,
             const std::atomic<bool>* abort);
  // Keeps the first `length` tokens of the context and their cache (no-op when it has no more).
  void truncate(int64_t length);
  void reset();

 private:
  void reserve(int64_t length);
  // Runs the tokens not yet in the cache, writing the logits after each of them into `logits`
  // ([length - cached, vocab]) or, with lastOnly, after the last one into logits_.
  void runPending(ThreadPool& pool, const std::atomic<bool>* abort, bool lastOnly, float* logits);

  std::shared_ptr<const Model> model_;
  RunMode mode_;
  std::vector<int32_t> tokens_;
  int64_t cached_ = 0;
  int64_t capacity_ = 0;            // positions each cache copy has room for
  std::vector<FloatVector> k_, v_;  // per layer [copies, capacity, kvDim]; grows with the context
  std::vector<float> logits_;       // after tokens_[cached_ - 1]
  RunStats stats_;
};

}  // namespace fas
