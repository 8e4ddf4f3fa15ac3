// The forward pass of every family, driven by the config's flags (norm, activation, positions,
// pre/post-norm, projections), exactly as Hugging Face's GPT2LMHeadModel, OPTForCausalLM and
// LlamaForCausalLM (Qwen2, Mistral: same graph with optional q/k/v biases) compute it.
#pragma once
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "engine/model/model.h"
#include "engine/threadpool.h"

namespace fas {

// Thrown when the abort flag is raised during a forward pass.
struct Aborted : std::runtime_error {
  Aborted() : std::runtime_error("aborted") {}
};

// One layer's keys and values: [batch, capacity, kvDim] each.
struct KvView {
  float* k;
  float* v;
  int64_t capacity;
};

struct ForwardArgs {
  const int32_t* ids;  // [batch, seqLen]
  int64_t batch = 1, seqLen = 1;
  int64_t past = 0;             // positions already in the cache of every sequence
  const KvView* kv = nullptr;   // one view per layer; the new keys/values are written at past..
  bool lastOnly = false;        // logits for the last position of each sequence only
  const std::atomic<bool>* abort = nullptr;  // polled between layers
};

// Writes logits [batch, lastOnly ? 1 : seqLen, vocab]. Throws std::invalid_argument for bad ids or
// a context longer than maxPositions, Aborted when abort was raised.
void forward(const Model& model, ThreadPool& pool, const ForwardArgs& args, float* logits);

// Whole sequences from position 0, as model.forward in JS. Keys and values live in one scratch
// buffer reused by every layer, and long batches run a few sequences at a time, so memory beyond
// the weights stays small. Returns [batch, lastOnly ? 1 : seqLen, vocab].
std::vector<float> forwardSequences(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch,
                                    int64_t seqLen, bool lastOnly);

}  // namespace fas
