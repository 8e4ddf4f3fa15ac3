// The readers of model_readers.h: NativeModelSpec, NativeSpikingParams, RunModeOptions, GenerateOptions.
#include "binding/model_readers.h"

#include <stdexcept>

#include "binding/js_values.h"
#include "engine/runtime/forward.h"

namespace fas::binding {
namespace {

TensorRef tensorRef(const Napi::Value& v, const std::string& where) {
  const Napi::Object o = object(v, where);
  TensorRef ref;
  ref.file = string(field(o, where, "file"), where + ".file");
  ref.offset = static_cast<uint64_t>(integer(field(o, where, "offset"), where + ".offset", 0, kMaxSafe));
  ref.byteLength = static_cast<uint64_t>(integer(field(o, where, "byteLength"), where + ".byteLength", 0, kMaxSafe));
  ref.dtype = choice<DType>(field(o, where, "dtype"), where + ".dtype",
                            {{"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}});
  const Napi::Value shape = field(o, where, "shape");
  if (!shape.IsArray()) throw typeError(o.Env(), where + ".shape must be an array");
  const Napi::Array dims = shape.As<Napi::Array>();
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    ref.shape.push_back(integer(dims.Get(i), where + ".shape[" + std::to_string(i) + "]", 0, kMaxSafe));
  }
  const Napi::Value transposed = field(o, where, "transposed", false);
  ref.transposed = !transposed.IsUndefined() && boolean(transposed, where + ".transposed");
  const Napi::Value split = field(o, where, "split", false);
  if (!split.IsUndefined()) {
    const Napi::Object s = object(split, where + ".split");
    ref.splitIndex = integer(field(s, where + ".split", "index"), where + ".split.index", 0, kMaxInt);
    ref.splitParts = integer(field(s, where + ".split", "parts"), where + ".split.parts", 1, kMaxInt);
  }
  return ref;
}

}  // namespace

ModelSpec readModelSpec(const Napi::Value& v) {
  if (!v.IsObject()) throw typeError(v.Env(), "loadModel needs a NativeModelSpec object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string w = "spec";
  const auto count = [&](const char* key, int64_t min = 1) {
    return integer(field(o, w, key), w + "." + key, min, kMaxInt);
  };
  ModelSpec spec;
  ModelConfig& c = spec.config;
  c.family = choice<Family>(field(o, w, "family"), w + ".family",
                            {{"gpt2", Family::Gpt2}, {"opt", Family::Opt}, {"llama", Family::Llama}});
  c.vocabSize = count("vocabSize");
  c.hiddenSize = count("hiddenSize");
  c.numLayers = count("numLayers");
  c.numHeads = count("numHeads");
  c.numKvHeads = count("numKvHeads");
  c.headDim = count("headDim");
  c.ffnSize = count("ffnSize");
  c.maxPositions = count("maxPositions");
  c.positionOffset = count("positionOffset", 0);
  c.norm = choice<NormKind>(field(o, w, "norm"), w + ".norm",
                            {{"layernorm", NormKind::LayerNorm}, {"rmsnorm", NormKind::RmsNorm}});
  c.normEps = static_cast<float>(number(field(o, w, "normEps"), w + ".normEps"));
  c.activation = choice<Activation>(
      field(o, w, "activation"), w + ".activation",
      {{"gelu_new", Activation::GeluNew}, {"relu", Activation::Relu}, {"silu_gated", Activation::SiluGated}});
  c.positions = choice<PositionKind>(field(o, w, "positions"), w + ".positions",
                                     {{"learned", PositionKind::Learned}, {"rope", PositionKind::Rope}});
  c.ropeTheta = number(field(o, w, "ropeTheta"), w + ".ropeTheta");
  c.preNorm = boolean(field(o, w, "preNorm"), w + ".preNorm");
  c.wordEmbedDim = count("wordEmbedDim");
  c.tiedHead = boolean(field(o, w, "tiedHead"), w + ".tiedHead");
  const Napi::Object tensors = object(field(o, w, "tensors"), w + ".tensors");
  for (const std::string& name : keys(tensors)) {
    spec.tensors[name] = tensorRef(tensors.Get(name), "spec.tensors['" + name + "']");
  }
  return spec;
}

ops::SamplingParams readSamplingParams(const Napi::Object& o, uint64_t& seed) {
  const std::string w = "generate options";
  ops::SamplingParams p;
  const auto optional = [&](const char* key) { return field(o, w, key, false); };
  if (!optional("temperature").IsUndefined()) {
    p.temperature = static_cast<float>(number(optional("temperature"), "temperature"));
    if (p.temperature < 0) throw typeError(o.Env(), "temperature must be >= 0");
  }
  if (!optional("topK").IsUndefined()) p.topK = static_cast<int32_t>(integer(optional("topK"), "topK", 0, kMaxInt));
  if (!optional("topP").IsUndefined()) {
    p.topP = static_cast<float>(number(optional("topP"), "topP"));
    if (!(p.topP > 0 && p.topP <= 1)) throw typeError(o.Env(), "topP must be in (0, 1]");
  }
  if (!optional("repetitionPenalty").IsUndefined()) {
    p.repetitionPenalty = static_cast<float>(number(optional("repetitionPenalty"), "repetitionPenalty"));
    if (!(p.repetitionPenalty > 0)) throw typeError(o.Env(), "repetitionPenalty must be > 0");
  }
  seed = optional("seed").IsUndefined() ? 0 : static_cast<uint64_t>(integer(optional("seed"), "seed", 0, kMaxSafe));
  return p;
}

SpikingParams readSpikingParams(const Napi::Value& v) {
  const std::string w = "options.spiking";
  const Napi::Object o = object(v, w);
  SpikingParams p;
  p.levels = static_cast<int>(integer(field(o, w, "levels"), w + ".levels", 1, 65536));
  p.signedSpikes = boolean(field(o, w, "signed"), w + ".signed");
  const Napi::Value timesteps = field(o, w, "timesteps", false);
  if (!timesteps.IsUndefined()) p.timesteps = static_cast<int>(integer(timesteps, w + ".timesteps", 1, kMaxTimesteps));
  const Napi::Value scope = field(o, w, "scope", false);
  if (!scope.IsUndefined()) {
    p.scope = choice<SpikingScope>(scope, w + ".scope", {{"ffn", SpikingScope::Ffn}, {"all", SpikingScope::All}});
  }
  if (p.scope == SpikingScope::All) {
    // Scope all: sites[layer] = {attn_in, q, v, attn_out, ffn_in, qcfs}, and headIn.
    const Napi::Value sites = field(o, w, "sites");
    if (!sites.IsArray()) throw typeError(v.Env(), w + ".sites must be an array, one entry per layer");
    const Napi::Array layers = sites.As<Napi::Array>();
    for (uint32_t l = 0; l < layers.Length(); ++l) {
      const std::string where = w + ".sites[" + std::to_string(l) + "]";
      const Napi::Object layer = object(layers.Get(l), where);
      LayerSiteLambdas lambdas;
      for (int site = 0; site < kLayerSites; ++site) {
        const char* name = siteName(Site(site));
        lambdas[site] = copyOf(float32Array(field(layer, where, name), where + "." + name));
      }
      p.sites.push_back(std::move(lambdas));
    }
    p.headIn = copyOf(float32Array(field(o, w, "headIn"), w + ".headIn"));
  } else {
    p.lambdas = copyOf(float32Array(field(o, w, "lambdas"), w + ".lambdas"));
  }
  const Napi::Value neurons = field(o, w, "neurons", false);
  if (!neurons.IsUndefined() && !neurons.IsNull()) {
    if (!neurons.IsArray()) throw typeError(v.Env(), w + ".neurons must be an array, one entry per layer");
    const Napi::Array layers = neurons.As<Napi::Array>();
    for (uint32_t l = 0; l < layers.Length(); ++l) {
      p.neurons.push_back(neuronValues(layers.Get(l), w + ".neurons[" + std::to_string(l) + "]"));
    }
  }
  const Napi::Value backend = field(o, w, "backend", false);
  if (!backend.IsUndefined()) p.preferCuda = choice<bool>(backend, w + ".backend", {{"cpu", false}, {"cuda", true}});
  return p;
}

RunMode readRunMode(const Napi::Value& v, const std::string& where, const Model& model) {
  RunMode mode;
  if (v.IsUndefined()) return mode;
  const Napi::Object o = object(v, where);
  const Napi::Value name = field(o, where, "mode", false);
  if (!name.IsUndefined()) {
    mode.ffn =
        choice<FfnMode>(name, where + ".mode", {{"ann", FfnMode::Ann}, {"qcfs", FfnMode::Qcfs}, {"snn", FfnMode::Snn}});
  }
  const Napi::Value timesteps = field(o, where, "timesteps", false);
  if (!timesteps.IsUndefined()) {
    mode.timesteps = static_cast<int>(integer(timesteps, where + ".timesteps", 1, kMaxTimesteps));
  } else if (model.spiking) {
    mode.timesteps = model.spiking->params().timesteps;
  }
  const Napi::Value neuronRates = field(o, where, "neuronRates", false);
  mode.neuronRates = !neuronRates.IsUndefined() && boolean(neuronRates, where + ".neuronRates");
  try {
    checkMode(model, mode);
  } catch (const std::invalid_argument& e) {
    throw Napi::Error::New(v.Env(), e.what());
  }
  return mode;
}

}  // namespace fas::binding
