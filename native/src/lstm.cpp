// Plumbing of the LSTM: parameter bookkeeping, weight layout, the layer x direction x time
// scan. The numeric work is LibTorch's GEMMs (through the C ABI) and cpu/lstm_gates.
#include "lstm4j/lstm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <type_traits>
#include <string>
#include <vector>

#include "cpu/gemm_f32.h"
#include "cpu/lstm_gates.h"
#include "cpu/team.h"
#include "device_ops.h"
#include "lstm4j/tensor.h"

namespace lstm4j {

namespace {

enum ParamKind { kWeightIh = 0, kWeightHh, kBiasIh, kBiasHh, kWeightHr, kNumKinds };
const char* const kKindNames[kNumKinds] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                           "weight_hr"};

struct ParamId {
  int kind = -1;
  int64_t layer = -1;
  int direction = 0;
};

// Parses "weight_ih_l3_reverse" and friends; kind -1 when the name is not an LSTM parameter.
ParamId parse_name(const std::string& name) {
  ParamId id;
  for (int k = 0; k < kNumKinds; ++k) {
    const std::string prefix = std::string(kKindNames[k]) + "_l";
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = name.substr(prefix.size());
    const std::string reverse = "_reverse";
    if (rest.size() > reverse.size() &&
        rest.compare(rest.size() - reverse.size(), reverse.size(), reverse) == 0) {
      id.direction = 1;
      rest.resize(rest.size() - reverse.size());
    }
    if (rest.empty() || rest.size() > 6) return ParamId{};
    int64_t layer = 0;
    for (char ch : rest) {
      if (ch < '0' || ch > '9') return ParamId{};
      layer = layer * 10 + (ch - '0');
    }
    id.kind = k;
    id.layer = layer;
    return id;
  }
  return ParamId{};
}

std::string param_name(int kind, int64_t layer, int direction) {
  return std::string(kKindNames[kind]) + "_l" + std::to_string(layer) +
         (direction == 1 ? "_reverse" : "");
}

template <typename T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 8 ? Dtype::kFloat64 : Dtype::kFloat32;
}

}  // namespace

// Where step t's rows are in the (rows, features) matrices of a forward pass: rows row0[t] +
// b * b_stride for b < n[t]. A padded batch has n[t] = B at every step (row0[t] = t * t_rows for
// time-major or batch-first data); a packed one (sequences sorted by length, longest first) has
// row0[t] = n[0] + ... + n[t-1], b_stride 1 and non-increasing n[t].
struct StepLayout {
  int64_t steps = 0, batch = 0, rows = 0, b_stride = 1;
  std::vector<int64_t> row0, n;
  bool packed = false;

  static StepLayout padded(int64_t T_, int64_t B, bool batch_first) {
    StepLayout s;
    s.steps = T_;
    s.batch = B;
    s.rows = T_ * B;
    s.b_stride = batch_first ? T_ : 1;
    for (int64_t t = 0; t < T_; ++t) {
      s.row0.push_back(t * (batch_first ? 1 : B));
      s.n.push_back(B);
    }
    return s;
  }

  static StepLayout of_packed(const int64_t* batch_sizes, int64_t steps) {
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
};

// Scratch buffers of one forward pass, kept between calls and grown on demand.
struct Workspace {
  enum Slot { kGx, kGh, kC, kHFull, kY0, kY1, kSlots };
  Tensor buf[kSlots];
  int64_t bytes[kSlots] = {};

  template <typename T>
  T* get(Slot slot, int64_t numel, Dtype dtype) {
    const int64_t need = numel * static_cast<int64_t>(sizeof(T));
    if (bytes[slot] < need) {
      buf[slot] = Tensor::empty({numel}, dtype, Device{});
      bytes[slot] = need;
    }
    return buf[slot].data<T>();
  }
};

namespace {
// c for one layer and direction before its first step: that slice of c0, or zeros.
template <typename T>
void start_cell_state(T* c, const T* c0, int64_t state, int64_t numel) {
  if (c0 != nullptr) {
    std::memcpy(c, c0 + state * numel, sizeof(T) * static_cast<size_t>(numel));
  } else {
    std::memset(c, 0, sizeof(T) * static_cast<size_t>(numel));
  }
}
}  // namespace

struct Lstm::Impl {
  int64_t input_size, hidden_size, num_layers, proj_size, num_directions;
  bool bias;
  Dtype dtype;
  Device device;

  // Parameters as given, host side, indexed [layer][direction][kind]; freed once prepared.
  std::vector<std::vector<unsigned char>> staged;
  std::vector<bool> is_set;

  // Prepared per layer: both directions' W_ih stacked (D*4H, I_l) for one input GEMM, its
  // transposed view (I_l, D*4H), and the folded bias b_ih + b_hh (D*4H).
  struct Layer {
    Tensor w_ih_cat, w_ih_cat_t, bias_cat;
    // For oneDNN's layer: per direction a (4H, I_l) view into w_ih_cat, the folded bias (or
    // zeros) as b_ih, and zeros as b_hh.
    Tensor w_ih_dir[2], b_dir[2], zeros_g;
    Tensor w_ih_dir_t[2];  // (I_l, 4H) views: the device scan's per-direction input GEMMs
    Tensor w_hh[2], w_hh_t[2];  // (4H, P) and its (P, 4H) view
    Tensor w_hr[2], w_hr_t[2];  // (P, H) and its (H, P) view
    // On CPU, for our own kernels (cpu/gemm_f32.h): W^T packed in panels, blocks of H columns
    // (of P for W_hr^T).
    Tensor w_ih_p;      // (I_l, D * 4H): both directions side by side
    Tensor w_hh_p[2];   // (P, 4H)
    Tensor w_hr_p[2];   // (H, P)
  };
  // Threads that split each step (float32 CPU team scan); started on first use.
  std::unique_ptr<cpu::Team> team;
  // Workspaces of finished calls; a call takes one (or makes one) and gives it back, so concurrent
  // calls never share scratch memory.
  std::mutex workspace_mutex;
  std::vector<std::unique_ptr<Workspace>> workspaces;
  std::vector<Layer> layers;
  bool prepared = false;
  int32_t cpu_algorithm = 0;
  bool use_onednn = false;
  bool use_team = false;
  bool use_device_scan = false;
  // Whether every W_hh element is finite (set by prepare). PyTorch computes W_hh h0 even for a
  // zero h0, and NaN * 0 = NaN: a call without h0 may skip that product only when this holds;
  // otherwise it runs on zeros (initial_h).
  bool w_hh_finite = true;
  std::mutex prepare_mutex;

  // h0 as the scans take it: the caller's, or (null) zeros when W_hh is not all finite.
  template <typename T>
  const T* initial_h(const T* h0, int64_t B, std::vector<T>& zeros) const {
    if (h0 != nullptr || w_hh_finite || B <= 0) return h0;
    zeros.assign(static_cast<size_t>(num_layers * num_directions * B * P()), T(0));
    return zeros.data();
  }

  int64_t P() const { return proj_size > 0 ? proj_size : hidden_size; }
  int64_t layer_input(int64_t l) const { return l == 0 ? input_size : num_directions * P(); }
  size_t slot(int64_t layer, int direction, int kind) const {
    return static_cast<size_t>((layer * 2 + direction) * kNumKinds + kind);
  }
  std::vector<int64_t> expected_shape(int kind, int64_t layer) const {
    const int64_t G = 4 * hidden_size;
    switch (kind) {
      case kWeightIh: return {G, layer_input(layer)};
      case kWeightHh: return {G, P()};
      case kBiasIh:
      case kBiasHh: return {G};
      default: return {proj_size, hidden_size};
    }
  }
  bool expected(int kind, int64_t layer, int direction) const {
    if (layer < 0 || layer >= num_layers || direction >= num_directions) return false;
    if ((kind == kBiasIh || kind == kBiasHh) && !bias) return false;
    if (kind == kWeightHr && proj_size == 0) return false;
    return true;
  }

