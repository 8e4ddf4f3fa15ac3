// The exported factories createTrainer(spec, options) and createCalibrator(spec, options): each
// loads a model from its NativeModelSpec off the JS thread into an engine object, and resolves with
// that object wrapped in its class.
#pragma once
#include <napi.h>

#include <memory>

#include "binding/js_results.h"
#include "binding/model_readers.h"
#include "binding/promise_worker.h"

namespace fas::binding {

// Exports `name`, a factory that resolves with instances of `wrapperClass`: its constructor is the
// factory's data (see wrapIn), kept for the environment's life.
inline void exportFactory(Napi::Env env, Napi::Object exports, const char* name, Napi::Function wrapperClass,
                          Napi::Value (*factory)(const Napi::CallbackInfo&)) {
  auto* constructor = new Napi::FunctionReference(Napi::Persistent(wrapperClass));
  env.AddCleanupHook([constructor] { delete constructor; });
  exports.Set(name, Napi::Function::New(env, factory, name, constructor));
}

// For a factory's promise: the engine object wrapped in the factory's class, which takes ownership.
template <typename T>
auto wrapIn(const Napi::CallbackInfo& factoryCall) {
  return [constructor = static_cast<Napi::FunctionReference*>(factoryCall.Data())](Napi::Env env,
                                                                                   std::unique_ptr<T>& object) {
    return constructor->New({Napi::External<T>::New(env, object.release())});
  };
}

// The factory call: spec and options read now (readOptions(info[1])), make(spec, options) run off
// the JS thread, its std::unique_ptr<T> wrapped by wrapIn.
template <typename T, typename ReadOptions, typename Make>
Napi::Value createFromSpec(const Napi::CallbackInfo& info, ReadOptions readOptions, Make make) {
  return promiseOf(info.Env(), [&]() -> Napi::Value {
    return runAsync(
        info.Env(),
        [spec = readModelSpec(info[0]), options = readOptions(info[1]), make]() mutable { return make(spec, options); },
        wrapIn<T>(info));
  });
}

}  // namespace fas::binding
