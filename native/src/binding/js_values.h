// Reading JS values in the bindings: every reader checks the type and range and throws a TypeError
// that names the value, so a bad argument from JS is an exception in JS, never a crash.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/runtime/spiking_site.h"

namespace fas::binding {

constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;  // largest integer a JS number holds exactly
constexpr int64_t kMaxInt = 0x7fffffff;

inline Napi::TypeError typeError(Napi::Env env, const std::string& message) {
  return Napi::TypeError::New(env, message);
}

inline Napi::Value field(const Napi::Object& o, const std::string& where, const char* key, bool required = true) {
  const Napi::Value v = o.Get(key);
  if (required && (v.IsUndefined() || v.IsNull())) throw typeError(o.Env(), where + "." + key + " is required");
  return v;
}

// An integer in [min, max], from a JS number (exact up to 2^53).
inline int64_t integer(const Napi::Value& v, const std::string& name, int64_t min, int64_t max) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || std::floor(d) != d) {
    throw typeError(v.Env(), name + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(d);
}

inline double number(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
    throw typeError(v.Env(), name + " must be a finite number");
  }
  return v.As<Napi::Number>().DoubleValue();
}

inline bool boolean(const Napi::Value& v, const std::string& name) {
  if (!v.IsBoolean()) throw typeError(v.Env(), name + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Object object(const Napi::Value& v, const std::string& name) {
  if (!v.IsObject()) throw typeError(v.Env(), name + " must be an object");
  return v.As<Napi::Object>();
}

inline std::string string(const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) throw typeError(v.Env(), name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// The own enumerable keys of an object (a record of tensors by name).
inline std::vector<std::string> keys(const Napi::Object& o) {
  const Napi::Array names = o.GetPropertyNames();
  std::vector<std::string> out(names.Length());
  for (uint32_t i = 0; i < names.Length(); ++i) out[i] = names.Get(i).As<Napi::String>().Utf8Value();
  return out;
}

// What the C++ that creates a wrapped class hands its constructor (an External); JS calling the
// constructor itself gets a TypeError saying where instances come from.
template <typename T>
T* external(const Napi::CallbackInfo& info, const char* createdBy) {
  if (info.Length() != 1 || !info[0].IsExternal()) throw typeError(info.Env(), createdBy);
  return info[0].As<Napi::External<T>>().Data();
}

template <typename E>
E choice(const Napi::Value& v, const std::string& name, std::initializer_list<std::pair<const char*, E>> options) {
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  std::string allowed;
  for (const auto& [text, value] : options) {
    if (s == text) return value;
    allowed += std::string(allowed.empty() ? "" : ", ") + "'" + text + "'";
  }
  throw typeError(v.Env(), name + " must be one of " + allowed);
}

inline bool isTypedArrayOf(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

// A typed array of the one element type each reader names, used in place (copy it before work that
// runs off the JS thread: JS may change it meanwhile).
template <typename Array>
Array typedArray(const Napi::Value& v, napi_typedarray_type type, const std::string& name, const char* what) {
  if (!isTypedArrayOf(v, type)) throw typeError(v.Env(), name + " must be " + what);
  return v.As<Array>();
}

inline Napi::Float32Array float32Array(const Napi::Value& v, const std::string& name) {
  return typedArray<Napi::Float32Array>(v, napi_float32_array, name, "a Float32Array");
}

inline Napi::Int32Array int32Array(const Napi::Value& v, const std::string& name) {
  return typedArray<Napi::Int32Array>(v, napi_int32_array, name, "an Int32Array");
}

inline Napi::Uint8Array uint8Array(const Napi::Value& v, const std::string& name) {
  return typedArray<Napi::Uint8Array>(v, napi_uint8_array, name, "a Uint8Array");
}

// A copy of a typed array's elements.
template <typename Array>
auto copyOf(const Array& a) {
  return std::vector<std::remove_cv_t<std::remove_pointer_t<decltype(a.Data())>>>(a.Data(),
                                                                                  a.Data() + a.ElementLength());
}

// A copy of a typed array of `type`, or a JS array read element by element (element(value, name)).
template <typename Array, typename Element>
auto typedOrArray(const Napi::Value& v, napi_typedarray_type type, const std::string& name, const char* what,
                  Element element) {
  if (isTypedArrayOf(v, type)) return copyOf(v.As<Array>());
  if (!v.IsArray()) throw typeError(v.Env(), name + " must be " + what);
  const Napi::Array a = v.As<Napi::Array>();
  decltype(copyOf(v.As<Array>())) out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = element(a.Get(i), name + "[" + std::to_string(i) + "]");
  return out;
}

// Floats from a Float32Array or an array of finite numbers.
inline std::vector<float> floats(const Napi::Value& v, const std::string& name) {
  return typedOrArray<Napi::Float32Array>(
      v, napi_float32_array, name, "a Float32Array or an array of numbers",
      [](const Napi::Value& x, const std::string& at) { return static_cast<float>(number(x, at)); });
}

// Token ids from an Int32Array or an array of integers (the engine checks them against the vocabulary).
inline std::vector<int32_t> tokenIds(const Napi::Value& v, const std::string& name) {
  return typedOrArray<Napi::Int32Array>(
      v, napi_int32_array, name, "an Int32Array or an array of token ids",
      [](const Napi::Value& x, const std::string& at) { return static_cast<int32_t>(integer(x, at, 0, kMaxInt)); });
}

// The token that follows each of `count` ids, to be scored: token ids, exactly one per id.
inline std::vector<int32_t> targetIds(const Napi::Value& v, size_t count) {
  std::vector<int32_t> targets = tokenIds(v, "targets");
  if (targets.size() != count) {
    throw typeError(v.Env(),
                    "targets has " + std::to_string(targets.size()) + " entries, ids " + std::to_string(count));
  }
  return targets;
}

// One layer's NativeNeuronValues {threshold, v0, shape}: shape [1], [ffn] or [positions, ffn], as
// spiking.safetensors stores it, holding as many values as threshold (SpikingSite checks ffn).
inline NeuronValues neuronValues(const Napi::Value& v, const std::string& where) {
  const Napi::Object o = object(v, where);
  NeuronValues n;
  n.threshold = floats(field(o, where, "threshold"), where + ".threshold");
  n.v0 = floats(field(o, where, "v0"), where + ".v0");
  const Napi::Value shape = field(o, where, "shape");
  const Napi::Array dims = shape.IsArray() ? shape.As<Napi::Array>() : Napi::Array::New(v.Env());
  if (dims.Length() < 1 || dims.Length() > 2) throw typeError(v.Env(), where + ".shape must have 1 or 2 dimensions");
  int64_t size = 1;
  for (uint32_t i = 0; i < dims.Length(); ++i) {
    size *= integer(dims.Get(i), where + ".shape[" + std::to_string(i) + "]", 1, kMaxInt);
  }
  if (size != static_cast<int64_t>(n.threshold.size())) {
    throw typeError(v.Env(), where + ".shape holds " + std::to_string(size) + " values, threshold " +
                                 std::to_string(n.threshold.size()));
  }
  if (dims.Length() == 2) n.positions = integer(dims.Get(0u), where + ".shape[0]", 1, kMaxInt);
  return n;
}

}  // namespace fas::binding
