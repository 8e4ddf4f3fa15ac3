// Each binding file registers its part of the JS surface; native/index.ts types all of it.
#pragma once
#include <napi.h>

#include "engine/model/loader.h"
#include "engine/threadpool.h"

namespace fas::binding {

void registerHardware(Napi::Env env, Napi::Object exports);
void registerModel(Napi::Env env, Napi::Object exports);      // loadModel, setThreads, getThreads
void registerTrain(Napi::Env env, Napi::Object exports);      // createTrainer
void registerCalibrate(Napi::Env env, Napi::Object exports);  // createCalibrator
void registerBench(Napi::Env env, Napi::Object exports);      // benchSpikeLinear, benchReadBandwidth
void registerSizes(Napi::Env env, Napi::Object exports);      // bufferSizes

// Defined in model_binding.cpp, for the other binding files: the NativeModelSpec reader (throws a
// TypeError naming the bad field) and the engine's one thread pool (sized by setThreads).
ModelSpec readModelSpec(const Napi::Value& v);
ThreadPool& enginePool();

}  // namespace fas::binding
