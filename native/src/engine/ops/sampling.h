// Choosing the next token from a row of logits, as Hugging Face generate() does: repetition penalty,
// then temperature, top-k and top-p, then a draw (or argmax when the temperature is 0).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace fas::ops {

struct SamplingParams {
  float temperature = 0.0f;        // 0: greedy
  int32_t topK = 0;                // 0: off
  float topP = 1.0f;               // 1: off
  float repetitionPenalty = 1.0f;  // 1: off
};

// Index of the largest logit; the first one on ties (as torch.argmax).
int32_t argmax(const float* logits, int64_t n);

// HF RepetitionPenaltyLogitsProcessor: every token in `seen` has its logit divided by penalty when
// positive, multiplied by it when negative (once per distinct token).
void apply_repetition_penalty(float* logits, int64_t n, const std::vector<int32_t>& seen, float penalty);

// A deterministic stream of uniform doubles in [0, 1): the same seed gives the same draws everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

// The next token. logits (n entries) are modified in place. `seen` is every token of the context.
int32_t sample_token(float* logits, int64_t n, const std::vector<int32_t>& seen, const SamplingParams& params,
                     Rng& rng);

}  // namespace fas::ops
