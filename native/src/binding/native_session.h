// NativeSession: one generation context of a model (typed in native/index.ts), created by
// NativeModel.createSession().
#pragma once
#include <napi.h>

#include <memory>

#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"

namespace fas::binding {

// What createSession() hands the NativeSession constructor.
struct SessionInit {
  std::shared_ptr<const Model> model;
  RunMode mode;
};

// The NativeSession constructor, for createSession(); takes an External<SessionInit>.
Napi::Function defineNativeSession(Napi::Env env);

}  // namespace fas::binding
