// A few worker threads that split one time step with the calling thread and hand it back in well
// under a microsecond: a step is too short for a thread pool's hand-off (or for LibTorch's
// OpenMP region around a small mm), so the workers spin briefly on a generation counter before
// they sleep, and back-to-back steps find them awake.
//
// Parts are claimed, not assigned: the caller claims parts too, so a worker that is asleep or
// descheduled costs only its share of the speed-up. Each part must write disjoint outputs and
// must not throw. A caller that finds the team busy (another thread's forward) runs every part
// itself; the results are the same bits either way.
//
// One team serves every CPU model of the process (shared()): models borrow it per call and split
// a step into at most their own thread count of parts, so the process's thread count does not grow
// with the number of live models (300 models once meant 300 teams). A run of n parts seats at most
// n - 1 workers: the others sleep instead of spinning, so a model with threads=2 holds two cores,
// not the whole team's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace lstm4j::cpu {

class Team {
 public:
  // size: threads taking part, the caller included; the workers start on first use.
  explicit Team(int size);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return size_; }

  // Runs body(p) for every p < parts (at most 65535) and returns when all are done.
  template <typename F>
  void run(int parts, F& body) {
    run_erased(parts, [](void* ctx, int p) { (*static_cast<F*>(ctx))(p); }, &body);
  }

  // Threads taking part by default: the machine's hardware threads, at most 16 (beyond that a
  // step's columns are too thin to share).
  static int default_size();

  // The process-wide team of default_size() threads that every CPU model borrows. Never destroyed:
  // a worker must not be joined from a static destructor while a JVM thread may still call in.
  static Team& shared();

 private:
  using Body = void (*)(void*, int);
  void run_erased(int parts, Body body, void* ctx);
  void work(uint64_t gen);
  bool take_seat(uint64_t gen);
  void worker_loop();
  void start();

  const int size_;
  std::mutex owner_;
  std::vector<std::thread> threads_;
  // The current run; written before claim_ and generation_ are published.
  std::atomic<Body> body_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<uint64_t> generation_{0};
  // (generation << 32) | (parts << 16) | next unclaimed part: one word, so that a claim can only
  // succeed against the run it was read for.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> finished_{0};
  // (generation << 32) | workers the current run still seats.
  std::atomic<uint64_t> seats_{0};
  std::atomic<bool> stop_{false};
  // Workers not asleep: a run wakes sleepers only when fewer than it seats are awake.
  std::atomic<int> awake_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

}  // namespace lstm4j::cpu
