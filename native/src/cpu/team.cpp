#include "cpu/team.h"

#include <algorithm>
#include <chrono>
#include <string>
#if defined(__linux__)
#include <pthread.h>
#endif

namespace lstm4j::cpu {

namespace {
// How long a worker spins for the next step before it sleeps, at most (see worker_loop): long
// enough to bridge the serial work between two steps and the caller's own work between two forward
// calls, short enough not to hold a core for long once the calls stop (GNU OpenMP spins for longer
// by default). A worker that sleeps between calls is woken at the start of the next one, and on a
// virtual machine that wake-up can take longer than the forward: with 20 us, B=1, T=128 forwards in
// blocks measured 1.1-2.6 ms (the caller often ran every part alone), with 500 us 1.25-1.5 ms.
constexpr auto kSpinTime = std::chrono::microseconds(500);
// Past this much of it (longer than any wait between two steps), the spinning yields the core
// between checks: a worker that shares its core with the caller (the scheduler put them together,
// or other work took the other cores) must not hold off the caller's next call. With both threads
// pinned to one core, B=1, T=128 forwards took 4.4 ms at the median, 2.3 ms with these yields,
// about one thread's time. Yielding sooner, inside a forward, measured slower with other threads
// about (a JVM's GC threads took the core).
constexpr auto kHotSpinTime = std::chrono::microseconds(100);
// The shortest spin a worker falls back to (see worker_loop): long enough to bridge the gaps between
// the runs of one forward (its layers and steps), so that only a call's first run has to wake it.
constexpr auto kMinSpinTime = std::chrono::microseconds(16);
// Pause rounds the caller spins on unfinished parts before it yields between checks (a worker
// holding a part was descheduled).
constexpr int kCallerSpins = 1 << 16;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

Team::Team(int size) : size_(std::max(1, size)) {}

Team::~Team() {
  {
    std::lock_guard<std::mutex> owner(owner_);
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

int Team::default_size() {
  const unsigned n = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(n, 1u, 16u));
}

Team& Team::shared() {
  static Team* const team = new Team(default_size());
  return *team;
}

void Team::start() {
  threads_.reserve(static_cast<size_t>(size_ - 1));
  awake_.store(size_ - 1, std::memory_order_seq_cst);
  for (int w = 1; w < size_; ++w) {
    threads_.emplace_back([this, w] {
#if defined(__linux__)
      // Named, so that a profiler or `top -H` tells the team from LibTorch's OpenMP pool.
      const std::string name = "lstm4j-team-" + std::to_string(w);
      pthread_setname_np(pthread_self(), name.c_str());
#endif
      worker_loop();
    });
  }
}

void Team::run_erased(int parts, Body body, void* ctx) {
  parts = std::min(parts, 0xffff);
  std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
  if (parts <= 1 || size_ == 1 || !owner.owns_lock()) {
    for (int p = 0; p < parts; ++p) body(ctx, p);
    return;
  }
  if (threads_.empty()) start();
  const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
  body_.store(body, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  claim_.store(gen << 32 | static_cast<uint64_t>(parts) << 16, std::memory_order_release);
  // The caller runs a part itself: seat at most parts - 1 workers.
  const int helpers = std::min(parts, size_) - 1;
  seats_.store(gen << 32 | static_cast<uint64_t>(helpers), std::memory_order_release);
  generation_.store(gen, std::memory_order_seq_cst);  // publishes the run
  // A worker going to sleep decrements awake_ before it reads generation_ (both seq_cst), so it
  // either counts as awake here or sees this run.
  const int missing = helpers - awake_.load(std::memory_order_seq_cst);
  if (missing > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    if (missing >= size_ - 1) {
      wake_.notify_all();
    } else {
      for (int i = 0; i < missing; ++i) wake_.notify_one();
    }
  }
  work(gen);
  for (int spins = 0; finished_.load(std::memory_order_acquire) < parts;) {
    if (++spins < kCallerSpins) {
      cpu_relax();
    } else {
      std::this_thread::yield();  // a worker holding a part was descheduled: let it run
    }
  }
}

void Team::work(uint64_t gen) {
  for (;;) {
    uint64_t s = claim_.load(std::memory_order_acquire);
    const int next = static_cast<int>(s & 0xffff), parts = static_cast<int>((s >> 16) & 0xffff);
    if ((s >> 32) != gen || next >= parts) return;
    if (!claim_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
    // The run cannot end before this part does, so body_ and ctx_ are still this run's.
    body_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), next);
    finished_.fetch_add(1, std::memory_order_release);
  }
}

bool Team::take_seat(uint64_t gen) {
  uint64_t s = seats_.load(std::memory_order_acquire);
  while ((s >> 32) == gen && (s & 0xffffffffu) > 0) {
    if (seats_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void Team::worker_loop() {
  uint64_t seen = generation_.load(std::memory_order_acquire);
  // Not seated by the last run: sleep at once rather than spin for a run that wants fewer threads.
  bool unseated = false;
  // How long this worker spins before it sleeps, adapted to the gaps between runs: halved each time
  // a spin ends in sleep, doubled each time a run comes while it spins (kMinSpinTime..kSpinTime).
  // Back-to-back forwards keep the full spin; a caller whose runs come further apart than the spin
  // (a stream pool stepping every millisecond) no longer pays half a core for it: the worker spun
  // 0.5 ms after each such step, 52 % of a core at 1,600 frames/s (H=1024), 80 % at 8,000.
  auto budget = std::chrono::steady_clock::duration(kSpinTime);
  for (;;) {
    int spins = 0;
    bool slept = false;
    auto waiting_since = std::chrono::steady_clock::now();
    uint64_t gen;
    while ((gen = generation_.load(std::memory_order_acquire)) == seen) {
      if (stop_.load(std::memory_order_relaxed)) return;
      if (!unseated) {
        if ((++spins & 63) != 0) {
          cpu_relax();
          continue;
        }
        const auto waited = std::chrono::steady_clock::now() - waiting_since;
        if (waited < std::min<std::chrono::steady_clock::duration>(kHotSpinTime, budget)) {
          cpu_relax();
          continue;
        }
        if (waited < budget) {
          std::this_thread::yield();
          continue;
        }
        budget = std::max<std::chrono::steady_clock::duration>(kMinSpinTime, budget / 2);
      }
      unseated = false;
      slept = true;
      std::unique_lock<std::mutex> lock(sleep_mutex_);
      awake_.fetch_sub(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] {
        return stop_.load() || generation_.load(std::memory_order_seq_cst) != seen;
      });
      awake_.fetch_add(1, std::memory_order_seq_cst);
      waiting_since = std::chrono::steady_clock::now();
    }
    if (stop_.load(std::memory_order_relaxed)) return;
    if (!slept) budget = std::min<std::chrono::steady_clock::duration>(kSpinTime, budget * 2);
    seen = gen;
    if (take_seat(gen)) {
      work(gen);
    } else {
      unseated = true;
    }
  }
}

}  // namespace lstm4j::cpu
