// Tiny in-memory models of every family: the forward pass against a plain re-statement of the
// Hugging Face graphs built from the *_ref ops, batching, lastOnly, the KV-cache session and generation.
#include "engine/model/model.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/ops/sampling.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/session.h"
#include "engine/simd.h"
#include "isas.h"
#include "test.h"

using fas::ModelConfig;

namespace {

enum class Variant { Gpt2, Opt, Opt350m, LlamaGqa, Qwen2 };
const Variant kVariants[] = {Variant::Gpt2, Variant::Opt, Variant::Opt350m, Variant::LlamaGqa, Variant::Qwen2};

ModelConfig tinyConfig(Variant variant) {
  ModelConfig c;
  c.vocabSize = 53;
  c.hiddenSize = 24;
  c.numLayers = 2;
  c.numHeads = 3;
  c.numKvHeads = 3;
  c.headDim = 8;
  c.ffnSize = 40;
  c.maxPositions = 32;
  c.wordEmbedDim = 24;
  switch (variant) {
    case Variant::Gpt2: break;  // the defaults: LayerNorm, gelu_new, learned positions, tied
    case Variant::Opt:
      c.family = fas::Family::Opt;
      c.activation = fas::Activation::Relu;
      c.positionOffset = 2;
      c.tiedHead = false;
      break;
    case Variant::Opt350m:
      c.family = fas::Family::Opt;
      c.activation = fas::Activation::Relu;
      c.positionOffset = 2;
      c.preNorm = false;
      c.wordEmbedDim = 16;
      break;
    case Variant::LlamaGqa:
    case Variant::Qwen2:
      c.family = fas::Family::Llama;
      c.norm = fas::NormKind::RmsNorm;
      c.normEps = 1e-6f;
      c.activation = fas::Activation::SiluGated;
      c.positions = fas::PositionKind::Rope;
      c.ropeTheta = variant == Variant::Qwen2 ? 1e6 : 1e4;
      c.numHeads = 4;
      c.numKvHeads = 2;
      c.headDim = 6;
      c.tiedHead = variant == Variant::Qwen2;
      break;
  }
  return c;
}

// Which optional tensors each variant has, as its Hugging Face checkpoint would.
bool hasOptional(Variant variant, const std::string& name) {
  const auto endsWith = [&](const char* suffix) {
    const std::string s = suffix;
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  switch (variant) {
    case Variant::Gpt2:
    case Variant::Opt: return true;
    case Variant::Opt350m: return name.rfind("final_norm", 0) != 0;  // post-norm OPT has no final norm
    case Variant::LlamaGqa: return name == "final_norm.weight";
    case Variant::Qwen2:
      return name == "final_norm.weight" || endsWith("attn.q.bias") || endsWith("attn.k.bias") ||
             endsWith("attn.v.bias");
  }
  return false;
}

std::shared_ptr<const fas::Model> tinyModel(Variant variant, uint32_t seed = 1) {
  const ModelConfig c = tinyConfig(variant);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::map<std::string, std::vector<float>> tensors;
  for (const auto& slot : fas::tensorSlots(c)) {
    if (!slot.required && !hasOptional(variant, slot.name)) continue;
    int64_t n = 1;
    for (const int64_t d : slot.shape) n *= d;
    const bool normWeight = slot.name.find("norm.weight") != std::string::npos;
    const float scale = slot.shape.size() == 2 ? 1.0f / std::sqrt(float(slot.shape[1])) : 0.2f;
    std::vector<float> values(n);
    for (auto& v : values) v = (normWeight ? 1.0f : 0.0f) + scale * normal(rng) * (slot.name == "embed.tokens" ? 5 : 1);
    tensors[slot.name] = std::move(values);
  }
  return fas::modelFromTensors(c, std::move(tensors));
}

std::vector<int32_t> randomIds(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng() % vocab);
  return ids;
}

double relativeError(const float* a, const float* b, int64_t n) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// The Hugging Face graphs restated plainly for one sequence from position 0, with the reference ops.
std::vector<float> referenceLogits(const fas::Model& m, const std::vector<int32_t>& ids) {
  const ModelConfig& c = m.config;
  const int64_t S = static_cast<int64_t>(ids.size()), h = c.hiddenSize, e = c.wordEmbedDim;
  const auto linear = [&](const std::vector<float>& x, fas::WeightView w, fas::WeightView b, int64_t in, int64_t out) {
    std::vector<float> y(S * out);
    fas::ops::linear_ref(x.data(), w, b.f32(), y.data(), S, in, out);
    return y;
  };
  const auto norm = [&](const std::vector<float>& x, fas::WeightView w, fas::WeightView b) {
    std::vector<float> y(x.size());
    if (c.norm == fas::NormKind::RmsNorm) fas::ops::rmsnorm_ref(x.data(), w.f32(), y.data(), S, h, c.normEps);
    else fas::ops::layernorm_ref(x.data(), w.f32(), b.f32(), y.data(), S, h, c.normEps);
    return y;
  };
  const auto add = [](std::vector<float> a, const std::vector<float>& b) {
    for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    return a;
  };
  std::vector<int32_t> pos(S);
  for (int64_t s = 0; s < S; ++s) pos[s] = static_cast<int32_t>(s);

  std::vector<float> x(S * e);
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t k = 0; k < e; ++k) x[s * e + k] = m.tokens.at(ids[s] * e + k);
  }
  if (m.projectIn) x = linear(x, m.projectIn, nullptr, e, h);
  if (c.positions == fas::PositionKind::Learned) {
    for (int64_t s = 0; s < S; ++s) {
      for (int64_t k = 0; k < h; ++k) x[s * h + k] += m.positions.at((s + c.positionOffset) * h + k);
    }
  }
  for (const auto& L : m.layers) {
    const auto attention = [&](const std::vector<float>& in) {
      auto q = linear(in, L.q, L.qB, h, c.qDim()), k = linear(in, L.k, L.kB, h, c.kvDim());
      const auto v = linear(in, L.v, L.vB, h, c.kvDim());
      if (c.positions == fas::PositionKind::Rope) {
        fas::ops::rope_ref(q.data(), pos.data(), S, c.numHeads, c.headDim, c.ropeTheta);
        fas::ops::rope_ref(k.data(), pos.data(), S, c.numKvHeads, c.headDim, c.ropeTheta);
      }
      std::vector<float> ctx(q.size());
      fas::ops::attention_ref({1, S, 0, S, c.numHeads, c.numKvHeads, c.headDim}, q.data(), k.data(), v.data(),
                              ctx.data());
      return linear(ctx, L.o, L.oB, c.qDim(), h);
    };
    const auto ffn = [&](const std::vector<float>& in) {
      auto up = linear(in, L.up, L.upB, h, c.ffnSize);
      if (c.activation == fas::Activation::SiluGated) {
        const auto gate = linear(in, L.gate, L.gateB, h, c.ffnSize);
        fas::ops::silu_mul_ref(gate.data(), up.data(), up.data(), S * c.ffnSize);
      } else if (c.activation == fas::Activation::GeluNew) {
        fas::ops::gelu_new_ref(up.data(), up.data(), S * c.ffnSize);
      } else {
        fas::ops::relu_ref(up.data(), up.data(), S * c.ffnSize);
      }
      return linear(up, L.down, L.downB, c.ffnSize, h);
    };
    if (c.preNorm) {
      x = add(x, attention(norm(x, L.attnNormW, L.attnNormB)));
      x = add(x, ffn(norm(x, L.ffnNormW, L.ffnNormB)));
    } else {
      x = norm(add(x, attention(x)), L.attnNormW, L.attnNormB);
      x = norm(add(x, ffn(x)), L.ffnNormW, L.ffnNormB);
    }
  }
  if (m.finalNormW) x = norm(x, m.finalNormW, m.finalNormB);
  if (m.projectOut) x = linear(x, m.projectOut, nullptr, h, e);
  return linear(x, m.head, nullptr, e, c.vocabSize);
}

}  // namespace