  void set(const char* name, const void* data, int64_t numel, Dtype given);
  template <typename T>
  void prepare_typed();
  template <typename T>
  void forward(const T* input, int64_t T_, int64_t B, bool batch_first, const T* h0, const T* c0,
               T* output, T* h_n, T* c_n);
  template <typename T>
  void forward_team(const T* input, const StepLayout& layout, const T* h0, const T* c0, T* output,
                    T* h_n, T* c_n);
  Tensor scan_device(AtenTensorHandle x, int64_t T_, int64_t B, Tensor& h_state, Tensor& c_state);
  template <typename T>
  void forward_device_packed(const T* data, const StepLayout& layout, const T* h0, const T* c0,
                             T* output, T* h_n, T* c_n);
  template <typename T>
  void forward_packed(const T* data, const int64_t* batch_sizes, int64_t steps, const T* h0,
                      const T* c0, T* output, T* h_n, T* c_n);
  void forward_onednn(const float* input, int64_t T_, int64_t B, bool batch_first,
                      const float* h0, const float* c0, float* output, float* h_n, float* c_n);
  template <typename T>
  void forward_device(const T* input, int64_t T_, int64_t B, bool batch_first, const T* h0,
                      const T* c0, T* output, T* h_n, T* c_n);
};

// Takes a workspace from the model's pool for the length of one call.
class WorkspaceLease {
 public:
  explicit WorkspaceLease(Lstm::Impl& m) : m_(m) {
    std::lock_guard<std::mutex> lock(m_.workspace_mutex);
    if (!m_.workspaces.empty()) {
      ws_ = std::move(m_.workspaces.back());
      m_.workspaces.pop_back();
    }
    if (!ws_) ws_ = std::make_unique<Workspace>();
  }
  ~WorkspaceLease() {
    std::lock_guard<std::mutex> lock(m_.workspace_mutex);
    m_.workspaces.push_back(std::move(ws_));
  }
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;
  Workspace* operator->() { return ws_.get(); }

 private:
  Lstm::Impl& m_;
  std::unique_ptr<Workspace> ws_;
};

Lstm::Lstm(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
           bool bidirectional, int64_t proj_size, int32_t dtype, int32_t device_type,
           int32_t device_index)
    : impl_(std::make_unique<Impl>()) {
  LSTM4J_CHECK(input_size > 0, "input_size must be positive, got " + std::to_string(input_size));
  LSTM4J_CHECK(hidden_size > 0,
               "hidden_size must be positive, got " + std::to_string(hidden_size));
  LSTM4J_CHECK(num_layers > 0, "num_layers must be positive, got " + std::to_string(num_layers));
  LSTM4J_CHECK(proj_size >= 0 && proj_size < hidden_size,
               "proj_size must be >= 0 and < hidden_size (" + std::to_string(hidden_size) +
                   "), got " + std::to_string(proj_size));
  LSTM4J_CHECK(dtype >= 0 && dtype <= 3,
               "dtype must be 0 (float32), 1 (float64), 2 (bfloat16) or 3 (float16), got " +
                   std::to_string(dtype));
  LSTM4J_CHECK(device_type == 0 || device_type == 1,
               "device_type must be 0 (cpu) or 1 (cuda), got " + std::to_string(device_type));
  if (device_type == 1) {
    device::ops_for(Device{DeviceType::kCuda, device_index});  // throws if CUDA or the index is missing
  } else {
    LSTM4J_CHECK(dtype <= 1, std::string(dtype_name(static_cast<Dtype>(dtype))) +
                                 " runs on CUDA only; on cpu use float32 or float64");
  }
  Impl& m = *impl_;
  m.input_size = input_size;
  m.hidden_size = hidden_size;
  m.num_layers = num_layers;
  m.proj_size = proj_size;
  m.num_directions = bidirectional ? 2 : 1;
  m.bias = bias;
  m.dtype = static_cast<Dtype>(dtype);
  m.device = Device{static_cast<DeviceType>(device_type), device_index};
  m.staged.resize(static_cast<size_t>(num_layers * 2 * kNumKinds));
  m.is_set.assign(m.staged.size(), false);
}

Lstm::~Lstm() = default;

void Lstm::Impl::set(const char* name, const void* data, int64_t numel, Dtype given) {
  LSTM4J_CHECK(name != nullptr, "parameter name is null");
  const ParamId id = parse_name(name);
  LSTM4J_CHECK(id.kind >= 0 && expected(id.kind, id.layer, id.direction),
               std::string("unexpected parameter '") + name + "' for this LSTM configuration");
  LSTM4J_CHECK(given == host_dtype(dtype), std::string("parameter '") + name + "' is " +
                                                dtype_name(given) + ", expected " +
                                                dtype_name(host_dtype(dtype)));
  int64_t want = 1;
  for (int64_t s : expected_shape(id.kind, id.layer)) want *= s;
  LSTM4J_CHECK(numel == want, std::string("parameter '") + name + "' has " +
                                  std::to_string(numel) + " elements, expected " +
                                  std::to_string(want));
  LSTM4J_CHECK(data != nullptr, std::string("parameter '") + name + "' data is null");
  std::lock_guard<std::mutex> lock(prepare_mutex);
  LSTM4J_CHECK(!prepared, "parameters cannot change after the LSTM is prepared");
  const size_t s = slot(id.layer, id.direction, id.kind);
  const auto* bytes = static_cast<const unsigned char*>(data);
  staged[s].assign(bytes, bytes + numel * element_size(dtype));
  is_set[s] = true;
}

void Lstm::set_parameter(const char* name, const float* data, int64_t numel) {
  impl_->set(name, data, numel, Dtype::kFloat32);
}
void Lstm::set_parameter(const char* name, const double* data, int64_t numel) {
  impl_->set(name, data, numel, Dtype::kFloat64);
}

template <typename T>
void Lstm::Impl::prepare_typed() {
  const int64_t G = 4 * hidden_size, D = num_directions, H = hidden_size, Pn = P();
  const Device host{};
  auto staged_ptr = [&](int64_t l, int d, int k) {
    return reinterpret_cast<const T*>(staged[slot(l, d, k)].data());
  };
  // Host layouts are built here and uploaded once; device tensors are all the model keeps.
  // Host data is T (float for the 16-bit types); copy_ converts to the model's dtype on upload.
  auto upload = [&](const std::vector<T>& host_data, const std::vector<int64_t>& sizes) {
    Tensor dst = Tensor::empty(sizes, dtype, device);
    Tensor src = Tensor::from_blob(const_cast<T*>(host_data.data()), sizes, host_dtype(dtype), host);
    dst.copy_from(src);
    return dst;
  };
  auto transposed_view = [&](const Tensor& w, int64_t rows, int64_t cols) {
    return w.view(0, {cols, rows}, {1, cols}, dtype, device);
  };
  layers.clear();
  layers.resize(static_cast<size_t>(num_layers));
  for (int64_t l = 0; l < num_layers; ++l) {
    Layer& layer = layers[static_cast<size_t>(l)];
    const int64_t in = layer_input(l);
    std::vector<T> w_cat(static_cast<size_t>(D * G * in));
    for (int d = 0; d < D; ++d) {
      std::memcpy(w_cat.data() + d * G * in, staged_ptr(l, d, kWeightIh),
                  sizeof(T) * static_cast<size_t>(G * in));
    }
    layer.w_ih_cat = upload(w_cat, {D * G, in});
    layer.w_ih_cat_t = transposed_view(layer.w_ih_cat, D * G, in);
    if (bias) {
      std::vector<T> b_cat(static_cast<size_t>(D * G));
      for (int d = 0; d < D; ++d) {
        const T* bi = staged_ptr(l, d, kBiasIh);
        const T* bh = staged_ptr(l, d, kBiasHh);
        for (int64_t j = 0; j < G; ++j) b_cat[static_cast<size_t>(d * G + j)] = bi[j] + bh[j];
      }
      layer.bias_cat = upload(b_cat, {D * G});
    }
    layer.zeros_g = upload(std::vector<T>(static_cast<size_t>(G), T(0)), {G});
    for (int d = 0; d < D; ++d) {
      layer.w_ih_dir[d] = layer.w_ih_cat.view(d * G * in, {G, in}, {in, 1}, dtype, device);
      layer.w_ih_dir_t[d] = layer.w_ih_cat.view(d * G * in, {in, G}, {1, in}, dtype, device);
      layer.b_dir[d] = bias ? layer.bias_cat.view(d * G, {G}, {1}, dtype, device)
                            : layer.zeros_g.view(0, {G}, {1}, dtype, device);
    }
    if (dtype_of<T>() == dtype && device.is_cpu()) {
      // W^T packed in panels for cpu::gemm_f32, in blocks of one gate (H columns) so that a range
      // of hidden units starts a panel in every gate; W_hr^T in one block.
      layer.w_ih_p = Tensor::empty({cpu::packed_size(in, D * G, H)}, dtype, host);
      for (int d = 0; d < D; ++d) {
        cpu::pack_transposed(staged_ptr(l, d, kWeightIh), G, in, H,
                             layer.w_ih_p.data<T>() + cpu::packed_size(in, d * G, H));
      }
      for (int d = 0; d < D; ++d) {
        layer.w_hh_p[d] = Tensor::empty({cpu::packed_size(Pn, G, H)}, dtype, host);
        cpu::pack_transposed(staged_ptr(l, d, kWeightHh), G, Pn, H, layer.w_hh_p[d].data<T>());
        if (proj_size > 0) {
          layer.w_hr_p[d] = Tensor::empty({cpu::packed_size(H, Pn, Pn)}, dtype, host);
          cpu::pack_transposed(staged_ptr(l, d, kWeightHr), Pn, H, Pn, layer.w_hr_p[d].data<T>());
        }
      }
    }
    for (int d = 0; d < D; ++d) {
      const T* w_hh = staged_ptr(l, d, kWeightHh);
      for (int64_t i = 0; i < G * Pn; ++i) {
        if (!std::isfinite(w_hh[i])) w_hh_finite = false;
      }
      layer.w_hh[d] = upload(std::vector<T>(w_hh, w_hh + G * Pn), {G, Pn});
      layer.w_hh_t[d] = transposed_view(layer.w_hh[d], G, Pn);
      if (proj_size > 0) {
        const T* w_hr = staged_ptr(l, d, kWeightHr);
        layer.w_hr[d] = upload(std::vector<T>(w_hr, w_hr + Pn * H), {Pn, H});
        layer.w_hr_t[d] = transposed_view(layer.w_hr[d], Pn, H);
      }
    }
  }
}

void Lstm::prepare() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.prepare_mutex);
  if (m.prepared) return;
  std::string missing;
  for (int64_t l = 0; l < m.num_layers; ++l) {
    for (int d = 0; d < m.num_directions; ++d) {
      for (int k = 0; k < kNumKinds; ++k) {
        if (m.expected(k, l, d) && !m.is_set[m.slot(l, d, k)]) {
          missing += (missing.empty() ? "" : ", ") + param_name(k, l, d);
        }
      }
    }
  }
  LSTM4J_CHECK(missing.empty(), "missing LSTM parameters: " + missing);
  if (m.dtype == Dtype::kFloat64) {
    m.prepare_typed<double>();
  } else {
    m.prepare_typed<float>();
  }
  m.staged.clear();
  m.staged.shrink_to_fit();
  // oneDNN's fused layer (what LibTorch's own CPU lstm runs) handles float32 without projection;
  // automatic mode takes it unless the input is a single step, where our scan has less set-up.
  m.use_onednn = m.device.is_cpu() && m.dtype == Dtype::kFloat32 && m.proj_size == 0 &&
                 m.cpu_algorithm == 2;
  m.use_team = m.device.is_cpu() && m.dtype == Dtype::kFloat32 &&
               (m.cpu_algorithm == 0 || m.cpu_algorithm == 3);
  m.use_device_scan = !m.device.is_cpu() || m.cpu_algorithm == 4;
  if (m.device.is_cpu()) m.team = std::make_unique<cpu::Team>(cpu::Team::default_size());
  m.prepared = true;
}

