// Each binding file registers its part of the JS surface; native/index.ts types all of it.
#pragma once
#include <napi.h>

#include "engine/threadpool.h"

namespace fas::binding {

void registerHardware(Napi::Env env, Napi::Object exports);
void registerModel(Napi::Env env, Napi::Object exports);      // loadModel, setThreads, getThreads
void registerTrain(Napi::Env env, Napi::Object exports);      // createTrainer
void registerCalibrate(Napi::Env env, Napi::Object exports);  // createCalibrator
void registerBench(Napi::Env env, Napi::Object exports);      // benchSpikeLinear, benchReadBandwidth
void registerSizes(Napi::Env env, Napi::Object exports);      // bufferSizes

// The engine's one thread pool, sized by setThreads (defined in model_binding.cpp).
ThreadPool& enginePool();

}  // namespace fas::binding
