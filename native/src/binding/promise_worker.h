// The async methods of every binding file: the work runs on a libuv worker thread, then on the JS
// thread a promise resolves with what the result function makes of the work's answer, or rejects
// with the message of what either threw. Objects that take one call at a time guard it with a
// BusyFlag, released on the JS thread just before the call's promise settles.
#pragma once
#include <napi.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace fas::binding {

// One call in flight on an object, from claim() until the call settles. Moved into the worker, which
// releases it on the JS thread; dropping it unqueued (a start that threw) releases it too.
class BusyClaim {
 public:
  BusyClaim() = default;
  explicit BusyClaim(std::shared_ptr<bool> busy) : busy_(std::move(busy)) {}
  BusyClaim(BusyClaim&&) = default;
  BusyClaim& operator=(BusyClaim&& other) {
    release();
    busy_ = std::move(other.busy_);
    return *this;
  }
  ~BusyClaim() { release(); }

  void release() {
    if (busy_) *busy_ = false;
    busy_.reset();
  }

 private:
  std::shared_ptr<bool> busy_;
};

// Read and written on the JS thread only, so a plain bool.
class BusyFlag {
 public:
  bool busy() const { return *busy_; }

  // Throws `message` while a call is in flight.
  void check(Napi::Env env, const char* message) const {
    if (*busy_) throw Napi::Error::New(env, message);
  }

  // Marks the object busy, or throws `message` when it already is.
  BusyClaim claim(Napi::Env env, const char* message) {
    check(env, message);
    *busy_ = true;
    return BusyClaim(busy_);
  }

 private:
  std::shared_ptr<bool> busy_ = std::make_shared<bool>(false);
};

// work() runs off the JS thread and returns the answer (or nothing); result(env, answer) (result(env)
// for no answer) makes the JS value on the JS thread. Both capture by value what they need: JS may
// change its arguments while the work runs.
template <typename Work, typename Result>
class PromiseWorker : public Napi::AsyncWorker {
  using Answer = std::invoke_result_t<Work&>;

 public:
  PromiseWorker(Napi::Env env, Work work, Result result, BusyClaim claim)
      : Napi::AsyncWorker(env), work_(std::move(work)), result_(std::move(result)), claim_(std::move(claim)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 private:
  // A C++ exception here becomes OnError with its message (node-addon-api catches it).
  void Execute() override {
    if constexpr (std::is_void_v<Answer>) {
      work_();
    } else {
      answer_.emplace(work_());
    }
  }

  void OnOK() override {
    claim_.release();
    try {
      if constexpr (std::is_void_v<Answer>) {
        deferred_.Resolve(result_(Env()));
      } else {
        deferred_.Resolve(result_(Env(), *answer_));
      }
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(Env(), e.what()).Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    claim_.release();
    deferred_.Reject(e.Value());
  }

  struct NoAnswer {};
  Work work_;
  Result result_;
  BusyClaim claim_;
  std::conditional_t<std::is_void_v<Answer>, NoAnswer, std::optional<Answer>> answer_;
  Napi::Promise::Deferred deferred_;
};

// Queues the work and returns its promise; `claim` (if any) is held until the promise settles.
template <typename Work, typename Result>
Napi::Promise runAsync(Napi::Env env, Work work, Result result, BusyClaim claim = {}) {
  auto* worker = new PromiseWorker<Work, Result>(env, std::move(work), std::move(result), std::move(claim));
  worker->Queue();
  return worker->promise();
}

// The engine object behind a JS wrapper that takes one call at a time (NativeTrainer,
// NativeCalibrator), shared by the wrapper and the call in flight, so dispose() during a call cannot
// free what the call uses. Its errors name it: "the trainer is busy: ...".
template <typename T>
class ExclusiveObject {
 public:
  ExclusiveObject(T* owned, std::string name) : shared_(std::make_shared<Shared>()), name_(std::move(name)) {
    shared_->object.reset(owned);
  }

  // The object when it may be used now: not disposed, no call in flight.
  T& idle(Napi::Env env) const {
    if (!shared_->object) throw Napi::Error::New(env, "the " + name_ + " is disposed");
    shared_->busy.check(env, busyMessage().c_str());
    return *shared_->object;
  }

  // Runs work(object) off the JS thread, the object busy until the promise settles.
  template <typename Work, typename Result>
  Napi::Promise start(Napi::Env env, Work work, Result result) {
    idle(env);
    return runAsync(
        env, [shared = shared_, work = std::move(work)]() mutable { return work(*shared->object); }, std::move(result),
        shared_->busy.claim(env, busyMessage().c_str()));
  }

  // For abort(), which may come while a call is in flight; null once disposed.
  T* get() const { return shared_->object.get(); }

  // Frees the object now; later calls throw.
  void dispose(Napi::Env env) {
    shared_->busy.check(env, ("the " + name_ + " is busy: await the call in flight before dispose()").c_str());
    shared_->object.reset();
  }

 private:
  struct Shared {
    std::unique_ptr<T> object;
    BusyFlag busy;
  };

  std::string busyMessage() const { return "the " + name_ + " is busy: await the call in flight first"; }

  std::shared_ptr<Shared> shared_;
  std::string name_;
};

}  // namespace fas::binding
