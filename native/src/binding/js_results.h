// Returning to JS from the bindings: results copied into JS-owned typed arrays (Electron forbids
// external buffers), and C++ exceptions turned into JS errors, for promises and plain calls alike.
#pragma once
#include <napi.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <vector>

namespace fas::binding {

inline Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

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

// A promise already rejected with the error `start` threw, so async methods report bad arguments
// through their promise too.
template <typename Start>
Napi::Value promiseOf(Napi::Env env, Start start) {
  try {
    return start();
  } catch (const Napi::Error& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(e.Value());
    return deferred.Promise();
  } catch (const std::exception& e) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(Napi::Error::New(env, e.what()).Value());
    return deferred.Promise();
  }
}

// Runs a synchronous method body, turning the engine's C++ exceptions into JS errors (node-addon-api
// only converts Napi::Error).
template <typename Body>
auto guarded(Napi::Env env, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace fas::binding
