// Returning to JS from the bindings: results copied into JS-owned typed arrays (Electron forbids
// external buffers), and C++ exceptions turned into JS errors, for promises and plain calls alike.
#pragma once
#include <napi.h>

#include <algorithm>
#include <exception>
#include <vector>

namespace fas::binding {

// A Float32Array or Float64Array holding a copy of values.
template <typename T>
Napi::TypedArrayOf<T> toTypedArray(Napi::Env env, const std::vector<T>& values) {
  Napi::TypedArrayOf<T> out = Napi::TypedArrayOf<T>::New(env, values.size());
  std::copy(values.begin(), values.end(), out.Data());
  return out;
}

// A Float32Array made on the JS thread for work on another thread to fill in place: a result as
// large as a prefill's logits (206 MB for GPT-2 at 4 x 256) is then written once, where a vector
// copied into a new array would cost two more passes over it and its page faults on the JS thread.
// The reference keeps the array alive until the owner (the call's result function) drops it, on the
// JS thread; the array reaches JS only when the work is done.
class JsFloatOutput {
 public:
  JsFloatOutput(Napi::Env env, size_t size) : array_(Napi::Persistent(Napi::Float32Array::New(env, size))) {}
  float* data() const { return array_.Value().Data(); }
  Napi::Float32Array value() const { return array_.Value(); }

 private:
  Napi::Reference<Napi::Float32Array> array_;
};

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
