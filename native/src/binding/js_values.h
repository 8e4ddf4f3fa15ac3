// Reading JS values in the bindings: every reader checks the type and range and throws a TypeError
// that names the value, so a bad argument from JS is an exception in JS, never a crash.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

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

inline std::string string(const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) throw typeError(v.Env(), name + " must be a string");
  return v.As<Napi::String>().Utf8Value();
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

}  // namespace fas::binding
