#include "binding/bindings.h"
#include "hardware.h"

namespace fas::binding {
namespace {

Napi::Value hardware(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const HardwareInfo hw = detectHardware();
  Napi::Object simd = Napi::Object::New(env);
  simd.Set("avx2", hw.avx2);
  simd.Set("avx512", hw.avx512);
  simd.Set("fma", hw.fma);
  simd.Set("neon", hw.neon);
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("built", hw.cuda.built);
  cuda.Set("usable", hw.cuda.usable);
  cuda.Set("deviceCount", hw.cuda.deviceCount);
  cuda.Set("deviceName", hw.cuda.deviceName);
  cuda.Set("runtimeVersion", hw.cuda.runtimeVersion);
  cuda.Set("reason", hw.cuda.reason);
  Napi::Object out = Napi::Object::New(env);
  out.Set("arch", hw.arch);
  out.Set("cpuModel", hw.cpuModel);
  out.Set("physicalCores", hw.physicalCores);
  out.Set("logicalCores", hw.logicalCores);
  out.Set("simd", simd);
  out.Set("cuda", cuda);
  return out;
}

}  // namespace

void registerHardware(Napi::Env env, Napi::Object exports) {
  exports.Set("hardware", Napi::Function::New(env, hardware, "hardware"));
}

}  // namespace fas::binding
