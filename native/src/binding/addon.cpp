#include "binding/bindings.h"

static Napi::Object initAddon(Napi::Env env, Napi::Object exports) {
  fas::binding::registerHardware(env, exports);
  fas::binding::registerModel(env, exports);
  fas::binding::registerTrain(env, exports);
  fas::binding::registerCalibrate(env, exports);
  fas::binding::registerBench(env, exports);
  fas::binding::registerSizes(env, exports);
  return exports;
}

NODE_API_MODULE(fas_native, initAddon)
