// Returning to JS from the bindings: results copied into JS-owned typed arrays (Electron forbids
// external buffers), and C++ exceptions turned into JS errors, for promises and plain calls alike.
#pragma once
#include <napi.h>

#include <algorithm>
#include <exception>
#include <vector>

namespace fas::binding {

inline Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& values) {
  Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
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
