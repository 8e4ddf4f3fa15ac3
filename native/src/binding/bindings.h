// Each binding file registers its part of the JS surface; native/index.ts types all of it.
#pragma once
#include <napi.h>

namespace fas::binding {

void registerHardware(Napi::Env env, Napi::Object exports);
void registerModel(Napi::Env env, Napi::Object exports);  // loadModel, setThreads, getThreads
void registerTrain(Napi::Env env, Napi::Object exports);  // createTrainer

}  // namespace fas::binding
