// The forward pass of every family, driven by the config's flags (norm, activation, positions,
// pre/post-norm, projections), exactly as Hugging Face's GPT2LMHeadModel, OPTForCausalLM and
// LlamaForCausalLM (Qwen2, Mistral: same graph with optional q/k/v biases) compute it.
#pragma once
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/spike_sites.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_stats.h"
#include "engine/threadpool.h"

namespace fas {

// Thrown when the abort flag is raised during a forward pass.
struct Aborted : std::runtime_error {
  Aborted() : std::runtime_error("aborted") {}
};

// One layer's keys and values: [sequences, capacity, kvDim] each. In snn mode every sequence runs
// T times, one copy per timestep, so the cache holds batch * T sequences: timestep t of sequence b
// at index b * T + t (attention at timestep t reads the keys and values of timestep t).
struct KvView {
  float* k;
  float* v;
  int64_t capacity;
};

// Calibration (native/src/calibrate): copies one layer's FFN site input (the activation's input, or
// LLaMA's gated product) as the site receives it: [batch * copies, seqLen, ffn], i.e. [batch, T,
// seqLen, ffn] in snn mode. With stop, the pass ends after that layer and writes no logits.
struct SiteCapture {
  int64_t layer = 0;
  float* input = nullptr;
  bool stop = false;
};

struct ForwardArgs {
  const int32_t* ids;  // [batch, seqLen]
  int64_t batch = 1, seqLen = 1;
  int64_t past = 0;                          // positions already in the cache of every sequence
  const KvView* kv = nullptr;                // one view per layer; the new keys/values are written at past..
  bool lastOnly = false;                     // logits for the last position of each sequence only
  const std::atomic<bool>* abort = nullptr;  // polled between layers
  RunMode mode;                              // ann, qcfs, or snn at T timesteps (needs model.spiking)
  RunStats* stats = nullptr;                 // when given, this pass's counts are added to it
  const SiteCapture* capture = nullptr;      // calibration only
  const SiteTrace* siteTrace = nullptr;      // tests: every scope all site's input and counts
};

// Writes logits [batch, lastOnly ? 1 : seqLen, vocab]; in snn mode the average over the T timesteps.
// Throws std::invalid_argument for bad ids, a context longer than maxPositions or a mode the model
// cannot run, Aborted when abort was raised.
void forward(const Model& model, ThreadPool& pool, const ForwardArgs& args, float* logits);

// The most logits one forwardSequences returns (8 GiB of floats): the binding hands them to JS in one
// Float32Array, and V8 aborts the whole process (no exception) when asked for a longer one than it
// allows.
constexpr int64_t kMaxForwardLogits = (int64_t(1) << 31) - 1;

// How many logits forwardSequencesInto writes: batch * (lastOnly ? 1 : seqLen) * vocab. Throws
// std::invalid_argument for a shape the model cannot run (no tokens, longer than maxPositions) or
// more than kMaxForwardLogits, so a caller can check before it allocates the output.
int64_t forwardLogitsCount(const ModelConfig& c, int64_t batch, int64_t seqLen, bool lastOnly);

// Whole sequences from position 0, as model.forward in JS. Keys and values live in one scratch
// buffer reused by every layer, and long batches run a few sequences at a time, so memory beyond
// the weights stays small. Writes [batch, lastOnly ? 1 : seqLen, vocab] into `logits`
// (forwardLogitsCount floats): the binding passes the JS array itself, so a prefill's logits
// (206 MB for GPT-2 at 4 x 256) are written once, never copied.
void forwardSequencesInto(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen,
                          bool lastOnly, float* logits, const RunMode& mode = {}, RunStats* stats = nullptr);

// The same, returned in a new vector.
std::vector<float> forwardSequences(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch,
                                    int64_t seqLen, bool lastOnly, const RunMode& mode = {}, RunStats* stats = nullptr);

// log p(targets[i] | the tokens of its sequence up to i) for every position i of ids [batch, seqLen],
// in the mode given, into scores [batch, seqLen]: the score of each next token (perplexity, a
// multiple-choice answer) without handing the logits over. Each group of sequences' logits are scored
// where the engine made them. Throws std::invalid_argument as forwardSequencesInto, and for a target
// outside the vocabulary.
void scoreSequencesInto(const Model& model, ThreadPool& pool, const int32_t* ids, const int32_t* targets, int64_t batch,
                        int64_t seqLen, double* scores, const RunMode& mode = {}, RunStats* stats = nullptr);

// Throws std::invalid_argument naming the first of targets[0..n) outside the vocabulary.
void checkTargets(const ModelConfig& c, const int32_t* targets, int64_t n);

// Throws std::invalid_argument when the model cannot run in this mode (no spiking parameters, T
// out of range).
void checkMode(const Model& model, const RunMode& mode);

// The mode as this model runs it: layer encoding for a scope all model in qcfs or snn mode.
RunMode modeFor(const Model& model, RunMode mode);

}  // namespace fas
