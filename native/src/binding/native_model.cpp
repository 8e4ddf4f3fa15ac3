// NativeModel: forward(), forwardWithStats() and siteThresholds() run on libuv's worker threads,
// any number at once (the engine's pool takes them in turns); results are copied into JS-owned
// Float32Arrays.
#include "binding/native_model.h"

#include <memory>
#include <string>
#include <vector>

#include "binding/bindings.h"
#include "binding/inference_stats.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "binding/native_session.h"
#include "binding/promise_worker.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/site_thresholds.h"

namespace fas::binding {
namespace {

// ids [batch, seqLen] of forward() and siteThresholds(), at info[0..2].
struct Sequences {
  std::vector<int32_t> ids;
  int64_t batch, seqLen;
};

Sequences sequences(const Napi::CallbackInfo& info, const char* method) {
  const Napi::Env env = info.Env();
  if (!isTypedArrayOf(info[0], napi_int32_array))
    throw typeError(env, std::string(method) + " needs ids as an Int32Array");
  Sequences s{tokenIds(info[0], "ids"), integer(info[1], "batch", 1, kMaxInt), integer(info[2], "seqLen", 1, kMaxInt)};
  if (s.batch * s.seqLen != static_cast<int64_t>(s.ids.size())) {
    throw typeError(env, "ids has " + std::to_string(s.ids.size()) + " entries, batch * seqLen is " +
                             std::to_string(s.batch * s.seqLen));
  }
  return s;
}

Napi::Object thresholdsObject(Napi::Env env, const SiteThresholds& t) {
  Napi::Array layers = Napi::Array::New(env, t.sites.size());
  for (uint32_t l = 0; l < t.sites.size(); ++l) {
    Napi::Object layer = Napi::Object::New(env);
    for (int s = 0; s < kLayerSites; ++s) layer.Set(siteName(Site(s)), toTypedArray(env, t.sites[l][s]));
    layers.Set(l, layer);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("sites", layers);
  out.Set("headIn", toTypedArray(env, t.headIn));
  return out;
}

class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::Function define(Napi::Env env, Classes* classes) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&NativeModel::forward>("forward"),
                        InstanceMethod<&NativeModel::forwardWithStats>("forwardWithStats"),
                        InstanceMethod<&NativeModel::targetLogProbs>("targetLogProbs"),
                        InstanceMethod<&NativeModel::siteThresholds>("siteThresholds"),
                        InstanceMethod<&NativeModel::createSession>("createSession", napi_default, classes),
                        InstanceMethod<&NativeModel::dispose>("dispose")});
  }

  explicit NativeModel(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NativeModel>(info),
        model_(*external<std::shared_ptr<const Model>>(info, "NativeModel is created by loadModel()")) {}

 private:
  // siteThresholds(ids, batch, seqLen, percentile): per-channel thresholds of every scope all site.
  Napi::Value siteThresholds(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      Sequences s = sequences(info, "siteThresholds");
      if (!info[3].IsNumber()) throw typeError(env, "percentile must be a number in (0, 1]");
      const double percentile = info[3].As<Napi::Number>().DoubleValue();
      if (!(percentile > 0.0 && percentile <= 1.0)) throw typeError(env, "percentile must be a number in (0, 1]");
      return runAsync(
          env,
          [model = live(env), s = std::move(s), percentile] {
            return fas::siteThresholds(*model, enginePool(), s.ids.data(), s.batch, s.seqLen, percentile);
          },
          thresholdsObject);
    });
  }

  const std::shared_ptr<const Model>& live(Napi::Env env) const {
    if (!model_) throw Napi::Error::New(env, "the model is disposed");
    return model_;
  }

  Napi::Value forward(const Napi::CallbackInfo& info) { return startForward(info, false); }
  Napi::Value forwardWithStats(const Napi::CallbackInfo& info) { return startForward(info, true); }

  // withStats: resolve with {logits, stats} instead of the logits alone.
  Napi::Value startForward(const Napi::CallbackInfo& info, bool withStats) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      Sequences s = sequences(info, "forward");
      const std::shared_ptr<const Model>& model = live(env);
      bool lastOnly = false;
      const Napi::Value options = info[3];
      if (!options.IsUndefined()) {
        if (!options.IsObject()) throw typeError(env, "forward options must be an object");
        const Napi::Value v = options.As<Napi::Object>().Get("lastOnly");
        lastOnly = !v.IsUndefined() && boolean(v, "lastOnly");
      }
      const RunMode mode = readRunMode(options, "forward options", *model);
      auto logits = std::make_shared<JsFloatOutput>(
          env, forwardLogitsCount(model->config, s.batch, s.seqLen, lastOnly));  // checks the shape first
      return runAsync(
          env,
          [model, s = std::move(s), lastOnly, mode, withStats, out = logits->data()] {
            RunStats stats;
            forwardSequencesInto(*model, enginePool(), s.ids.data(), s.batch, s.seqLen, lastOnly, out, mode,
                                 withStats ? &stats : nullptr);
            return stats;
          },
          [model, withStats, logits](Napi::Env env, const RunStats& stats) -> Napi::Value {
            if (!withStats) return logits->value();
            Napi::Object out = Napi::Object::New(env);
            out.Set("logits", logits->value());
            out.Set("stats", statsObject(env, stats, model->config));
            return out;
          });
    });
  }

  // targetLogProbs(ids, batch, seqLen, targets, options): log p(targets[i] | ids up to i), a Float64Array.
  Napi::Value targetLogProbs(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      Sequences s = sequences(info, "targetLogProbs");
      if (!isTypedArrayOf(info[3], napi_int32_array))
        throw typeError(env, "targetLogProbs needs targets as an Int32Array");
      std::vector<int32_t> targets = targetIds(info[3], s.ids.size());
      const std::shared_ptr<const Model>& model = live(env);
      const RunMode mode = readRunMode(info[4], "targetLogProbs options", *model);
      return runAsync(
          env,
          [model, s = std::move(s), targets = std::move(targets), mode] {
            std::vector<double> scores(s.ids.size());
            scoreSequencesInto(*model, enginePool(), s.ids.data(), targets.data(), s.batch, s.seqLen, scores.data(),
                               mode);
            return scores;
          },
          [](Napi::Env env, const std::vector<double>& scores) { return toTypedArray(env, scores); });
    });
  }

  Napi::Value createSession(const Napi::CallbackInfo& info) {
    auto* classes = static_cast<Classes*>(info.Data());
    SessionInit init{live(info.Env()), {}};
    init.mode = readRunMode(info[0], "session options", *init.model);
    return classes->session.New({Napi::External<SessionInit>::New(info.Env(), &init)});
  }

  // Sessions and calls in flight keep their own reference, so the memory goes when they are done.
  void dispose(const Napi::CallbackInfo&) { model_.reset(); }

  std::shared_ptr<const Model> model_;
};

}  // namespace

Napi::Function defineNativeModel(Napi::Env env, Classes* classes) { return NativeModel::define(env, classes); }

}  // namespace fas::binding