TEST(model_every_family_matches_the_reference_graph) {
  fas::ThreadPool pool(2);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);  // every kernel width, whatever this CPU picks by default
    for (const Variant variant : kVariants) {
      const auto model = tinyModel(variant);
      const int64_t vocab = model->config.vocabSize, seq = 11;
      const auto ids = randomIds(seq, vocab, 3);
      const auto logits = fas::forwardSequences(*model, pool, ids.data(), 1, seq, false);
      CHECK(static_cast<int64_t>(logits.size()) == seq * vocab);
      for (const float v : logits) CHECK(std::isfinite(v));
      const auto ref = referenceLogits(*model, ids);
      CHECK(relativeError(logits.data(), ref.data(), seq * vocab) < 1e-5);
    }
  }
}

TEST(model_batch_and_last_only_agree_with_single_sequences) {
  fas::ThreadPool pool(3);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize, batch = 3, seq = 7;
    const auto ids = randomIds(batch * seq, vocab, 4);
    const auto all = fas::forwardSequences(*model, pool, ids.data(), batch, seq, false);
    const auto last = fas::forwardSequences(*model, pool, ids.data(), batch, seq, true);
    CHECK(static_cast<int64_t>(last.size()) == batch * vocab);
    for (int64_t b = 0; b < batch; ++b) {
      const auto one = fas::forwardSequences(*model, pool, ids.data() + b * seq, 1, seq, false);
      CHECK(relativeError(all.data() + b * seq * vocab, one.data(), seq * vocab) < 1e-6);
      CHECK(relativeError(last.data() + b * vocab, one.data() + (seq - 1) * vocab, vocab) < 1e-6);
    }
  }
}

