// ThreadSanitizer check of the kernels' ThreadPool, built with -fsanitize=thread on its own
// (the pool and this driver only, so that it costs seconds, not a second build of the
// library): pools of 2, 3 and 4 threads, each driven from its own thread, run many small and
// large parallel_for jobs; every item must be visited exactly once and TSan must see no race.
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "kernels/thread_pool.hpp"

namespace {

bool drive(int threads, int jobs) {
  lq::kernels::ThreadPool pool(threads);
  std::vector<int> visits;
  for (int j = 0; j < jobs; ++j) {
    const int64_t n = 1 + (j * 37) % 500;
    visits.assign(static_cast<size_t>(n), 0);
    pool.parallel_for(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) ++visits[static_cast<size_t>(i)];
    }, 1 + j % 7);
    for (int v : visits) {
      if (v != 1) {
        std::fprintf(stderr, "pool of %d: job %d visited an item %d times\n", threads, j, v);
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main() {
  std::atomic<bool> ok{true};
  std::vector<std::thread> drivers;
  for (int threads : {2, 3, 4}) {
    drivers.emplace_back([&ok, threads] {
      if (!drive(threads, 400)) ok = false;
    });
  }
  for (std::thread& t : drivers) t.join();
  // Pools created and destroyed in a loop (start-up and shutdown races).
  for (int k = 0; k < 50; ++k) {
    if (!drive(2 + k % 3, 3)) ok = false;
  }
  std::puts(ok ? "thread pool: every item once, 3 pools x 400 jobs + 50 short-lived pools" : "FAILED");
  return ok ? 0 : 1;
}
