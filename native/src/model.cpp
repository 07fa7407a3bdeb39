#include "model.h"

namespace lstm4j {

StepLayout StepLayout::padded(int64_t steps, int64_t batch, bool batch_first) {
  StepLayout s;
  s.steps = steps;
  s.batch = batch;
  s.rows = steps * batch;
  s.b_stride = batch_first ? steps : 1;
  for (int64_t t = 0; t < steps; ++t) {
    s.row0.push_back(t * (batch_first ? 1 : batch));
    s.n.push_back(batch);
  }
  return s;
}

StepLayout StepLayout::of_packed(const int64_t* batch_sizes, int64_t steps) {
  LSTM4J_CHECK(batch_sizes != nullptr && steps > 0, "batch_sizes must hold at least one step");
  StepLayout s;
  s.steps = steps;
  s.batch = batch_sizes[0];
  s.packed = true;
  for (int64_t t = 0; t < steps; ++t) {
    LSTM4J_CHECK(batch_sizes[t] > 0 && batch_sizes[t] <= (t == 0 ? batch_sizes[0] : batch_sizes[t - 1]),
                 "batch_sizes must be positive and non-increasing, got " +
                     std::to_string(batch_sizes[t]) + " at step " + std::to_string(t));
    s.row0.push_back(s.rows);
    s.n.push_back(batch_sizes[t]);
    s.rows += batch_sizes[t];
  }
  return s;
}

int64_t StepLayout::last_step(int64_t b, int64_t d) const {
  if (d != 0) return 0;
  int64_t t = steps - 1;
  while (n_at(t) <= b) --t;
  return t;
}

WorkspaceLease::WorkspaceLease(Lstm::Impl& m) : m_(m) {
  std::lock_guard<std::mutex> lock(m_.workspace_mutex);
  if (!m_.workspaces.empty()) {
    ws_ = std::move(m_.workspaces.back());
    m_.workspaces.pop_back();
  }
  if (!ws_) ws_ = std::make_unique<Workspace>();
}

WorkspaceLease::~WorkspaceLease() {
  std::lock_guard<std::mutex> lock(m_.workspace_mutex);
  m_.workspaces.push_back(std::move(ws_));
}

}  // namespace lstm4j
