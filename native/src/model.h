// The state behind lstm4j::Lstm: its configuration, parameters, the algorithm chosen at prepare(),
// its share of the process-wide CPU team and the pool of workspaces that concurrent calls draw from.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu/team.h"
#include "lstm4j/lstm.h"
#include "params.h"

namespace lstm4j {

// Where step t's rows are in the (rows, features) matrices of a forward pass: rows row0[t] +
// b * b_stride for b < n[t]. A padded batch has n[t] = B at every step (row0[t] = t * t_rows for
// time-major or batch-first data); a packed one (sequences sorted by length, longest first) has
// row0[t] = n[0] + ... + n[t-1], b_stride 1 and non-increasing n[t].
struct StepLayout {
  int64_t steps = 0, batch = 0, rows = 0, b_stride = 1;
  std::vector<int64_t> row0, n;
  bool packed = false;

  static StepLayout padded(int64_t steps, int64_t batch, bool batch_first);
  static StepLayout of_packed(const int64_t* batch_sizes, int64_t steps);
  int64_t row(int64_t t, int64_t b) const { return row0[static_cast<size_t>(t)] + b * b_stride; }
  int64_t n_at(int64_t t) const { return n[static_cast<size_t>(t)]; }
  // The step at which sequence b's last state is reached in direction d (0 forwards, 1 reverse).
  int64_t last_step(int64_t b, int64_t d) const;
};

// Scratch buffers of one forward pass, kept between calls and grown on demand: fresh buffers cost
// page faults on every call (measured 14 ms of the 36 ms input GEMM of a B=64, T=128, H=256 layer).
struct Workspace {
  enum Slot { kGx, kGh, kC, kHFull, kY0, kY1, kZeroH0, kIn, kSlots };
  Tensor buf[kSlots];
  int64_t bytes[kSlots] = {};

  template <typename T>
  T* get(Slot slot, int64_t numel) {
    const int64_t need = numel * static_cast<int64_t>(sizeof(T));
    if (bytes[slot] < need) {
      buf[slot] = Tensor::empty({numel}, dtype_of<T>(), Device{});
      bytes[slot] = need;
    }
    return buf[slot].data<T>();
  }
};

struct Lstm::Impl {
  Config config;
  Params params{config};
  Algorithm algorithm = Algorithm::kAuto;
  bool prepared = false;
  std::mutex prepare_mutex;
  // Threads that split each step of the team scan (CPU models): the process-wide team, borrowed per
  // call, and this model's share of it (set_num_threads; at most the team's size).
  cpu::Team* team = nullptr;
  int threads = 0;
  // Workspaces of finished calls; a call takes one (or makes one) and gives it back, so concurrent
  // calls never share scratch memory.
  std::mutex workspace_mutex;
  std::vector<std::unique_ptr<Workspace>> workspaces;
};

// The checks every host-pointer call makes first: the element type T is the model's host dtype,
// and the data pointers are set.
template <typename T>
void check_call(const Config& c, const void* input, const void* output) {
  LSTM4J_CHECK(host_dtype(c.dtype) == dtype_of<T>(),
               std::string("input is ") + dtype_name(dtype_of<T>()) + ", but the LSTM takes " +
                   dtype_name(host_dtype(c.dtype)));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
}

// Takes a workspace from the model's pool for the length of one call.
class WorkspaceLease {
 public:
  explicit WorkspaceLease(Lstm::Impl& m);
  ~WorkspaceLease();
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;
  Workspace& operator*() { return *ws_; }

 private:
  Lstm::Impl& m_;
  std::unique_ptr<Workspace> ws_;
};

}  // namespace lstm4j
