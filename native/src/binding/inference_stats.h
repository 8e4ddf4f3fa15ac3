// Statistics to JS: RunStats as native/index.ts's InferenceStats.
#pragma once
#include <napi.h>

#include "engine/model/config.h"
#include "engine/runtime/spiking_stats.h"

namespace fas::binding {

Napi::Object statsObject(Napi::Env env, const RunStats& s, const ModelConfig& c);

}  // namespace fas::binding
