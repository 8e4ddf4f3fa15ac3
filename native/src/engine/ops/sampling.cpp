#include "engine/ops/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fas::ops {

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

void apply_repetition_penalty(float* logits, int64_t n, const std::vector<int32_t>& seen, float penalty) {
  if (penalty == 1.0f) return;
  std::vector<bool> done(n, false);
  for (const int32_t t : seen) {
    if (t < 0 || t >= n || done[t]) continue;
    done[t] = true;
    logits[t] = logits[t] < 0 ? logits[t] * penalty : logits[t] / penalty;
  }
}

int32_t sample_token(float* logits, int64_t n, const std::vector<int32_t>& seen, const SamplingParams& params,
                     Rng& rng) {
  apply_repetition_penalty(logits, n, seen, params.repetitionPenalty);
  if (params.temperature <= 0.0f) return argmax(logits, n);

  for (int64_t i = 0; i < n; ++i) logits[i] /= params.temperature;
  // Candidates from the most to the least likely; ties by index, so the order is deterministic.
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto higher = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  int64_t kept = n;
  if (params.topK > 0 && params.topK < n) {
    // HF keeps every logit >= the k-th largest, so ties at the threshold stay in.
    std::nth_element(order.begin(), order.begin() + (params.topK - 1), order.end(), higher);
    const float threshold = logits[order[params.topK - 1]];
    kept =
        std::partition(order.begin(), order.end(), [&](int32_t i) { return logits[i] >= threshold; }) - order.begin();
  }
  std::sort(order.begin(), order.begin() + kept, higher);

  // Softmax over the candidates (max first, so no overflow).
  std::vector<double> prob(kept);
  double total = 0;
  const double top = logits[order[0]];
  for (int64_t i = 0; i < kept; ++i) total += (prob[i] = std::exp(logits[order[i]] - top));
  if (params.topP < 1.0f) {
    // Keep the smallest head whose mass reaches topP: a token stays if the mass before it is < topP.
    double before = 0;
    int64_t head = 0;
    while (head < kept && before < params.topP * total) before += prob[head++];
    kept = std::max<int64_t>(head, 1);
    total = before;
  }
  double u = rng.uniform() * total;
  for (int64_t i = 0; i < kept; ++i) {
    if (u < prob[i]) return order[i];
    u -= prob[i];
  }
  return order[kept - 1];  // u landed on the rounding slack at the very end
}

}  // namespace fas::ops