TEST(model_session_cache_equals_full_forward) {
  fas::ThreadPool pool(2);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize;
    const auto ids = randomIds(20, vocab, 5);
    fas::Session session(model);
    // Prefill 6, then single tokens, then a chunk of 5, then singles: each step's logits must equal
    // the full forward over everything so far.
    int64_t done = 0;
    for (const int64_t chunk : {6, 1, 1, 5, 1, 1, 1, 1, 3}) {
      const auto& logits = session.eval(pool, ids.data() + done, chunk, nullptr);
      done += chunk;
      const auto full = fas::forwardSequences(*model, pool, ids.data(), 1, done, true);
      CHECK(relativeError(logits.data(), full.data(), vocab) < 1e-5);
    }
    CHECK(static_cast<int64_t>(session.tokens().size()) == done);
  }
}

TEST(model_greedy_generation_follows_argmax_of_full_forward) {
  fas::ThreadPool pool(2);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize;
    fas::Session session(model);
    fas::GenerateOptions options;
    options.prompt = randomIds(5, vocab, 6);
    options.maxTokens = 8;
    std::vector<int32_t> streamed;
    std::atomic<bool> abort{false};
    const auto result = fas::generate(
        session, pool, options, [&](int32_t t) { streamed.push_back(t); }, abort);
    CHECK(result.stopReason == fas::StopReason::Length);
    CHECK(result.tokens.size() == 8 && streamed == result.tokens);
    std::vector<int32_t> context = options.prompt;
    for (const int32_t token : result.tokens) {
      const auto logits = fas::forwardSequences(*model, pool, context.data(), 1, context.size(), true);
      CHECK(token == fas::ops::argmax(logits.data(), vocab));
      context.push_back(token);
    }
    CHECK(session.tokens() == context);
  }
}

TEST(model_generation_stops_on_eos_abort_and_full_context) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::LlamaGqa);
  std::atomic<bool> abort{false};
  fas::GenerateOptions options;
  options.prompt = {1, 2, 3};
  options.maxTokens = 5;
  fas::Session probe(model);
  const auto first = fas::generate(
      probe, pool, options, [](int32_t) {}, abort);
  // An end-of-sequence id stops right after it is produced, and it is part of the result.
  options.eosIds = {first.tokens[2]};
  fas::Session eos(model);
  const auto stopped = fas::generate(
      eos, pool, options, [](int32_t) {}, abort);
  CHECK(stopped.stopReason == fas::StopReason::Eos);
  CHECK(stopped.tokens.back() == first.tokens[2] && stopped.tokens.size() <= 3);
  // Abort from the token callback: no further token.
  fas::Session aborted(model);
  int calls = 0;
  const auto cut = fas::generate(
      aborted, pool, options, [&](int32_t) { abort = ++calls == 2; }, abort);
  CHECK(cut.stopReason == fas::StopReason::Aborted && cut.tokens.size() == 2);
  abort = false;
  // A full context stops with Length at maxPositions tokens.
  fas::Session full(model);
  options.eosIds.clear();
  options.prompt = randomIds(model->config.maxPositions - 2, model->config.vocabSize, 7);
  options.maxTokens = 100;
  const auto capped = fas::generate(
      full, pool, options, [](int32_t) {}, abort);
  CHECK(capped.stopReason == fas::StopReason::Length && capped.tokens.size() == 2);
  CHECK(static_cast<int64_t>(full.tokens().size()) == model->config.maxPositions);
}

