// A persistent pool of worker threads. run(fn) calls fn(ith, nth) once for every ith in [0, nth):
// each op splits its own work by (ith, nth), as ggml does, so ops stay plain functions.
// Between jobs the workers (and the caller, waiting for them) spin for a short while before they
// sleep: a decode step runs about a hundred small jobs back to back, and waking a sleeping thread
// took 50 to 90 us a job, a third of a GPT-2-124M decode step on 2 cores.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fas {

class ThreadPool {
 public:
  // threads >= 1; the thread that calls run() does the ith == 0 share, so threads - 1 workers start.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  // Waits for the parallel region in progress, then restarts the workers.
  void resize(int threads);
  // Runs fn(ith, nth) on every thread and returns when all are done. Concurrent callers take turns.
  // The first exception thrown by any share is rethrown here, after every share has finished.
  void run(const std::function<void(int ith, int nth)>& fn);

 private:
  void start(int threads);
  void stop();
  void workerLoop(int ith, uint64_t seen);
  // The generation after `seen`, spun for, then slept for (wake_); any generation once stopping.
  uint64_t awaitJob(uint64_t seen);
  // Returns once every worker has finished the current job (spinning, then sleeping on done_).
  void awaitWorkers();

  std::mutex runMutex_;  // one parallel region at a time
  std::mutex mutex_;     // pairs each sleep with its wake-up; guards error_
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<int> nth_{1};  // read by size() from any thread
  // A job is published by bumping generation_ (release) after job_ is set; each worker runs it
  // once and counts pending_ down.
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

// [begin, end) of the ith of nth near-equal parts of [0, n).
struct Range {
  int64_t begin, end;
};
inline Range splitRange(int64_t n, int ith, int nth) { return {n * ith / nth, n * (ith + 1) / nth}; }

// Thread ith's share of [0, n) in whole blocks (SIMD chunks, weight panels, work worth a thread):
// small inputs stay on one thread, and block boundaries do not move with the thread count.
inline Range blockSlice(int64_t n, int64_t block, int ith, int nth) {
  const Range b = splitRange((n + block - 1) / block, ith, nth);
  return {std::min(n, b.begin * block), std::min(n, b.end * block)};
}

// f(begin, end) on each thread's blockSlice of [0, n).
template <typename F>
void parallelBlocks(ThreadPool& pool, int64_t n, int64_t block, F f) {
  pool.run([&](int ith, int nth) {
    const Range r = blockSlice(n, block, ith, nth);
    f(r.begin, r.end);
  });
}

}  // namespace fas
