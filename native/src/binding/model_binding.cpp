// loadModel, NativeModel and NativeSession: the JS face of the inference engine (typed in
// native/index.ts). Long work runs on libuv's worker threads; results are copied into JS-owned
// Float32Arrays. Engine exceptions become rejected promises with the engine's message.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "binding/bindings.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "engine/model/loader.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/session.h"
#include "engine/runtime/site_thresholds.h"
#include "engine/runtime/spiking_site.h"
#include "engine/runtime/spiking_stats.h"
#include "engine/threadpool.h"
#include "hardware.h"

namespace fas::binding {
namespace {

// One pool for the whole process: ops from concurrent calls take turns on it. Never destroyed, so
// no worker is joined while the process exits.
ThreadPool& pool() {
  static ThreadPool* shared = new ThreadPool(std::max(1, detectHardware().physicalCores));
  return *shared;
}

// ---- Reading JS values ------------------------------------------------------------------------

constexpr int64_t kMaxId = 0x7fffffff;

// Token ids from an Int32Array or an array of integers.
std::vector<int32_t> tokenIds(const Napi::Value& v, const std::string& name) {
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    const Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
  }
  if (!v.IsArray()) throw typeError(v.Env(), name + " must be an Int32Array or an array of token ids");
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<int32_t> ids(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    ids[i] = static_cast<int32_t>(integer(a.Get(i), name + "[" + std::to_string(i) + "]", 0, kMaxId));
  }
  return ids;
}

TensorRef tensorRef(const Napi::Value& v, const std::string& where) {
  if (!v.IsObject()) throw typeError(v.Env(), where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  TensorRef ref;
  const Napi::Value file = field(o, where, "file");
  if (!file.IsString()) throw typeError(o.Env(), where + ".file must be a string");
  ref.file = file.As<Napi::String>().Utf8Value();
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
    if (!split.IsObject()) throw typeError(o.Env(), where + ".split must be an object");
    const Napi::Object s = split.As<Napi::Object>();
    ref.splitIndex = integer(field(s, where + ".split", "index"), where + ".split.index", 0, kMaxId);
    ref.splitParts = integer(field(s, where + ".split", "parts"), where + ".split.parts", 1, kMaxId);
  }
  return ref;
}

ModelSpec modelSpec(const Napi::Value& v) {
  if (!v.IsObject()) throw typeError(v.Env(), "loadModel needs a NativeModelSpec object");
  const Napi::Object o = v.As<Napi::Object>();
  const std::string w = "spec";
  const auto count = [&](const char* key, int64_t min = 1) {
    return integer(field(o, w, key), w + "." + key, min, kMaxId);
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
  const Napi::Value tensors = field(o, w, "tensors");
  if (!tensors.IsObject()) throw typeError(o.Env(), "spec.tensors must be an object");
  const Napi::Object t = tensors.As<Napi::Object>();
  const Napi::Array names = t.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    spec.tensors[name] = tensorRef(t.Get(name), "spec.tensors['" + name + "']");
  }
  return spec;
}

ops::SamplingParams samplingParams(const Napi::Object& o, uint64_t& seed) {
  const std::string w = "generate options";
  ops::SamplingParams p;
  const auto optional = [&](const char* key) { return field(o, w, key, false); };
  if (!optional("temperature").IsUndefined()) {
    p.temperature = static_cast<float>(number(optional("temperature"), "temperature"));
    if (p.temperature < 0) throw typeError(o.Env(), "temperature must be >= 0");
  }
  if (!optional("topK").IsUndefined()) p.topK = static_cast<int32_t>(integer(optional("topK"), "topK", 0, kMaxId));
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

// ---- Spiking modes ----------------------------------------------------------------------------

std::vector<float> floats(const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw typeError(v.Env(), name + " must be a Float32Array");
  }
  const Napi::Float32Array a = v.As<Napi::Float32Array>();
  return std::vector<float>(a.Data(), a.Data() + a.ElementLength());
}

// One layer's {threshold, v0, shape}: shape [1], [ffn] or [positions, ffn] (SpikingSite checks ffn).
NeuronValues neuronValues(const Napi::Value& v, const std::string& where) {
  if (!v.IsObject()) throw typeError(v.Env(), where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  NeuronValues n;
  n.threshold = floats(field(o, where, "threshold"), where + ".threshold");
  n.v0 = floats(field(o, where, "v0"), where + ".v0");
  const Napi::Value shape = field(o, where, "shape");
  const Napi::Array dims = shape.IsArray() ? shape.As<Napi::Array>() : Napi::Array::New(v.Env());
  if (dims.Length() < 1 || dims.Length() > 2) throw typeError(v.Env(), where + ".shape must have 1 or 2 dimensions");
  int64_t size = 1;
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    size *= integer(dims.Get(i), where + ".shape[" + std::to_string(i) + "]", 1, kMaxId);
  }
  if (size != static_cast<int64_t>(n.threshold.size())) {
    throw typeError(v.Env(), where + ".shape holds " + std::to_string(size) + " values, threshold " +
                                 std::to_string(n.threshold.size()));
  }
  if (dims.Length() == 2) n.positions = integer(dims.Get(0u), where + ".shape[0]", 1, kMaxId);
  return n;
}

SpikingParams spikingParams(const Napi::Value& v) {
  const std::string w = "options.spiking";
  if (!v.IsObject()) throw typeError(v.Env(), w + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
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
      const Napi::Value layer = layers.Get(l);
      if (!layer.IsObject()) throw typeError(v.Env(), where + " must be an object");
      LayerSiteLambdas lambdas;
      for (int site = 0; site < kLayerSites; ++site) {
        const char* name = siteName(Site(site));
        lambdas[site] = floats(field(layer.As<Napi::Object>(), where, name), where + "." + name);
      }
      p.sites.push_back(std::move(lambdas));
    }
    p.headIn = floats(field(o, w, "headIn"), w + ".headIn");
  } else {
    p.lambdas = floats(field(o, w, "lambdas"), w + ".lambdas");
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

// {mode, timesteps, neuronRates} of forward options or session options; snn's T defaults to the
// model's (its spiking_config.json T).
RunMode runMode(const Napi::Value& v, const std::string& where, const Model& model) {
  RunMode mode;
  if (v.IsUndefined()) return mode;
  if (!v.IsObject()) throw typeError(v.Env(), where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
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

const char* modeName(FfnMode mode) {
  switch (mode) {
    case FfnMode::Qcfs: return "qcfs";
    case FfnMode::Snn: return "snn";
    case FfnMode::Ann: break;
  }
  return "ann";
}

// InferenceStats in native/index.ts.
Napi::Object statsObject(Napi::Env env, const RunStats& s, const ModelConfig& c) {
  const double tokens = s.tokens > 0 ? double(s.tokens) : 1.0;  // per-token values of no tokens are 0
  const bool snn = s.mode.ffn == FfnMode::Snn;
  Napi::Object out = Napi::Object::New(env);
  out.Set("mode", modeName(s.mode.ffn));
  out.Set("timesteps", snn ? s.mode.timesteps : 1);
  out.Set("scope", s.mode.layerEncoding ? "all" : "ffn");
  out.Set("tokens", double(s.tokens));
  out.Set("macsPerToken", s.ops.macs / tokens);
  out.Set("acsPerToken", s.ops.acs / tokens);
  out.Set("annMacsPerToken", s.annOps.macs / tokens);
  Napi::Object energy = Napi::Object::New(env);
  energy.Set("picojoules", s.ops.picojoules() / tokens);
  energy.Set("annPicojoules", s.annOps.picojoules() / tokens);
  energy.Set("saving", s.tokens > 0 ? spiking::energySaving(s.annOps, s.ops) : 0.0);
  out.Set("energyPerToken", energy);
  Napi::Array rates = Napi::Array::New(env), spikes = Napi::Array::New(env);
  for (uint32_t l = 0; snn && l < s.spikes.size(); ++l) {
    rates.Set(l, s.firingRate(l, c.ffnSize));
    spikes.Set(l, double(s.spikes[l]));
  }
  Napi::Array sites = Napi::Array::New(env);
  if (snn && s.mode.layerEncoding) {
    for (uint32_t l = 0; l < c.numLayers; ++l) {
      rates.Set(l, s.layerSiteFiringRate(l));
      double count = 0;
      for (int k = 0; k < kLayerSites; ++k) count += s.sites[l * kLayerSites + k].absCount;
      spikes.Set(l, count);
    }
    for (int k = 0; k < kSiteCount; ++k) {
      Napi::Object site = Napi::Object::New(env);
      site.Set("site", siteName(Site(k)));
      site.Set("firingRate", s.siteFiringRate(Site(k)));
      Napi::Array perLayer = Napi::Array::New(env);
      for (uint32_t l = 0; Site(k) != Site::HeadIn && l < c.numLayers; ++l) {
        const spiking::SiteTally& t = s.sites[l * kLayerSites + k];
        perLayer.Set(l, t.values > 0 ? t.absCount / (double(t.values) * s.siteLevels) : 0.0);
      }
      site.Set("layerFiringRates", perLayer);
      site.Set("acsPerToken", s.siteAcs[k] / tokens);
      site.Set("picojoulesPerToken", s.siteAcs[k] * spiking::kAcPicojoules / tokens);
      sites.Set(uint32_t(k), site);
    }
  }
  out.Set("sites", sites);
  out.Set("firingRates", rates);
  out.Set("spikes", spikes);
  if (snn && !s.neuronSpikes.empty()) {
    Napi::Array layers = Napi::Array::New(env, s.neuronSpikes.size());
    for (uint32_t l = 0; l < s.neuronSpikes.size(); ++l) {
      Napi::Float32Array r = Napi::Float32Array::New(env, c.ffnSize);
      float* data = r.Data();
      for (int64_t i = 0; i < c.ffnSize; ++i) data[i] = static_cast<float>(s.neuronFiringRate(l, i));
      layers.Set(l, r);
    }
    out.Set("neuronFiringRates", layers);
  } else {
    out.Set("neuronFiringRates", env.Null());
  }
  Napi::Object down = Napi::Object::New(env);
  down.Set("event", double(s.eventCalls));
  down.Set("dense", double(s.denseCalls));
  down.Set("gpu", double(s.gpuCalls));
  out.Set("downProjection", down);
  out.Set("backend", s.gpuCalls > 0 ? "cuda" : "cpu");
  out.Set("backendNote", s.gpuNote);
  out.Set("counted", s.mode.layerEncoding && snn ? kAllSitesOpCountScope : kOpCountScope);
  return out;
}

// ---- Results ----------------------------------------------------------------------------------

const char* stopReasonName(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::Aborted: return "aborted";
    case StopReason::Length: break;
  }
  return "length";
}

// Runs Execute() off the JS thread and settles a promise with result() or the error.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  virtual Napi::Value result(Napi::Env env) = 0;
  virtual void settled() {}  // on the JS thread, before the promise settles

  void OnOK() override {
    settled();
    try {
      deferred_.Resolve(result(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    settled();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
};

// ---- Classes ----------------------------------------------------------------------------------

// Constructors of the wrapped classes, for creating instances from C++. Freed with the environment.
struct Classes {
  Napi::FunctionReference model, session;
};

// What createSession() hands the NativeSession constructor.
struct SessionInit {
  std::shared_ptr<const Model> model;
  RunMode mode;
};

struct SessionState {
  explicit SessionState(const SessionInit& init) : session(init.model, init.mode) {}
  Session session;
  std::atomic<bool> abort{false};
  std::atomic<bool> busy{false};  // one eval or generate at a time
  bool ran = false;               // an eval or generate finished: lastStats() has something to say
};

class NativeSession : public Napi::ObjectWrap<NativeSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeSession",
        {InstanceMethod<&NativeSession::eval>("eval"), InstanceMethod<&NativeSession::generate>("generate"),
         InstanceMethod<&NativeSession::abort>("abort"), InstanceMethod<&NativeSession::reset>("reset"),
         InstanceMethod<&NativeSession::lastStats>("lastStats")});
  }

  explicit NativeSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSession>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw typeError(info.Env(), "NativeSession is created by model.createSession()");
    }
    state_ = std::make_shared<SessionState>(*info[0].As<Napi::External<SessionInit>>().Data());
  }

 private:
  class EvalWorker : public PromiseWorker {
   public:
    EvalWorker(Napi::Env env, std::shared_ptr<SessionState> state, std::vector<int32_t> ids)
        : PromiseWorker(env), state_(std::move(state)), ids_(std::move(ids)) {}
    void Execute() override {
      logits_ = state_->session.eval(pool(), ids_.data(), static_cast<int64_t>(ids_.size()), &state_->abort);
    }
    Napi::Value result(Napi::Env env) override { return toFloat32Array(env, logits_); }
    void settled() override {
      state_->ran = true;
      state_->busy = false;
    }

   private:
    std::shared_ptr<SessionState> state_;
    std::vector<int32_t> ids_;
    std::vector<float> logits_;
  };

  // Shared by the worker thread and the JS thread; the thread-safe function's finalizer, which runs
  // after every queued token was delivered, settles the promise and frees it.
  struct GenerateJob {
    std::shared_ptr<SessionState> state;
    GenerateOptions options;
    Napi::Promise::Deferred deferred;
    Napi::ThreadSafeFunction onToken;
    GenerateResult result;
    std::string error;                    // from the engine
    Napi::Reference<Napi::Value> thrown;  // what onToken threw, if it did
  };

  // Tokens generated but not yet delivered to onToken, at most.
  static constexpr size_t kTokensAhead = 2;

  class GenerateWorker : public Napi::AsyncWorker {
   public:
    GenerateWorker(Napi::Env env, GenerateJob* job) : Napi::AsyncWorker(env), job_(job) {}
    void Execute() override {
      GenerateJob* job = job_;
      const auto queueToken = [job](int32_t token) {
        job->onToken.BlockingCall([job, token](Napi::Env env, Napi::Function f) { deliver(env, f, job, token); });
      };
      try {
        job->result = fas::generate(job->state->session, pool(), job->options, queueToken, job->state->abort);
      } catch (const std::exception& e) {
        job->error = e.what();
      }
      job->onToken.Release();  // the finalizer runs once the queued tokens are delivered
    }

   private:
    GenerateJob* job_;
  };

  static void deliver(Napi::Env env, Napi::Function onToken, GenerateJob* job, int32_t token) {
    if (!job->thrown.IsEmpty()) return;  // onToken already failed: drop the rest
    try {
      onToken.Call({Napi::Number::New(env, token)});
    } catch (const Napi::Error& e) {
      job->thrown = Napi::Reference<Napi::Value>::New(e.Value(), 1);
      job->state->abort = true;
    }
  }

  static void finish(Napi::Env env, GenerateJob* job) {
    std::unique_ptr<GenerateJob> owned(job);
    job->state->ran = true;
    job->state->busy = false;
    if (!job->thrown.IsEmpty()) {
      job->deferred.Reject(job->thrown.Value());
    } else if (!job->error.empty()) {
      job->deferred.Reject(Napi::Error::New(env, job->error).Value());
    } else {
      Napi::Array tokens = Napi::Array::New(env, job->result.tokens.size());
      for (uint32_t i = 0; i < tokens.Length(); ++i) tokens.Set(i, job->result.tokens[i]);
      Napi::Object out = Napi::Object::New(env);
      out.Set("tokens", tokens);
      out.Set("stopReason", stopReasonName(job->result.stopReason));
      const Session& session = job->state->session;
      out.Set("stats", statsObject(env, session.stats(), session.model().config));
      job->deferred.Resolve(out);
    }
  }

  // Marks the session busy, or throws when it already is.
  void claim(Napi::Env env) {
    if (state_->busy.exchange(true)) {
      throw Napi::Error::New(env, "the session is busy: wait for the previous eval() or generate() to finish");
    }
    state_->abort = false;  // an abort() from now on stops this call
    state_->session.clearStats();
  }

  Napi::Value eval(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&]() -> Napi::Value {
      std::vector<int32_t> ids = tokenIds(info[0], "ids");
      if (ids.empty()) throw typeError(info.Env(), "eval needs at least one token id");
      claim(info.Env());
      auto* worker = new EvalWorker(info.Env(), state_, std::move(ids));
      worker->Queue();
      return worker->promise();
    });
  }

  Napi::Value generate(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      if (!info[0].IsObject()) throw typeError(env, "generate needs an options object");
      if (!info[1].IsFunction()) throw typeError(env, "generate needs an onToken callback");
      const Napi::Object o = info[0].As<Napi::Object>();
      auto job =
          std::make_unique<GenerateJob>(GenerateJob{state_, {}, Napi::Promise::Deferred::New(env), {}, {}, {}, {}});
      job->options.prompt = tokenIds(field(o, "generate options", "promptIds"), "promptIds");
      job->options.maxTokens = integer(field(o, "generate options", "maxTokens"), "maxTokens", 0, kMaxId);
      job->options.sampling = samplingParams(o, job->options.seed);
      const Napi::Value eos = field(o, "generate options", "eosIds", false);
      if (!eos.IsUndefined()) job->options.eosIds = tokenIds(eos, "eosIds");
      claim(env);
      GenerateJob* raw = job.release();
      try {
        // A queue of kTokensAhead: the worker blocks rather than run ahead of a busy JS thread, so an
        // abort() from onToken stops the generation within a few tokens however loaded the machine is.
        raw->onToken = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "fas.generate", kTokensAhead, 1,
                                                     raw, [](Napi::Env e, GenerateJob* j) { finish(e, j); });
      } catch (...) {
        state_->busy = false;
        delete raw;
        throw;
      }
      (new GenerateWorker(env, raw))->Queue();
      return raw->deferred.Promise();
    });
  }

  void abort(const Napi::CallbackInfo&) { state_->abort = true; }

  void reset(const Napi::CallbackInfo& info) {
    if (state_->busy) throw Napi::Error::New(info.Env(), "the session is busy: abort() and wait before reset()");
    state_->session.reset();
    state_->ran = false;
  }

  Napi::Value lastStats(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (state_->busy) throw Napi::Error::New(env, "the session is busy: its statistics come when the call ends");
    if (!state_->ran) return env.Null();
    const Session& session = state_->session;
    return statsObject(env, session.stats(), session.model().config);
  }

  std::shared_ptr<SessionState> state_;
};