TEST(model_sampled_generation_is_reproducible) {
  fas::ThreadPool pool(2);
  const auto model = tinyModel(Variant::Gpt2);
  std::atomic<bool> abort{false};
  fas::GenerateOptions options;
  options.prompt = {4, 5, 6};
  options.maxTokens = 12;
  options.sampling.temperature = 1.5f;
  options.sampling.topK = 20;
  options.sampling.topP = 0.95f;
  options.sampling.repetitionPenalty = 1.3f;
  options.seed = 1234;
  const auto run = [&] {
    fas::Session session(model);
    return fas::generate(
               session, pool, options, [](int32_t) {}, abort)
        .tokens;
  };
  const auto a = run();
  CHECK(a == run());
  options.seed = 99;
  CHECK(a != run());  // 12 draws over a spread distribution: another seed differs
}

TEST(model_rejects_overflow_and_bad_ids) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::Gpt2);
  const auto tooLong = randomIds(model->config.maxPositions + 1, model->config.vocabSize, 8);
  const auto throwsWith = [](const std::function<void()>& f, const std::string& text) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
  };
  CHECK(throwsWith([&] { fas::forwardSequences(*model, pool, tooLong.data(), 1, tooLong.size(), true); },
                   "context overflow"));
  fas::Session session(model);
  session.eval(pool, tooLong.data(), 30, nullptr);
  CHECK(throwsWith([&] { session.eval(pool, tooLong.data(), 3, nullptr); }, "context overflow"));
  CHECK(session.tokens().size() == 30);  // a failed eval leaves the context as it was
  const int32_t bad[] = {1, 53};
  CHECK(throwsWith([&] { fas::forwardSequences(*model, pool, bad, 1, 2, false); }, "token id 53 at index 1"));
  CHECK(throwsWith([&] { session.eval(pool, bad, 2, nullptr); }, "outside the vocabulary"));
}

TEST(model_abort_during_prefill_keeps_the_session_usable) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::Opt);
  fas::Session session(model);
  const auto ids = randomIds(10, model->config.vocabSize, 9);
  std::atomic<bool> abort{true};
  bool aborted = false;
  try {
    session.eval(pool, ids.data(), 10, &abort);
  } catch (const fas::Aborted&) {
    aborted = true;
  }
  CHECK(aborted && session.tokens().empty());
  const auto& logits = session.eval(pool, ids.data(), 10, nullptr);
  const auto full = fas::forwardSequences(*model, pool, ids.data(), 1, 10, true);
  CHECK(relativeError(logits.data(), full.data(), model->config.vocabSize) < 1e-5);
}

TEST(model_from_tensors_rejects_wrong_weights) {
  const ModelConfig c = tinyConfig(Variant::Gpt2);
  const auto fails = [&](std::map<std::string, std::vector<float>> tensors, const std::string& text) {
    try {
      fas::modelFromTensors(c, std::move(tensors));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
  };
  CHECK(fails({{"embed.tokens", std::vector<float>(3)}}, "embed.tokens: 3 values"));
  CHECK(fails({{"layers.0.attn.q.weight2", {}}}, "not a tensor"));
  CHECK(fails({}, "tensor embed.positions is missing"));  // the first missing name, in order
  ModelConfig bad = c;
  bad.numKvHeads = 2;
  bool threw = false;
  try {
    fas::modelFromTensors(bad, {});
  } catch (const std::invalid_argument& e) {
    threw = std::string(e.what()).find("numKvHeads") != std::string::npos;
  }
  CHECK(threw);
}
