// The thread pool every kernel splits its work over: chunks cover [0, n) exactly once for
// any size, grain and thread count, jobs run back to back (the workers spin between them),
// and an exception in any chunk reaches the caller.
#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

#include "kernels/thread_pool.hpp"

using lq::kernels::ThreadPool;

TEST_CASE("ThreadPool chunks cover every index once for any size, grain and thread count",
          "[kernels][threads]") {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000, 4099}) {
      for (int64_t grain : {0, 1, 3, 16, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int> calls{0};
        std::atomic<int> empty{0};  // Catch2 assertions are not thread-safe: count here
        pool.parallel_for(
            n,
            [&](int64_t begin, int64_t end) {
              if (begin >= end) ++empty;
              ++calls;
              for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
            },
            grain);
        REQUIRE(empty == 0);
        for (int64_t i = 0; i < n; ++i) REQUIRE(hits[static_cast<size_t>(i)] == 1);
        // Chunks hold at least `grain` items, at most 4 per thread.
        REQUIRE(calls <= std::min<int64_t>(4 * threads, (n + std::max<int64_t>(grain, 1) - 1) /
                                                             std::max<int64_t>(grain, 1)));
      }
    }
  }
}

TEST_CASE("ThreadPool runs thousands of small jobs back to back", "[kernels][threads]") {
  ThreadPool pool(2);
  int64_t total = 0;
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 5000; ++job) {
    const int64_t n = 1 + job % 37;
    pool.parallel_for(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) sum += i + job;
    });
    for (int64_t i = 0; i < n; ++i) total += i + job;
    REQUIRE(sum == total);  // every chunk of a job is done when parallel_for returns
  }
}

TEST_CASE("ThreadPool passes a chunk's exception to the caller and stays usable",
          "[kernels][threads]") {
  ThreadPool pool(2);
  for (int round = 0; round < 50; ++round) {
    const int64_t bad = round % 8;
    REQUIRE_THROWS_WITH(pool.parallel_for(8,
                                          [&](int64_t begin, int64_t end) {
                                            for (int64_t i = begin; i < end; ++i) {
                                              if (i == bad) throw std::runtime_error("chunk failed");
                                            }
                                          }),
                        "chunk failed");
    std::atomic<int> count{0};
    pool.parallel_for(8, [&](int64_t begin, int64_t end) { count += static_cast<int>(end - begin); });
    REQUIRE(count == 8);
  }
}
