#include "engine/threadpool.h"

#include <chrono>
#include <stdexcept>

namespace fas {

namespace {

// How long a thread spins for the next job, or the caller for the workers, before it sleeps: longer
// than the gaps between a decode step's jobs, short enough that an idle pool soon costs nothing.
constexpr auto kSpin = std::chrono::microseconds(200);

// Spins until done() or kSpin has passed; returns done().
template <typename Done>
bool spinUntil(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { stop(); }

int ThreadPool::size() const { return nth_; }

void ThreadPool::resize(int threads) {
  std::lock_guard<std::mutex> turn(runMutex_);
  stop();
  start(threads);
}

void ThreadPool::start(int threads) {
  if (threads < 1) throw std::invalid_argument("the thread count must be at least 1");
  stopping_ = false;
  nth_ = threads;
  const uint64_t seen = generation_.load();
  for (int ith = 1; ith < threads; ++ith) {
    workers_.emplace_back([this, ith, seen] { workerLoop(ith, seen); });
  }
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

uint64_t ThreadPool::awaitJob(uint64_t seen) {
  const auto published = [&] { return stopping_.load() || generation_.load(std::memory_order_acquire) != seen; };
  if (!spinUntil(published)) {
    // The check under the mutex pairs with run()'s bump under it: no wake-up is lost.
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, published);
  }
  return generation_.load(std::memory_order_acquire);
}

void ThreadPool::workerLoop(int ith, uint64_t seen) {
  for (;;) {
    seen = awaitJob(seen);
    if (stopping_) return;
    try {
      (*job_)(ith, nth_);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller checks pending_ under it before sleeping
      done_.notify_one();
    }
  }
}

void ThreadPool::awaitWorkers() {
  const auto finished = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (spinUntil(finished)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, finished);
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  std::lock_guard<std::mutex> turn(runMutex_);
  const int nth = size();
  if (nth == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  error_ = nullptr;  // no worker touches it between jobs
  pending_.store(nth - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  std::exception_ptr error;
  try {
    fn(0, nth);
  } catch (...) {
    error = std::current_exception();
  }
  awaitWorkers();
  if (!error) error = error_;
  job_ = nullptr;
  if (error) std::rethrow_exception(error);
}

}  // namespace fas
