// loadModel, setThreads and getThreads: the entry points of the inference engine (typed in
// native/index.ts). The readers of their arguments are in model_readers.h, the classes they hand
// out in native_model.h and native_session.h.
#include <algorithm>
#include <memory>
#include <optional>

#include "binding/bindings.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "binding/native_model.h"
#include "binding/native_session.h"
#include "binding/promise_worker.h"
#include "engine/model/loader.h"
#include "engine/runtime/spiking_site.h"
#include "hardware.h"

namespace fas::binding {
namespace {

Napi::Value loadModelJs(const Napi::CallbackInfo& info) {
  return promiseOf(info.Env(), [&]() -> Napi::Value {
    std::optional<SpikingParams> spiking;
    if (!info[1].IsUndefined()) {
      if (!info[1].IsObject()) throw typeError(info.Env(), "loadModel options must be an object");
      const Napi::Value v = info[1].As<Napi::Object>().Get("spiking");
      if (!v.IsUndefined() && !v.IsNull()) spiking = readSpikingParams(v);
    }
    return runAsync(
        info.Env(),
        [spec = readModelSpec(info[0]), spiking = std::move(spiking)]() mutable {
          std::shared_ptr<Model> model = loadModel(spec);
          if (spiking) model->spiking = std::make_shared<SpikingSite>(model->config, std::move(*spiking));
          return std::shared_ptr<const Model>(std::move(model));
        },
        [classes = static_cast<Classes*>(info.Data())](Napi::Env env, std::shared_ptr<const Model>& model) {
          return classes->model.New({Napi::External<std::shared_ptr<const Model>>::New(env, &model)});
        });
  });
}

void setThreads(const Napi::CallbackInfo& info) {
  enginePool().resize(static_cast<int>(integer(info[0], "threads", 1, 1024)));
}

Napi::Value getThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), enginePool().size()); }

}  // namespace

// One pool for the whole process: ops from concurrent calls take turns on it. Never destroyed, so
// no worker is joined while the process exits.
ThreadPool& enginePool() {
  static ThreadPool* shared = new ThreadPool(std::max(1, detectHardware().physicalCores));
  return *shared;
}

void registerModel(Napi::Env env, Napi::Object exports) {
  auto* classes = new Classes;
  classes->model = Napi::Persistent(defineNativeModel(env, classes));
  classes->session = Napi::Persistent(defineNativeSession(env));
  env.AddCleanupHook([classes] { delete classes; });
  exports.Set("loadModel", Napi::Function::New(env, loadModelJs, "loadModel", classes));
  exports.Set("setThreads", Napi::Function::New(env, setThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, getThreads, "getThreads"));
}

}  // namespace fas::binding