template <typename T>
void Lstm::Impl::forward(const T* input, int64_t T_, int64_t B, bool batch_first, const T* h0,
                         const T* c0, T* output, T* h_n, T* c_n) {
  LSTM4J_CHECK(dtype_of<T>() == dtype, std::string("input is ") + dtype_name(dtype_of<T>()) +
                                           ", but the LSTM is " + dtype_name(dtype));
  LSTM4J_CHECK(T_ > 0, "seq_len must be positive, got " + std::to_string(T_));
  LSTM4J_CHECK(B > 0, "batch must be positive, got " + std::to_string(B));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
  const int64_t H = hidden_size, Pn = P(), D = num_directions, G = 4 * H;
  const int64_t rows = T_ * B;
  // Row of (t, b) in every (T*B, features) matrix, for either layout:
  // r(t, b) = t * t_rows + b * b_rows.
  const int64_t t_rows = batch_first ? 1 : B;
  const int64_t b_rows = batch_first ? T_ : 1;
  const Device host{};

  Tensor gx = Tensor::empty({rows, D * G}, dtype, host);
  Tensor gh = Tensor::empty({B, G}, dtype, host);
  Tensor h_full;  // h before projection, (B, H), only with proj_size
  if (proj_size > 0) h_full = Tensor::empty({B, H}, dtype, host);
  Tensor c = Tensor::empty({B, H}, dtype, host);
  Tensor y_buf[2];
  if (num_layers > 1) {
    y_buf[0] = Tensor::empty({rows, D * Pn}, dtype, host);
    if (num_layers > 2) y_buf[1] = Tensor::empty({rows, D * Pn}, dtype, host);
  }
  T* gx_p = gx.data<T>();
  T* gh_p = gh.data<T>();
  T* c_p = c.data<T>();
  T* h_full_p = proj_size > 0 ? h_full.data<T>() : nullptr;

  const T* layer_in = input;
  for (int64_t l = 0; l < num_layers; ++l) {
    const Layer& layer = layers[static_cast<size_t>(l)];
    const int64_t in = layer_input(l);
    T* y = l == num_layers - 1 ? output : y_buf[l % 2].data<T>();
    const int64_t y_cols = D * Pn;
    // Input projection of every time step and both directions: one GEMM.
    Tensor x = Tensor::from_blob(const_cast<T*>(layer_in), {rows, in}, dtype, host);
    ops::linear_out(gx, x, layer.w_ih_cat_t, bias ? &layer.bias_cat : nullptr, device);

    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      start_cell_state(c_p, c0, state, B * H);
      int64_t t_prev = -1;
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s;
        const T* gh_step = nullptr;
        if (t_prev >= 0 || h0 != nullptr) {
          const T* h_prev = t_prev >= 0 ? y + (t_prev * t_rows) * y_cols + d * Pn
                                        : h0 + state * B * Pn;
          const int64_t h_prev_stride = t_prev >= 0 ? b_rows * y_cols : Pn;
          Tensor hp = Tensor::from_blob(const_cast<T*>(h_prev), {B, Pn}, {h_prev_stride, 1},
                                        dtype, host);
          ops::linear_out(gh, hp, layer.w_hh_t[d], nullptr, device);
          gh_step = gh_p;
        }
        T* y_t = y + (t * t_rows) * y_cols + d * Pn;
        const T* gx_t = gx_p + (t * t_rows) * (D * G) + d * G;
        if (proj_size > 0) {
          cpu::lstm_gates<T>(B, H, 0, H, gx_t, b_rows * D * G, gh_step, c_p, h_full_p, H);
          Tensor out = Tensor::from_blob(y_t, {B, Pn}, {b_rows * y_cols, 1}, dtype, host);
          ops::linear_out(out, h_full, layer.w_hr_t[d], nullptr, device);
        } else {
          cpu::lstm_gates<T>(B, H, 0, H, gx_t, b_rows * D * G, gh_step, c_p, y_t, b_rows * y_cols);
        }
        t_prev = t;
      }
      if (h_n != nullptr) {
        const T* last = y + (t_prev * t_rows) * y_cols + d * Pn;
        for (int64_t b = 0; b < B; ++b) {
          std::memcpy(h_n + (state * B + b) * Pn, last + b * b_rows * y_cols,
                      sizeof(T) * static_cast<size_t>(Pn));
        }
      }
      if (c_n != nullptr) {
        std::memcpy(c_n + state * B * H, c_p, sizeof(T) * static_cast<size_t>(B * H));
      }
    }
    layer_in = y;
  }
}

