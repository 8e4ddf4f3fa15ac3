// The generation loop: run the prompt, then sample one token at a time until an end-of-sequence id,
// maxTokens, a full context or an abort. Each token joins the session's context, so a later call
// continues the conversation.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/ops/sampling.h"
#include "engine/runtime/session.h"
#include "engine/threadpool.h"

namespace fas {

struct GenerateOptions {
  std::vector<int32_t> prompt;  // appended to the session's context first; may be empty
  int64_t maxTokens = 0;
  ops::SamplingParams sampling;
  uint64_t seed = 0;
  std::vector<int32_t> eosIds;
};

enum class StopReason { Eos, Length, Aborted };

struct GenerateResult {
  std::vector<int32_t> tokens;  // ends with the end-of-sequence id when stopReason is Eos
  StopReason stopReason = StopReason::Length;
};

// onToken sees each token as soon as it is chosen. abort is polled between tokens and between the
// layers of the prompt's prefill. Reaching maxPositions stops with Length.
GenerateResult generate(Session& session, ThreadPool& pool, const GenerateOptions& options,
                        const std::function<void(int32_t)>& onToken, const std::atomic<bool>& abort);

}  // namespace fas
