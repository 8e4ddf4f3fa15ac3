#include "engine/ops/sampling.h"

#include <set>
#include <vector>

#include "test.h"

using fas::ops::SamplingParams;

TEST(sampling_argmax_takes_the_first_maximum) {
  const float logits[] = {1, 5, 5, -2};
  CHECK(fas::ops::argmax(logits, 4) == 1);
}

TEST(sampling_repetition_penalty_follows_hf) {
  std::vector<float> logits = {2.0f, -2.0f, 3.0f, 0.0f};
  fas::ops::apply_repetition_penalty(logits.data(), 4, {0, 1, 0, 3}, 2.0f);  // token 0 twice: once
  CHECK(logits[0] == 1.0f);                                                  // positive: divided
  CHECK(logits[1] == -4.0f);                                                 // negative: multiplied
  CHECK(logits[2] == 3.0f);                                                  // not seen
  CHECK(logits[3] == 0.0f);
}

TEST(sampling_greedy_applies_the_penalty) {
  std::vector<float> logits = {3.0f, 2.0f};
  fas::ops::Rng rng(1);
  SamplingParams greedy;
  greedy.repetitionPenalty = 2.0f;
  CHECK(fas::ops::sample_token(logits.data(), 2, {0}, greedy, rng) == 1);  // 3/2 < 2
}

TEST(sampling_is_reproducible_from_a_seed) {
  std::vector<float> base(50);
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<float>(i % 7) * 0.3f;
  SamplingParams p;
  p.temperature = 1.3f;
  std::vector<int32_t> a, b;
  fas::ops::Rng r1(42), r2(42);
  for (int i = 0; i < 40; ++i) {
    auto l1 = base, l2 = base;
    a.push_back(fas::ops::sample_token(l1.data(), 50, {}, p, r1));
    b.push_back(fas::ops::sample_token(l2.data(), 50, {}, p, r2));
  }
  CHECK(a == b);
  CHECK(std::set<int32_t>(a.begin(), a.end()).size() > 3);  // it does sample
}

TEST(sampling_top_k_and_top_p_restrict_the_candidates) {
  // Probabilities at temperature 1 are proportional to e^logit.
  const std::vector<float> base = {0.0f, 4.0f, 3.0f, 1.0f, 3.0f};
  fas::ops::Rng rng(7);
  SamplingParams topK;
  topK.temperature = 1.0f;
  topK.topK = 2;  // threshold is the 2nd largest (3): ties keep 1, 2 and 4
  std::set<int32_t> seenK;
  for (int i = 0; i < 300; ++i) {
    auto l = base;
    seenK.insert(fas::ops::sample_token(l.data(), 5, {}, topK, rng));
  }
  CHECK(seenK == (std::set<int32_t>{1, 2, 4}));
  SamplingParams topP;
  topP.temperature = 1.0f;
  topP.topP = 0.5f;  // p(1) = e^4 / (1 + e^4 + 2e^3 + e) = 0.62 >= 0.5: only token 1
  for (int i = 0; i < 50; ++i) {
    auto l = base;
    CHECK(fas::ops::sample_token(l.data(), 5, {}, topP, rng) == 1);
  }
  topP.topP = 0.7f;  // 0.62 < 0.7: the next one (2, first of the tied pair by index) joins
  std::set<int32_t> seenP;
  for (int i = 0; i < 300; ++i) {
    auto l = base;
    seenP.insert(fas::ops::sample_token(l.data(), 5, {}, topP, rng));
  }
  CHECK(seenP == (std::set<int32_t>{1, 2}));
}
