#include "engine/runtime/generate.h"

#include <algorithm>

#include "engine/runtime/forward.h"

namespace fas {

GenerateResult generate(Session& session, ThreadPool& pool, const GenerateOptions& options,
                        const std::function<void(int32_t)>& onToken, const std::atomic<bool>& abort) {
  session.append(options.prompt.data(), static_cast<int64_t>(options.prompt.size()));
  const ModelConfig& c = session.model().config;
  ops::Rng rng(options.seed);
  std::vector<float> logits;
  GenerateResult result;
  for (;;) {
    if (abort.load()) {
      result.stopReason = StopReason::Aborted;
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= options.maxTokens ||
        static_cast<int64_t>(session.tokens().size()) >= c.maxPositions) {
      result.stopReason = StopReason::Length;
      break;
    }
    try {
      logits = session.run(pool, &abort);
    } catch (const Aborted&) {
      result.stopReason = StopReason::Aborted;
      break;
    }
    const int32_t token = ops::sample_token(logits.data(), c.vocabSize, session.tokens(), options.sampling, rng);
    session.append(&token, 1);
    result.tokens.push_back(token);
    onToken(token);
    if (std::find(options.eosIds.begin(), options.eosIds.end(), token) != options.eosIds.end()) {
      result.stopReason = StopReason::Eos;
      break;
    }
  }
  return result;
}

}  // namespace fas