void Lstm::set_cpu_algorithm(int32_t algorithm) {
  LSTM4J_CHECK(algorithm >= 0 && algorithm <= 4,
               "cpu algorithm must be 0 to 4, got " + std::to_string(algorithm));
  std::lock_guard<std::mutex> lock(impl_->prepare_mutex);
  LSTM4J_CHECK(!impl_->prepared, "the cpu algorithm cannot change after the LSTM is prepared");
  impl_->cpu_algorithm = algorithm;
}

void Lstm::forward(const float* input, int64_t seq_len, int64_t batch, bool batch_first,
                   const float* h0, const float* c0, float* output, float* h_n, float* c_n) {
  prepare();
  Impl& m = *impl_;
  std::vector<float> zeros;
  h0 = m.initial_h(h0, batch, zeros);
  if (m.use_device_scan) {
    m.forward_device<float>(input, seq_len, batch, batch_first, h0, c0, output, h_n, c_n);
  } else if (m.use_team) {
    m.forward_team<float>(input, StepLayout::padded(seq_len, batch, batch_first), h0, c0, output,
                          h_n, c_n);
  } else if (m.use_onednn) {
    m.forward_onednn(input, seq_len, batch, batch_first, h0, c0, output, h_n, c_n);
  } else {
    m.forward<float>(input, seq_len, batch, batch_first, h0, c0, output, h_n, c_n);
  }
}



namespace {
// Products of a step below this many flops stay on the calling thread: splitting them saves less
// than the hand-off costs. At B=1, H=256 the 1 MB W_hh^T is above it, and split in two it fits
// the L2 caches of two cores.
constexpr int64_t kSplitFlops = int64_t{1} << 17;
// Units per part stay a multiple of one 512-bit vector of floats.
constexpr int64_t kAlign = 16;

int parts_for(int64_t flops, int64_t width, int64_t align, int team_size) {
  if (flops < kSplitFlops) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(team_size, width / align)));
}

// Whether the team scan computes each step's input projection just before the step, instead of
// all steps' at once before the time loop. Per step it saves writing and reading back the step's
// gate pre-activations through main memory (64 MB a layer at B=64, H=256); it pays when a step's
// rows reuse each weight enough (B >= 32) and the input weights stay in the L2 caches between
// steps (a part's share <= 512 KB). Measured (gemm_bench, 2 threads): B=64, I=H=256: 4 % faster;
// B <= 16 or H >= 512: no faster or slower (at B=1 per-step GEMVs take 1.55x as long).
// max_input: the widest layer input.
bool fuse_input_projection(int64_t batch, int64_t max_input, int64_t hidden, size_t elem,
                           int team_size) {
  constexpr int64_t kL2Share = int64_t{512} << 10;
  const int64_t bytes = max_input * 4 * hidden * static_cast<int64_t>(elem);
  return batch >= 32 && bytes / std::max(team_size, 1) <= kL2Share;
}

inline int64_t part_lo(int p, int parts, int64_t width, int64_t align) {
  return p == parts ? width : width * p / parts / align * align;
}

// The team scan's GEMM: float32 on the per-ISA kernels; float64 on a plain loop with the same
// contract (one sequential sum per element), for packed batches, which LibTorch's scan lacks.
inline void gemm(int64_t rows, int64_t k, const float* x, int64_t xs, const float* w, int64_t block,
                 int64_t n0, int64_t n1, const float* bias, float* out, int64_t os) {
  cpu::gemm_f32(rows, k, x, xs, w, block, n0, n1, bias, out, os);
}
inline void gemm(int64_t rows, int64_t k, const double* x, int64_t xs, const double* w,
                 int64_t block, int64_t n0, int64_t n1, const double* bias, double* out,
                 int64_t os) {
  for (int64_t j0 = n0; j0 < n1;) {  // one panel's share of the columns at a time
    const int64_t c = j0 % block;
    const int64_t len = std::min({cpu::kPanel - c % cpu::kPanel, block - c, n1 - j0});
    const double* wq = w + cpu::packed_index(0, j0, k, block);
    for (int64_t m = 0; m < rows; ++m) {
      double* o = out + m * os + j0;
      for (int64_t j = 0; j < len; ++j) o[j] = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const double a = x[m * xs + kk];
        const double* wr = wq + kk * cpu::kPanel;
        for (int64_t j = 0; j < len; ++j) o[j] += a * wr[j];
      }
      if (bias != nullptr) {
        for (int64_t j = 0; j < len; ++j) o[j] += bias[j0 + j];
      }
    }
    j0 += len;
  }
}
}  // namespace

