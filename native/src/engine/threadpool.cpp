#include "engine/threadpool.h"

#include <stdexcept>

namespace fas {

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
  for (int ith = 1; ith < threads; ++ith) {
    workers_.emplace_back([this, ith, seen = generation_] { workerLoop(ith, seen); });
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

void ThreadPool::workerLoop(int ith, uint64_t seen) {
  for (;;) {
    const std::function<void(int, int)>* job;
    int nth;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
      nth = nth_;
    }
    std::exception_ptr error;
    try {
      (*job)(ith, nth);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error && !error_) error_ = error;
    if (--pending_ == 0) done_.notify_one();
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  std::lock_guard<std::mutex> turn(runMutex_);
  const int nth = size();
  if (nth == 1) {
    fn(0, 1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    pending_ = nth - 1;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  std::exception_ptr error;
  try {
    fn(0, nth);
  } catch (...) {
    error = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  if (!error) error = error_;
  job_ = nullptr;
  if (error) std::rethrow_exception(error);
}

}  // namespace fas