class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::Function define(Napi::Env env, Classes* classes) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&NativeModel::forward>("forward"),
                        InstanceMethod<&NativeModel::forwardWithStats>("forwardWithStats"),
                        InstanceMethod<&NativeModel::siteThresholds>("siteThresholds"),
                        InstanceMethod<&NativeModel::createSession>("createSession", napi_default, classes),
                        InstanceMethod<&NativeModel::dispose>("dispose")});
  }

  explicit NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw typeError(info.Env(), "NativeModel is created by loadModel()");
    }
    model_ = *info[0].As<Napi::External<std::shared_ptr<const Model>>>().Data();
  }

 private:
  struct ForwardJob {
    std::vector<int32_t> ids;
    int64_t batch, seqLen;
    bool lastOnly;
    RunMode mode;
    bool withStats;  // resolve with {logits, stats} instead of the logits alone
  };

  class ForwardWorker : public PromiseWorker {
   public:
    ForwardWorker(Napi::Env env, std::shared_ptr<const Model> model, ForwardJob job)
        : PromiseWorker(env), model_(std::move(model)), job_(std::move(job)) {}
    void Execute() override {
      logits_ = forwardSequences(*model_, pool(), job_.ids.data(), job_.batch, job_.seqLen, job_.lastOnly, job_.mode,
                                 job_.withStats ? &stats_ : nullptr);
    }
    Napi::Value result(Napi::Env env) override {
      if (!job_.withStats) return toFloat32Array(env, logits_);
      Napi::Object out = Napi::Object::New(env);
      out.Set("logits", toFloat32Array(env, logits_));
      out.Set("stats", statsObject(env, stats_, model_->config));
      return out;
    }

   private:
    std::shared_ptr<const Model> model_;
    ForwardJob job_;
    std::vector<float> logits_;
    RunStats stats_;
  };

  class ThresholdsWorker : public PromiseWorker {
   public:
    ThresholdsWorker(Napi::Env env, std::shared_ptr<const Model> model, std::vector<int32_t> ids, int64_t batch,
                     int64_t seqLen, double percentile)
        : PromiseWorker(env), model_(std::move(model)), ids_(std::move(ids)), batch_(batch), seqLen_(seqLen),
          percentile_(percentile) {}
    void Execute() override {
      result_ = fas::siteThresholds(*model_, pool(), ids_.data(), batch_, seqLen_, percentile_);
    }
    Napi::Value result(Napi::Env env) override {
      Napi::Array layers = Napi::Array::New(env, result_.sites.size());
      for (uint32_t l = 0; l < result_.sites.size(); ++l) {
        Napi::Object layer = Napi::Object::New(env);
        for (int s = 0; s < kLayerSites; ++s) layer.Set(siteName(Site(s)), toFloat32Array(env, result_.sites[l][s]));
        layers.Set(l, layer);
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("sites", layers);
      out.Set("headIn", toFloat32Array(env, result_.headIn));
      return out;
    }

   private:
    std::shared_ptr<const Model> model_;
    std::vector<int32_t> ids_;
    int64_t batch_, seqLen_;
    double percentile_;
    SiteThresholds result_;
  };

  // siteThresholds(ids, batch, seqLen, percentile): per-channel thresholds of every scope all site.
  Napi::Value siteThresholds(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw typeError(env, "siteThresholds needs ids as an Int32Array");
      }
      std::vector<int32_t> ids = tokenIds(info[0], "ids");
      const int64_t batch = integer(info[1], "batch", 1, kMaxId), seqLen = integer(info[2], "seqLen", 1, kMaxId);
      if (batch * seqLen != static_cast<int64_t>(ids.size())) {
        throw typeError(env, "ids has " + std::to_string(ids.size()) + " entries, batch * seqLen is " +
                                 std::to_string(batch * seqLen));
      }
      if (!info[3].IsNumber()) throw typeError(env, "percentile must be a number in (0, 1]");
      const double percentile = info[3].As<Napi::Number>().DoubleValue();
      if (!(percentile > 0.0 && percentile <= 1.0)) throw typeError(env, "percentile must be a number in (0, 1]");
      auto* worker = new ThresholdsWorker(env, live(env), std::move(ids), batch, seqLen, percentile);
      worker->Queue();
      return worker->promise();
    });
  }

  const std::shared_ptr<const Model>& live(Napi::Env env) const {
    if (!model_) throw Napi::Error::New(env, "the model is disposed");
    return model_;
  }

  Napi::Value forward(const Napi::CallbackInfo& info) { return startForward(info, false); }
  Napi::Value forwardWithStats(const Napi::CallbackInfo& info) { return startForward(info, true); }

  Napi::Value startForward(const Napi::CallbackInfo& info, bool withStats) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw typeError(env, "forward needs ids as an Int32Array");
      }
      std::vector<int32_t> ids = tokenIds(info[0], "ids");
      const int64_t batch = integer(info[1], "batch", 1, kMaxId), seqLen = integer(info[2], "seqLen", 1, kMaxId);
      if (batch * seqLen != static_cast<int64_t>(ids.size())) {
        throw typeError(env, "ids has " + std::to_string(ids.size()) + " entries, batch * seqLen is " +
                                 std::to_string(batch * seqLen));
      }
      const std::shared_ptr<const Model>& model = live(env);
      bool lastOnly = false;
      const Napi::Value options = info[3];
      if (!options.IsUndefined()) {
        if (!options.IsObject()) throw typeError(env, "forward options must be an object");
        const Napi::Value v = options.As<Napi::Object>().Get("lastOnly");
        lastOnly = !v.IsUndefined() && boolean(v, "lastOnly");
      }
      const RunMode mode = runMode(options, "forward options", *model);
      auto* worker =
          new ForwardWorker(env, model, ForwardJob{std::move(ids), batch, seqLen, lastOnly, mode, withStats});
      worker->Queue();
      return worker->promise();
    });
  }

  Napi::Value createSession(const Napi::CallbackInfo& info) {
    auto* classes = static_cast<Classes*>(info.Data());
    SessionInit init{live(info.Env()), {}};
    init.mode = runMode(info[0], "session options", *init.model);
    return classes->session.New({Napi::External<SessionInit>::New(info.Env(), &init)});
  }

  // Sessions and calls in flight keep their own reference, so the memory goes when they are done.
  void dispose(const Napi::CallbackInfo&) { model_.reset(); }

  std::shared_ptr<const Model> model_;
};

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, ModelSpec spec, std::optional<SpikingParams> spiking, Classes* classes)
      : PromiseWorker(env), spec_(std::move(spec)), spiking_(std::move(spiking)), classes_(classes) {}
  void Execute() override {
    std::unique_ptr<Model> model = loadModel(spec_);
    if (spiking_) model->spiking = std::make_shared<SpikingSite>(model->config, std::move(*spiking_));
    model_ = std::move(model);
  }
  Napi::Value result(Napi::Env env) override {
    return classes_->model.New({Napi::External<std::shared_ptr<const Model>>::New(env, &model_)});
  }

 private:
  ModelSpec spec_;
  std::optional<SpikingParams> spiking_;
  Classes* classes_;
  std::shared_ptr<const Model> model_;
};