// The CPU scan on our own kernels (float32's default; packed batches in both dtypes): per layer one
// input GEMM for every step and both directions, per step the W_hh product and the gate pass split
// by hidden units over the team (each part owns its columns of the i, f, g, o blocks and then its
// units of the gate pass), then the W_hr product split by output columns. No LibTorch call inside
// the time loop. With a packed batch, step t runs only its n[t] sequences: finished ones drop out
// of the GEMMs, and in the reverse direction a sequence joins at its own last step with its initial
// state.
template <typename T>
void Lstm::Impl::forward_team(const T* input, const StepLayout& lay, const T* h0, const T* c0,
                              T* output, T* h_n, T* c_n) {
  LSTM4J_CHECK(dtype_of<T>() == dtype, std::string("input is ") + dtype_name(dtype_of<T>()) +
                                           ", but the LSTM is " + dtype_name(dtype));
  LSTM4J_CHECK(lay.steps > 0, "seq_len must be positive, got " + std::to_string(lay.steps));
  LSTM4J_CHECK(lay.batch > 0, "batch must be positive, got " + std::to_string(lay.batch));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
  const int64_t H = hidden_size, Pn = P(), D = num_directions, G = 4 * H;
  const int64_t B = lay.batch, rows = lay.rows, bs = lay.b_stride, T_ = lay.steps;
  const int team_size = team->size();

  // Scratch memory reused across calls: fresh buffers of this size cost page faults on every call
  // (measured 14 ms of the 36 ms input GEMM of a B=64, T=128, H=256 layer).
  WorkspaceLease ws(*this);
  const bool fuse = fuse_input_projection(
      B, std::max(input_size, num_layers > 1 ? D * Pn : 0), H, sizeof(T), team_size);
  T* gx_p = ws->get<T>(Workspace::kGx, fuse ? B * G : rows * D * G, dtype);
  T* gh_p = ws->get<T>(Workspace::kGh, B * G, dtype);
  T* c_p = ws->get<T>(Workspace::kC, B * H, dtype);
  T* h_full_p = proj_size > 0 ? ws->get<T>(Workspace::kHFull, B * H, dtype) : nullptr;
  T* y_p[2] = {num_layers > 1 ? ws->get<T>(Workspace::kY0, rows * D * Pn, dtype) : nullptr,
               num_layers > 2 ? ws->get<T>(Workspace::kY1, rows * D * Pn, dtype) : nullptr};

  const T* layer_in = input;
  for (int64_t l = 0; l < num_layers; ++l) {
    const Layer& layer = layers[static_cast<size_t>(l)];
    const int64_t in = layer_input(l);
    T* y = l == num_layers - 1 ? output : y_p[l % 2];
    const int64_t y_cols = D * Pn;
    const T* w_ih = layer.w_ih_p.data<T>();
    const T* b_ih = bias ? layer.bias_cat.data<T>() : nullptr;
    if (!fuse) {  // the input projection of every step and both directions at once
      const int64_t width = D * G;
      const int parts = parts_for(2 * rows * in * width, width, 2 * kAlign, team_size);
      auto body = [&](int p) {
        gemm(rows, in, layer_in, in, w_ih, H, part_lo(p, parts, width, 2 * kAlign),
             part_lo(p + 1, parts, width, 2 * kAlign), b_ih, gx_p, width);
      };
      team->run(parts, body);
    }
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      start_cell_state(c_p, c0, state, B * H);
      const T* w_ih_d = w_ih + cpu::packed_size(in, d * G, H);  // this direction's columns
      const T* b_ih_d = b_ih != nullptr ? b_ih + d * G : nullptr;
      const T* w_hh = layer.w_hh_p[d].data<T>();
      const T* w_hr = proj_size > 0 ? layer.w_hr_p[d].data<T>() : nullptr;
      const T* h0_s = h0 != nullptr ? h0 + state * B * Pn : nullptr;
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s;
        const int64_t n = lay.n[static_cast<size_t>(t)];
        // Rows [0, cont) continue from the previous step; rows [cont, n) start here from h0.
        const int64_t t_prev = d == 0 ? t - 1 : t + 1;
        const int64_t cont = s == 0 ? 0 : std::min(n, lay.n[static_cast<size_t>(t_prev)]);
        const T* h_prev = cont > 0 ? y + lay.row0[static_cast<size_t>(t_prev)] * y_cols + d * Pn : nullptr;
        const int64_t h_prev_stride = bs * y_cols;
        T* y_t = y + lay.row0[static_cast<size_t>(t)] * y_cols + d * Pn;
        const T* x_t = layer_in + lay.row0[static_cast<size_t>(t)] * in;
        const T* gx_t = fuse ? gx_p : gx_p + lay.row0[static_cast<size_t>(t)] * (D * G) + d * G;
        const int64_t gx_stride = fuse ? G : bs * D * G;
        T* h_out = proj_size > 0 ? h_full_p : y_t;
        const int64_t h_out_stride = proj_size > 0 ? H : bs * y_cols;
        const bool recurrent = cont > 0 || h0_s != nullptr;
        // A gate pass alone is not worth a hand-off.
        const int parts = recurrent || fuse ? parts_for(2 * n * (Pn + (fuse ? in : 0)) * G, H, kAlign, team_size)
                                            : 1;
        auto step = [&](int p) {
          const int64_t u0 = part_lo(p, parts, H, kAlign), u1 = part_lo(p + 1, parts, H, kAlign);
          for (int64_t g = 0; g < 4; ++g) {
            if (fuse) {
              gemm(n, in, x_t, bs * in, w_ih_d, H, g * H + u0, g * H + u1, b_ih_d, gx_p, G);
            }
            if (!recurrent) continue;
            if (cont > 0) {
              gemm(cont, Pn, h_prev, h_prev_stride, w_hh, H, g * H + u0, g * H + u1, nullptr,
                   gh_p, G);
            }
            if (cont < n && h0_s != nullptr) {
              gemm(n - cont, Pn, h0_s + cont * Pn, Pn, w_hh, H, g * H + u0, g * H + u1, nullptr,
                   gh_p + cont * G, G);
            } else {
              for (int64_t r = cont; r < n; ++r) {
                std::memset(gh_p + r * G + g * H + u0, 0, sizeof(T) * static_cast<size_t>(u1 - u0));
              }
            }
          }
          cpu::lstm_gates<T>(n, H, u0, u1, gx_t, gx_stride, recurrent ? gh_p : nullptr, c_p, h_out,
                             h_out_stride);
        };
        team->run(parts, step);
        if (proj_size > 0) {
          const int pparts = parts_for(2 * n * H * Pn, Pn, kAlign, team_size);
          auto project = [&](int p) {
            gemm(n, H, h_full_p, H, w_hr, Pn, part_lo(p, pparts, Pn, kAlign),
                 part_lo(p + 1, pparts, Pn, kAlign), nullptr, y_t, bs * y_cols);
          };
          team->run(pparts, project);
        }
      }
      if (h_n != nullptr) {
        // Each sequence's last step: its last running step forwards, step 0 backwards.
        for (int64_t b = 0, t = T_ - 1; b < B; ++b) {
          if (d == 0) {
            while (lay.n[static_cast<size_t>(t)] <= b) --t;
          }
          const int64_t last = d == 0 ? t : 0;
          std::memcpy(h_n + (state * B + b) * Pn,
                      y + (lay.row0[static_cast<size_t>(last)] + b * bs) * y_cols + d * Pn,
                      sizeof(T) * static_cast<size_t>(Pn));
        }
      }
      if (c_n != nullptr) {
        std::memcpy(c_n + state * B * H, c_p, sizeof(T) * static_cast<size_t>(B * H));
      }
    }
    layer_in = y;
  }
}

namespace {
// dst <- the host states at src (D * L, B, F), or zeros when src is null.
template <typename T>
void upload_states(Tensor& dst, const T* src, int64_t states, int64_t batch, int64_t features) {
  std::vector<T> zeros;
  if (src == nullptr) zeros.assign(static_cast<size_t>(states * batch * features), T(0));
  dst.copy_from(Tensor::from_blob(const_cast<T*>(src != nullptr ? src : zeros.data()),
                                  {states, batch, features}, dtype_of<T>(), Device{}));
}
}  // namespace

