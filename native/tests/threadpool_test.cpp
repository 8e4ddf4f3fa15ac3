#include "engine/threadpool.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test.h"

TEST(threadpool_runs_every_share_once) {
  fas::ThreadPool pool(3);
  CHECK(pool.size() == 3);
  for (int round = 0; round < 100; ++round) {
    std::vector<std::atomic<int>> hits(3);
    pool.run([&](int ith, int nth) {
      CHECK(nth == 3);
      hits[ith]++;
    });
    for (auto& h : hits) CHECK(h.load() == 1);
  }
}

TEST(threadpool_wakes_workers_that_went_to_sleep) {
  // Jobs back to back find the workers spinning; after a pause longer than their spin they sleep,
  // and the next job must wake them (and the caller must be woken when they finish).
  fas::ThreadPool pool(3);
  for (int round = 0; round < 6; ++round) {
    if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int> total{0};
    pool.run([&](int ith, int) {
      if (ith == 2 && round >= 4) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the caller sleeps too
      total += ith + 1;
    });
    CHECK(total.load() == 1 + 2 + 3);
  }
}

TEST(threadpool_resize_and_single_thread) {
  fas::ThreadPool pool(2);
  pool.resize(1);
  CHECK(pool.size() == 1);
  int calls = 0;
  pool.run([&](int ith, int nth) { calls += (ith == 0 && nth == 1); });
  CHECK(calls == 1);
  pool.resize(4);
  std::atomic<int> total{0};
  pool.run([&](int ith, int) { total += ith; });
  CHECK(total.load() == 0 + 1 + 2 + 3);
  bool threw = false;
  try {
    pool.resize(0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(threadpool_rethrows_a_worker_exception) {
  fas::ThreadPool pool(2);
  bool threw = false;
  try {
    pool.run([](int ith, int) {
      if (ith == 1) throw std::runtime_error("share 1 failed");
    });
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()) == "share 1 failed";
  }
  CHECK(threw);
  int after = 0;
  pool.run([&](int ith, int) { after += ith == 0; });  // still usable
  CHECK(after == 1);
}

TEST(threadpool_split_range_covers_everything) {
  for (int nth = 1; nth <= 5; ++nth) {
    int64_t next = 0;
    for (int ith = 0; ith < nth; ++ith) {
      const fas::Range r = fas::splitRange(17, ith, nth);
      CHECK(r.begin == next && r.end >= r.begin);
      next = r.end;
    }
    CHECK(next == 17);
  }
}