Napi::Value loadModelJs(const Napi::CallbackInfo& info) {
  return promiseOf(info.Env(), [&]() -> Napi::Value {
    std::optional<SpikingParams> spiking;
    if (!info[1].IsUndefined()) {
      if (!info[1].IsObject()) throw typeError(info.Env(), "loadModel options must be an object");
      const Napi::Value v = info[1].As<Napi::Object>().Get("spiking");
      if (!v.IsUndefined() && !v.IsNull()) spiking = spikingParams(v);
    }
    auto* worker =
        new LoadWorker(info.Env(), modelSpec(info[0]), std::move(spiking), static_cast<Classes*>(info.Data()));
    worker->Queue();
    return worker->promise();
  });
}

void setThreads(const Napi::CallbackInfo& info) {
  pool().resize(static_cast<int>(integer(info[0], "threads", 1, 1024)));
}

Napi::Value getThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pool().size()); }

}  // namespace

ModelSpec readModelSpec(const Napi::Value& v) { return modelSpec(v); }
ThreadPool& enginePool() { return pool(); }

void registerModel(Napi::Env env, Napi::Object exports) {
  auto* classes = new Classes;
  classes->model = Napi::Persistent(NativeModel::define(env, classes));
  classes->session = Napi::Persistent(NativeSession::define(env));
  env.AddCleanupHook([classes] { delete classes; });
  exports.Set("loadModel", Napi::Function::New(env, loadModelJs, "loadModel", classes));
  exports.Set("setThreads", Napi::Function::New(env, setThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, getThreads, "getThreads"));
}

}  // namespace fas::binding