// The device scan: the path every forward on CUDA takes, written with LibTorch operations only
// (device::Ops), and runnable on the CPU too (cpu algorithm 4), where the tests check it on every
// golden case. Inputs are copied to the device once, the layer x direction x time loop runs there
// without a host synchronisation (every operation is queued on LibTorch's current stream), and the
// results are copied back once. Inside, sequences are time-major, so that a step's gate rows are
// contiguous for the fused cell: per layer and direction one input GEMM over all steps, then per
// step one W_hh GEMM and one fused cell, plus one W_hr GEMM with a projection.
template <typename T>
void Lstm::Impl::forward_device(const T* input, int64_t T_, int64_t B, bool batch_first,
                                const T* h0, const T* c0, T* output, T* h_n, T* c_n) {
  LSTM4J_CHECK(host_dtype(dtype) == dtype_of<T>(),
               std::string("input is ") + dtype_name(dtype_of<T>()) + ", but the LSTM takes " +
                   dtype_name(host_dtype(dtype)));
  LSTM4J_CHECK(T_ > 0, "seq_len must be positive, got " + std::to_string(T_));
  LSTM4J_CHECK(B > 0, "batch must be positive, got " + std::to_string(B));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
  const Device host{};
  const Dtype hd = dtype_of<T>();
  const int64_t H = hidden_size, Pn = P(), D = num_directions, I = input_size;
  const int64_t y_cols = D * Pn, states = num_layers * D;
  // Host (B, T, F) seen as time-major (T, B, F).
  auto host_tm = [&](const T* p, int64_t F) {
    return batch_first ? Tensor::from_blob(const_cast<T*>(p), {T_, B, F}, {F, T_ * F, 1}, hd, host)
                       : Tensor::from_blob(const_cast<T*>(p), {T_, B, F}, hd, host);
  };
  Tensor x = Tensor::empty({T_, B, I}, dtype, device);
  x.copy_from(host_tm(input, I));
  Tensor h_state = Tensor::empty({states, B, Pn}, dtype, device);
  Tensor c_state = Tensor::empty({states, B, H}, dtype, device);
  upload_states(h_state, h0, states, B, Pn);
  upload_states(c_state, c0, states, B, H);
  Tensor y = scan_device(x.get(), T_, B, h_state, c_state);
  host_tm(output, y_cols).copy_from(y);
  if (h_n != nullptr) {
    Tensor::from_blob(h_n, {states, B, Pn}, hd, host).copy_from(h_state);
  }
  if (c_n != nullptr) {
    Tensor::from_blob(c_n, {states, B, H}, hd, host).copy_from(c_state);
  }
}

// The device scan's loop: x is (T, B, I) time-major and contiguous on the device; h_state and
// c_state hold (h0, c0) on entry and (h_n, c_n) on return. Returns the output, (T, B, D * P).
Tensor Lstm::Impl::scan_device(AtenTensorHandle x, int64_t T_, int64_t B, Tensor& h_state,
                               Tensor& c_state) {
  const device::Ops& ops = device::ops_for(device);
  const int64_t H = hidden_size, Pn = P(), D = num_directions, G = 4 * H, I = input_size;
  const int64_t rows = T_ * B, y_cols = D * Pn;
  Tensor y_buf[2];
  y_buf[0] = Tensor::empty({T_, B, y_cols}, dtype, device);
  if (num_layers > 1) y_buf[1] = Tensor::empty({T_, B, y_cols}, dtype, device);
  Tensor gx = Tensor::empty({rows, G}, dtype, device);
  Tensor gh = Tensor::empty({B, G}, dtype, device);
  void* x_data = nullptr;
  check(aoti_torch_get_data_ptr(x, &x_data), "aoti_torch_get_data_ptr");
  Tensor layer_in = Tensor::from_blob(x_data, {rows, I}, dtype, device);  // (rows, features)
  Tensor* y = nullptr;
  for (int64_t l = 0; l < num_layers; ++l) {
    const Layer& layer = layers[static_cast<size_t>(l)];
    y = &y_buf[l % 2];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      check(ops.addmm_out(gx.get(), layer.b_dir[d].get(), layer_in.get(),
                          layer.w_ih_dir_t[d].get(), 1.0, 1.0),
            "addmm_out (input projection)");
      Tensor h = h_state.view(state * B * Pn, {B, Pn}, {Pn, 1}, dtype, device);
      Tensor c = c_state.view(state * B * H, {B, H}, {H, 1}, dtype, device);
      Tensor c_owned;  // the cell's cy of the previous step
      Tensor h_owned;  // the cell's hy of the previous step (without projection)
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s;
        check(ops.mm_out(gh.get(), h.get(), layer.w_hh_t[d].get()), "mm_out (recurrent)");
        Tensor gx_t = gx.view(t * B * G, {B, G}, {G, 1}, dtype, device);
        Tensor hy, cy;
        ops.lstm_cell(gx_t, gh, c_owned.defined() ? c_owned : c, B, H, dtype, device, &hy, &cy);
        Tensor y_t = y->view((t * B) * y_cols + d * Pn, {B, Pn}, {y_cols, 1}, dtype, device);
        if (proj_size > 0) {
          check(ops.mm_out(y_t.get(), hy.get(), layer.w_hr_t[d].get()), "mm_out (projection)");
          h = std::move(y_t);
        } else {
          y_t.copy_from(hy);
          h_owned = std::move(hy);
          h = h_owned.view(0, {B, Pn}, {Pn, 1}, dtype, device);
        }
        c_owned = std::move(cy);
      }
      // h_n, c_n of this layer and direction: the last step's states (h0, c0 are no longer needed).
      h_state.view(state * B * Pn, {B, Pn}, {Pn, 1}, dtype, device).copy_from(h);
      c_state.view(state * B * H, {B, H}, {H, 1}, dtype, device).copy_from(c_owned);
    }
    layer_in = y->view(0, {rows, y_cols}, {y_cols, 1}, dtype, device);
  }
  return std::move(*y);
}

void Lstm::Impl::forward_onednn(const float* input, int64_t T_, int64_t B, bool batch_first,
                                const float* h0, const float* c0, float* output, float* h_n,
                                float* c_n) {
  LSTM4J_CHECK(T_ > 0, "seq_len must be positive, got " + std::to_string(T_));
  LSTM4J_CHECK(B > 0, "batch must be positive, got " + std::to_string(B));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
  const int64_t H = hidden_size, D = num_directions, I = input_size;
  const Device host{};
  const Dtype f32 = Dtype::kFloat32;
  // oneDNN's layer is time-major: (T, B, features) contiguous.
  Tensor layer_in;
  if (batch_first && B > 1) {
    layer_in = Tensor::empty({T_, B, I}, f32, host);
    Tensor view = Tensor::from_blob(const_cast<float*>(input), {T_, B, I}, {I, T_ * I, 1}, f32, host);
    layer_in.copy_from(view);
  } else {
    layer_in = Tensor::from_blob(const_cast<float*>(input), {T_, B, I}, f32, host);
  }
  Tensor zero_state = Tensor::empty({B, H}, f32, host);
  std::memset(zero_state.data_ptr(), 0, sizeof(float) * static_cast<size_t>(B * H));
  const int64_t y_cols = D * H;
  for (int64_t l = 0; l < num_layers; ++l) {
    const Layer& layer = layers[static_cast<size_t>(l)];
    const bool last = l == num_layers - 1;
    Tensor y_buf;
    if (!last) y_buf = Tensor::empty({T_, B, y_cols}, f32, host);
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      Tensor hx = h0 != nullptr ? Tensor::from_blob(const_cast<float*>(h0 + state * B * H), {B, H},
                                                    f32, host)
                                : Tensor();
      Tensor cx = c0 != nullptr ? Tensor::from_blob(const_cast<float*>(c0 + state * B * H), {B, H},
                                                    f32, host)
                                : Tensor();
      AtenTensorHandle r0 = nullptr, r1 = nullptr, r2 = nullptr, r3 = nullptr;
      constexpr int64_t kModeLstm = 2;
      check(aoti_torch_cpu_mkldnn_rnn_layer(
                layer_in.get(), layer.w_ih_dir[d].get(), layer.w_hh[d].get(), layer.b_dir[d].get(),
                layer.zeros_g.get(), hx.defined() ? hx.get() : zero_state.get(),
                cx.defined() ? cx.get() : zero_state.get(), static_cast<int32_t>(d), nullptr, 0,
                kModeLstm, H, num_layers, 1, D == 2 ? 1 : 0, 0, 0, &r0, &r1, &r2, &r3),
            "aoti_torch_cpu_mkldnn_rnn_layer");
      Tensor out(r0), hy(r1), cy(r2), workspace(r3);
      // Scatter this direction's (T, B, H) into its columns of the layer output, in the
      // caller's layout for the last layer.
      float* dst = last ? output : y_buf.data<float>();
      const bool bf = last && batch_first;
      Tensor dst_view = Tensor::from_blob(dst + d * H, {T_, B, H},
                                          bf ? std::vector<int64_t>{y_cols, T_ * y_cols, 1}
                                             : std::vector<int64_t>{B * y_cols, y_cols, 1},
                                          f32, host);
      dst_view.copy_from(out);
      int64_t n_h = 0, n_c = 0;
      check(aoti_torch_get_numel(hy.get(), &n_h), "aoti_torch_get_numel");
      check(aoti_torch_get_numel(cy.get(), &n_c), "aoti_torch_get_numel");
      LSTM4J_CHECK(n_h == B * H && n_c == B * H, "oneDNN LSTM returned unexpected state sizes");
      if (h_n != nullptr) std::memcpy(h_n + state * B * H, hy.data_ptr(), sizeof(float) * B * H);
      if (c_n != nullptr) std::memcpy(c_n + state * B * H, cy.data_ptr(), sizeof(float) * B * H);
    }
    if (!last) layer_in = std::move(y_buf);
  }
}

