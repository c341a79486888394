#include "kernels/thread_pool.hpp"

#include <algorithm>

namespace lq::kernels {

ThreadPool::ThreadPool(int threads) {
  const int workers = std::max(threads, 1) - 1;
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  start_cv_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_chunks(std::unique_lock<std::mutex>& lock) {
  while (job_ != nullptr && next_chunk_ < job_chunks_) {
    const int64_t chunk = next_chunk_++;
    const auto* fn = job_;
    const int64_t n = job_n_;
    const int64_t chunks = job_chunks_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*fn)(chunk * n / chunks, (chunk + 1) * n / chunks);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (chunks_done_.fetch_add(1) + 1 == job_chunks_) done_cv_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                              int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_chunks = (n + grain - 1) / grain;
  // A few chunks per thread balance uneven work without much overhead.
  const int64_t chunks = std::min<int64_t>(max_chunks, int64_t{size()} * 4);
  if (workers_.empty() || chunks <= 1) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = &fn;
  job_n_ = n;
  job_chunks_ = chunks;
  next_chunk_ = 0;
  chunks_done_ = 0;
  error_ = nullptr;
  ++generation_;
  start_cv_.notify_all();
  // The calling thread takes chunks too, then waits for the workers' last ones.
  run_chunks(lock);
  done_cv_.wait(lock, [this] { return chunks_done_ == job_chunks_; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker_loop(int /*index*/) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    run_chunks(lock);
  }
}

}  // namespace lq::kernels
