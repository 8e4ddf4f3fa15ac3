// NativeModel: a loaded model (typed in native/index.ts), created by loadModel().
#pragma once
#include <napi.h>

namespace fas::binding {

// Constructors of the wrapped classes, for creating instances from C++. Freed with the environment.
struct Classes {
  Napi::FunctionReference model, session;
};

// The NativeModel constructor, for loadModel(); takes an External<std::shared_ptr<const Model>>.
// Its createSession() builds sessions with classes->session.
Napi::Function defineNativeModel(Napi::Env env, Classes* classes);

}  // namespace fas::binding