void Lstm::forward(const double* input, int64_t seq_len, int64_t batch, bool batch_first,
                   const double* h0, const double* c0, double* output, double* h_n,
                   double* c_n) {
  prepare();
  std::vector<double> zeros;
  h0 = impl_->initial_h(h0, batch, zeros);
  if (impl_->use_device_scan) {
    impl_->forward_device<double>(input, seq_len, batch, batch_first, h0, c0, output, h_n, c_n);
  } else {
    impl_->forward<double>(input, seq_len, batch, batch_first, h0, c0, output, h_n, c_n);
  }
}

template <typename T>
void Lstm::Impl::forward_packed(const T* data, const int64_t* batch_sizes, int64_t steps,
                                const T* h0, const T* c0, T* output, T* h_n, T* c_n) {
  const StepLayout layout = StepLayout::of_packed(batch_sizes, steps);
  std::vector<T> zeros;
  h0 = initial_h(h0, layout.batch, zeros);
  if (use_device_scan) {
    forward_device_packed<T>(data, layout, h0, c0, output, h_n, c_n);
  } else {
    forward_team<T>(data, layout, h0, c0, output, h_n, c_n);
  }
}

// The device scan over a packed batch (see forward_device): the (B, ...) states live on the device
// and always hold each sequence's latest h and c, so step t is one GEMM and one fused cell over
// their first n[t] rows, whether a row continues from the previous step or starts here from
// (h0, c0); a finished sequence keeps its last state, which is its h_n and c_n.
template <typename T>
void Lstm::Impl::forward_device_packed(const T* data, const StepLayout& lay, const T* h0,
                                       const T* c0, T* output, T* h_n, T* c_n) {
  LSTM4J_CHECK(host_dtype(dtype) == dtype_of<T>(),
               std::string("input is ") + dtype_name(dtype_of<T>()) + ", but the LSTM takes " +
                   dtype_name(host_dtype(dtype)));
  LSTM4J_CHECK(data != nullptr && output != nullptr, "data and output must not be null");
  const device::Ops& ops = device::ops_for(device);
  const Device host{};
  const Dtype hd = dtype_of<T>();
  const int64_t H = hidden_size, Pn = P(), D = num_directions, G = 4 * H, I = input_size;
  const int64_t B = lay.batch, rows = lay.rows, y_cols = D * Pn, states = num_layers * D;
  Tensor x = Tensor::empty({rows, I}, dtype, device);
  x.copy_from(Tensor::from_blob(const_cast<T*>(data), {rows, I}, hd, host));
  Tensor h_state = Tensor::empty({states, B, Pn}, dtype, device);
  Tensor c_state = Tensor::empty({states, B, H}, dtype, device);
  upload_states(h_state, h0, states, B, Pn);
  upload_states(c_state, c0, states, B, H);
  Tensor y_buf[2];
  y_buf[0] = Tensor::empty({rows, y_cols}, dtype, device);
  if (num_layers > 1) y_buf[1] = Tensor::empty({rows, y_cols}, dtype, device);
  Tensor gx = Tensor::empty({rows, G}, dtype, device);
  Tensor gh = Tensor::empty({B, G}, dtype, device);
  const Tensor* layer_in = &x;
  Tensor* y = nullptr;
  for (int64_t l = 0; l < num_layers; ++l) {
    const Layer& layer = layers[static_cast<size_t>(l)];
    y = &y_buf[l % 2];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      check(ops.addmm_out(gx.get(), layer.b_dir[d].get(), layer_in->get(), layer.w_ih_dir_t[d].get(),
                          1.0, 1.0),
            "addmm_out (input projection)");
      for (int64_t s = 0; s < lay.steps; ++s) {
        const int64_t t = d == 0 ? s : lay.steps - 1 - s;
        const int64_t n = lay.n[static_cast<size_t>(t)], r0 = lay.row0[static_cast<size_t>(t)];
        Tensor h = h_state.view(state * B * Pn, {n, Pn}, {Pn, 1}, dtype, device);
        Tensor c = c_state.view(state * B * H, {n, H}, {H, 1}, dtype, device);
        Tensor gh_n = gh.view(0, {n, G}, {G, 1}, dtype, device);
        check(ops.mm_out(gh_n.get(), h.get(), layer.w_hh_t[d].get()), "mm_out (recurrent)");
        Tensor gx_t = gx.view(r0 * G, {n, G}, {G, 1}, dtype, device);
        Tensor hy, cy;
        ops.lstm_cell(gx_t, gh_n, c, n, H, dtype, device, &hy, &cy);
        Tensor y_t = y->view(r0 * y_cols + d * Pn, {n, Pn}, {y_cols, 1}, dtype, device);
        if (proj_size > 0) {
          check(ops.mm_out(y_t.get(), hy.get(), layer.w_hr_t[d].get()), "mm_out (projection)");
        } else {
          y_t.copy_from(hy);
        }
        h.copy_from(y_t);
        c.copy_from(cy);
      }
    }
    layer_in = y;
  }
  Tensor::from_blob(output, {rows, y_cols}, hd, host).copy_from(*y);
  if (h_n != nullptr) Tensor::from_blob(h_n, {states, B, Pn}, hd, host).copy_from(h_state);
  if (c_n != nullptr) Tensor::from_blob(c_n, {states, B, H}, hd, host).copy_from(c_state);
}

void Lstm::forward_packed(const float* data, const int64_t* batch_sizes, int64_t steps,
                          const float* h0, const float* c0, float* output, float* h_n,
                          float* c_n) {
  prepare();
  impl_->forward_packed<float>(data, batch_sizes, steps, h0, c0, output, h_n, c_n);
}

void Lstm::forward_packed(const double* data, const int64_t* batch_sizes, int64_t steps,
                          const double* h0, const double* c0, double* output, double* h_n,
                          double* c_n) {
  prepare();
  impl_->forward_packed<double>(data, batch_sizes, steps, h0, c0, output, h_n, c_n);
}

namespace {
// The sizes of a caller's tensor, checked for dtype, device and contiguity; names it in errors.
std::vector<int64_t> checked_sizes(AtenTensorHandle t, const char* name, Dtype dtype, Device device) {
  LSTM4J_CHECK(t != nullptr, std::string(name) + " is null");
  int64_t dim = 0;
  int64_t* sizes = nullptr;
  int32_t dt = 0, dev_type = 0, dev_index = 0;
  bool contiguous = false;
  check(aoti_torch_get_dim(t, &dim), "aoti_torch_get_dim");
  check(aoti_torch_get_sizes(t, &sizes), "aoti_torch_get_sizes");
  check(aoti_torch_get_dtype(t, &dt), "aoti_torch_get_dtype");
  check(aoti_torch_get_device_type(t, &dev_type), "aoti_torch_get_device_type");
  check(aoti_torch_get_device_index(t, &dev_index), "aoti_torch_get_device_index");
  check(aoti_torch_is_contiguous(t, &contiguous), "aoti_torch_is_contiguous");
  LSTM4J_CHECK(dt == torch_dtype(dtype), std::string(name) + ": expected dtype " + dtype_name(dtype));
  const bool same_device = dev_type == torch_device_type(device.type) &&
                           (device.is_cpu() || dev_index == device.index);
  LSTM4J_CHECK(same_device, std::string(name) + ": expected a tensor on " + device.str());
  LSTM4J_CHECK(contiguous, std::string(name) + ": expected a contiguous tensor");
  return std::vector<int64_t>(sizes, sizes + dim);
}

std::string shape_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
}  // namespace

