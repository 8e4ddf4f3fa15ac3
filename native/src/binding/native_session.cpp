// NativeSession: eval(), score() and generate() run on libuv's worker threads, one at a time (a
// second call rejects with "the session is busy"); abort() stops the call in flight between tokens
// or layers.
#include "binding/native_session.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "binding/bindings.h"
#include "binding/inference_stats.h"
#include "binding/js_results.h"
#include "binding/js_values.h"
#include "binding/model_readers.h"
#include "binding/promise_worker.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/session.h"

namespace fas::binding {
namespace {

const char* stopReasonName(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::Aborted: return "aborted";
    case StopReason::Length: break;
  }
  return "length";
}

// Shared by the session object and the call in flight, which may outlive it.
struct SessionState {
  explicit SessionState(const SessionInit& init) : session(init.model, init.mode) {}
  Session session;
  std::atomic<bool> abort{false};  // read by the worker thread
  BusyFlag busy;                   // one eval, score or generate at a time
  bool ran = false;                // one of them started: lastStats() has something to say once it settles
};

Napi::Object statsOf(Napi::Env env, const Session& session) {
  return statsObject(env, session.stats(), session.model().config);
}

class NativeSession : public Napi::ObjectWrap<NativeSession> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(
        env, "NativeSession",
        {InstanceMethod<&NativeSession::eval>("eval"), InstanceMethod<&NativeSession::score>("score"),
         InstanceMethod<&NativeSession::generate>("generate"), InstanceMethod<&NativeSession::truncate>("truncate"),
         InstanceMethod<&NativeSession::abort>("abort"), InstanceMethod<&NativeSession::reset>("reset"),
         InstanceMethod<&NativeSession::lastStats>("lastStats")});
  }

  explicit NativeSession(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NativeSession>(info), state_(std::make_shared<SessionState>(*external<SessionInit>(
                                                   info, "NativeSession is created by model.createSession()"))) {}

 private:
  // Shared by the worker thread and the JS thread; the thread-safe function's finalizer, which runs
  // after every queued token was delivered, settles the promise and frees it.
  struct GenerateJob {
    std::shared_ptr<SessionState> state;
    BusyClaim claim;
    GenerateOptions options;
    Napi::Promise::Deferred deferred;
    Napi::ThreadSafeFunction onToken;
    GenerateResult result;
    std::string error;                    // from the engine
    Napi::Reference<Napi::Value> thrown;  // what onToken threw, if it did
  };

  // Tokens generated but not yet delivered to onToken, at most.
  static constexpr size_t kTokensAhead = 2;

  // Not a PromiseWorker: the promise must settle after the last token reached onToken, which only
  // the thread-safe function's finalizer knows (OnOK may run while tokens are still queued).
  class GenerateWorker : public Napi::AsyncWorker {
   public:
    GenerateWorker(Napi::Env env, GenerateJob* job) : Napi::AsyncWorker(env), job_(job) {}
    void Execute() override {
      GenerateJob* job = job_;
      const auto queueToken = [job](int32_t token) {
        job->onToken.BlockingCall([job, token](Napi::Env env, Napi::Function f) { deliver(env, f, job, token); });
      };
      try {
        job->result = fas::generate(job->state->session, enginePool(), job->options, queueToken, job->state->abort);
      } catch (const std::exception& e) {
        job->error = e.what();
      }
      job->onToken.Release();  // the finalizer runs once the queued tokens are delivered
    }

   private:
    GenerateJob* job_;
  };

  static void deliver(Napi::Env env, Napi::Function onToken, GenerateJob* job, int32_t token) {
    if (!job->thrown.IsEmpty()) return;  // onToken already failed: drop the rest
    try {
      onToken.Call({Napi::Number::New(env, token)});
    } catch (const Napi::Error& e) {
      job->thrown = Napi::Reference<Napi::Value>::New(e.Value(), 1);
      job->state->abort = true;
    }
  }

  static void finish(Napi::Env env, GenerateJob* job) {
    std::unique_ptr<GenerateJob> owned(job);
    job->claim.release();
    if (!job->thrown.IsEmpty()) {
      job->deferred.Reject(job->thrown.Value());
    } else if (!job->error.empty()) {
      job->deferred.Reject(Napi::Error::New(env, job->error).Value());
    } else {
      Napi::Array tokens = Napi::Array::New(env, job->result.tokens.size());
      for (uint32_t i = 0; i < tokens.Length(); ++i) tokens.Set(i, job->result.tokens[i]);
      Napi::Object out = Napi::Object::New(env);
      out.Set("tokens", tokens);
      out.Set("stopReason", stopReasonName(job->result.stopReason));
      out.Set("stats", statsOf(env, job->state->session));
      job->deferred.Resolve(out);
    }
  }

  // Marks the session busy, or throws when it already is.
  BusyClaim claim(Napi::Env env) {
    BusyClaim claim =
        state_->busy.claim(env, "the session is busy: wait for the previous eval(), score() or generate() to finish");
    state_->abort = false;  // an abort() from now on stops this call
    state_->session.clearStats();
    return claim;
  }

  Napi::Value eval(const Napi::CallbackInfo& info) {
    return promiseOf(info.Env(), [&]() -> Napi::Value {
      std::vector<int32_t> ids = tokenIds(info[0], "ids");
      if (ids.empty()) throw typeError(info.Env(), "eval needs at least one token id");
      BusyClaim busy = claim(info.Env());
      state_->ran = true;
      return runAsync(
          info.Env(),
          [state = state_, ids = std::move(ids)] {
            return state->session.eval(enginePool(), ids.data(), static_cast<int64_t>(ids.size()), &state->abort);
          },
          [](Napi::Env env, const std::vector<float>& logits) { return toTypedArray(env, logits); }, std::move(busy));
    });
  }

  // score(ids, targets): eval(ids), resolving with log p(targets[i] | the context up to ids[i]).
  Napi::Value score(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      std::vector<int32_t> ids = tokenIds(info[0], "ids");
      if (ids.empty()) throw typeError(env, "score needs at least one token id");
      std::vector<int32_t> targets = targetIds(info[1], ids.size());
      BusyClaim busy = claim(env);
      state_->ran = true;
      return runAsync(
          env,
          [state = state_, ids = std::move(ids), targets = std::move(targets)] {
            std::vector<double> scores(ids.size());
            state->session.score(enginePool(), ids.data(), targets.data(), static_cast<int64_t>(ids.size()),
                                 scores.data(), &state->abort);
            return scores;
          },
          [](Napi::Env env, const std::vector<double>& scores) { return toTypedArray(env, scores); }, std::move(busy));
    });
  }

  Napi::Value generate(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    return promiseOf(env, [&]() -> Napi::Value {
      if (!info[0].IsObject()) throw typeError(env, "generate needs an options object");
      if (!info[1].IsFunction()) throw typeError(env, "generate needs an onToken callback");
      const Napi::Object o = info[0].As<Napi::Object>();
      auto job =
          std::make_unique<GenerateJob>(GenerateJob{state_, {}, {}, Napi::Promise::Deferred::New(env), {}, {}, {}, {}});
      job->options.prompt = tokenIds(field(o, "generate options", "promptIds"), "promptIds");
      job->options.maxTokens = integer(field(o, "generate options", "maxTokens"), "maxTokens", 0, kMaxInt);
      job->options.sampling = readSamplingParams(o, job->options.seed);
      const Napi::Value eos = field(o, "generate options", "eosIds", false);
      if (!eos.IsUndefined()) job->options.eosIds = tokenIds(eos, "eosIds");
      job->claim = claim(env);
      // A queue of kTokensAhead: the worker blocks rather than run ahead of a busy JS thread, so an
      // abort() from onToken stops the generation within a few tokens however loaded the machine is.
      job->onToken = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "fas.generate", kTokensAhead, 1,
                                                   job.get(), [](Napi::Env e, GenerateJob* j) { finish(e, j); });
      state_->ran = true;
      GenerateJob* raw = job.release();  // the finalizer frees it
      (new GenerateWorker(env, raw))->Queue();
      return raw->deferred.Promise();
    });
  }

  void abort(const Napi::CallbackInfo&) { state_->abort = true; }

  void truncate(const Napi::CallbackInfo& info) {
    state_->busy.check(info.Env(), "the session is busy: abort() and wait before truncate()");
    state_->session.truncate(integer(info[0], "length", 0, kMaxInt));
  }

  void reset(const Napi::CallbackInfo& info) {
    state_->busy.check(info.Env(), "the session is busy: abort() and wait before reset()");
    state_->session.reset();
    state_->ran = false;
  }

  Napi::Value lastStats(const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    state_->busy.check(env, "the session is busy: its statistics come when the call ends");
    if (!state_->ran) return env.Null();
    return statsOf(env, state_->session);
  }

  std::shared_ptr<SessionState> state_;
};

}  // namespace

Napi::Function defineNativeSession(Napi::Env env) { return NativeSession::define(env); }

}  // namespace fas::binding
