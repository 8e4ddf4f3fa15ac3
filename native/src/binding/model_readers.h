// Reading the model binding's JS arguments (typed in native/index.ts): the NativeModelSpec, the
// spiking parameters of LoadModelOptions, the mode of a forward or a session, and the sampling of
// generate(). Each throws a TypeError naming the bad value.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "engine/model/loader.h"
#include "engine/ops/sampling.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_site.h"

namespace fas::binding {

// Also read by createTrainer and createCalibrator.
ModelSpec readModelSpec(const Napi::Value& v);

// LoadModelOptions.spiking.
SpikingParams readSpikingParams(const Napi::Value& v);

// {mode, timesteps, neuronRates} of forward options or session options; snn's T defaults to the
// model's (its spiking_config.json T). Throws when the model was not loaded for the mode.
RunMode readRunMode(const Napi::Value& v, const std::string& where, const Model& model);

// The sampling options of generate(), and its seed.
ops::SamplingParams readSamplingParams(const Napi::Object& o, uint64_t& seed);

}  // namespace fas::binding