void Lstm::forward_tensors(AtenTensorHandle input, bool batch_first, AtenTensorHandle h0,
                           AtenTensorHandle c0, AtenTensorHandle* output, AtenTensorHandle* h_n,
                           AtenTensorHandle* c_n) {
  prepare();
  Impl& m = *impl_;
  LSTM4J_CHECK(output != nullptr && h_n != nullptr && c_n != nullptr, "result slots must not be null");
  const std::vector<int64_t> in = checked_sizes(input, "input", m.dtype, m.device);
  LSTM4J_CHECK(in.size() == 3 && in[2] == m.input_size,
               "input: expected (seq_len, batch, " + std::to_string(m.input_size) +
                   ") or its batch_first form, got " + shape_str(in));
  const int64_t T_ = batch_first ? in[1] : in[0], B = batch_first ? in[0] : in[1];
  LSTM4J_CHECK(T_ > 0 && B > 0, "input: expected a non-empty sequence and batch, got " + shape_str(in));
  const int64_t H = m.hidden_size, Pn = m.P(), D = m.num_directions, states = m.num_layers * D;
  LSTM4J_CHECK((h0 == nullptr) == (c0 == nullptr), "(h0, c0): pass both or neither");
  if (h0 != nullptr) {
    const std::vector<int64_t> hs = checked_sizes(h0, "h0", m.dtype, m.device);
    const std::vector<int64_t> cs = checked_sizes(c0, "c0", m.dtype, m.device);
    LSTM4J_CHECK(hs == std::vector<int64_t>({states, B, Pn}),
                 "h0: expected shape " + shape_str({states, B, Pn}) + ", got " + shape_str(hs));
    LSTM4J_CHECK(cs == std::vector<int64_t>({states, B, H}),
                 "c0: expected shape " + shape_str({states, B, H}) + ", got " + shape_str(cs));
  }
  auto data = [](AtenTensorHandle t) {
    void* p = nullptr;
    if (t != nullptr) check(aoti_torch_get_data_ptr(t, &p), "aoti_torch_get_data_ptr");
    return p;
  };
  const std::vector<int64_t> out_sizes =
      batch_first ? std::vector<int64_t>{B, T_, D * Pn} : std::vector<int64_t>{T_, B, D * Pn};
  Tensor out = Tensor::empty(out_sizes, m.dtype, m.device);
  Tensor hn = Tensor::empty({states, B, Pn}, m.dtype, m.device);
  Tensor cn = Tensor::empty({states, B, H}, m.dtype, m.device);
  if (m.device.is_cpu()) {
    // CPU tensors are host memory: the usual paths run on their data in place.
    if (m.dtype == Dtype::kFloat64) {
      forward(static_cast<const double*>(data(input)), T_, B, batch_first,
              static_cast<const double*>(data(h0)), static_cast<const double*>(data(c0)),
              out.data<double>(), hn.data<double>(), cn.data<double>());
    } else {
      forward(static_cast<const float*>(data(input)), T_, B, batch_first,
              static_cast<const float*>(data(h0)), static_cast<const float*>(data(c0)),
              out.data<float>(), hn.data<float>(), cn.data<float>());
    }
  } else {
    // On the device: a time-major copy of a batch_first input, the states copied (the scan
    // advances them in place), the output written back in the caller's layout.
    Tensor x_tm;
    AtenTensorHandle x = input;
    if (batch_first) {
      x_tm = Tensor::empty({T_, B, m.input_size}, m.dtype, m.device);
      x_tm.copy_from(Tensor::from_blob(data(input), {T_, B, m.input_size},
                                       {m.input_size, T_ * m.input_size, 1}, m.dtype, m.device));
      x = x_tm.get();
    }
    if (h0 != nullptr) {
      hn.copy_from(Tensor::from_blob(data(h0), {states, B, Pn}, m.dtype, m.device));
      cn.copy_from(Tensor::from_blob(data(c0), {states, B, H}, m.dtype, m.device));
    } else {
      upload_states<float>(hn, nullptr, states, B, Pn);
      upload_states<float>(cn, nullptr, states, B, H);
    }
    Tensor y = m.scan_device(x, T_, B, hn, cn);
    if (batch_first) {
      Tensor::from_blob(out.data_ptr(), {T_, B, D * Pn}, {D * Pn, T_ * D * Pn, 1}, m.dtype, m.device)
          .copy_from(y);
    } else {
      out = std::move(y);
    }
  }
  *output = out.release();
  *h_n = hn.release();
  *c_n = cn.release();
}

void Lstm::delete_tensor(AtenTensorHandle tensor) {
  if (tensor != nullptr) aoti_torch_delete_tensor_object(tensor);
}

int32_t Lstm::cuda_device_count() { return device::cuda_device_count(); }
double Lstm::fma_peak_gflops(int32_t threads) { return cpu::fma_peak_gflops(threads); }
std::string Lstm::cuda_unavailable_reason() { return device::cuda_unavailable_reason(); }

int64_t Lstm::input_size() const { return impl_->input_size; }
int64_t Lstm::hidden_size() const { return impl_->hidden_size; }
int64_t Lstm::num_layers() const { return impl_->num_layers; }
int64_t Lstm::num_directions() const { return impl_->num_directions; }
int64_t Lstm::proj_size() const { return impl_->proj_size; }
int64_t Lstm::real_hidden_size() const { return impl_->P(); }

// ---- LstmCell: a one-step, one-layer Lstm under the cell's parameter names -----------------

namespace {
std::string cell_to_layer_name(const char* name) {
  LSTM4J_CHECK(name != nullptr, "parameter name is null");
  const std::string n(name);
  for (const char* kind : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
    if (n == kind) return n + "_l0";
  }
  throw Error("unexpected parameter '" + n + "' for an LSTMCell");
}
}  // namespace

LstmCell::LstmCell(int64_t input_size, int64_t hidden_size, bool bias, int32_t dtype,
                   int32_t device_type, int32_t device_index)
    : lstm_(input_size, hidden_size, 1, bias, false, 0, dtype, device_type, device_index) {}

LstmCell::~LstmCell() = default;

void LstmCell::set_parameter(const char* name, const float* data, int64_t numel) {
  lstm_.set_parameter(cell_to_layer_name(name).c_str(), data, numel);
}
void LstmCell::set_parameter(const char* name, const double* data, int64_t numel) {
  lstm_.set_parameter(cell_to_layer_name(name).c_str(), data, numel);
}
void LstmCell::prepare() { lstm_.prepare(); }

void LstmCell::forward(const float* input, int64_t batch, const float* h0, const float* c0,
                       float* h1, float* c1) {
  lstm_.forward(input, 1, batch, false, h0, c0, h1, nullptr, c1);
}
void LstmCell::forward(const double* input, int64_t batch, const double* h0, const double* c0,
                       double* h1, double* c1) {
  lstm_.forward(input, 1, batch, false, h0, c0, h1, nullptr, c1);
}

}  // namespace lstm4j
