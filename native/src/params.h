// An LSTM's configuration and parameters: the state_dict names, their staging until prepare(), and
// the layouts the algorithms apply them in. CellParams is PyTorch's idea (RNN.cpp): one layer and
// direction's weights behind a small interface, so that a scan never asks whether there is a bias
// or a projection.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "cpu/host_buffer.h"
#include "lstm4j/tensor.h"

namespace lstm4j {

struct Config {
  int64_t input_size = 0, hidden_size = 0, num_layers = 0, proj_size = 0, num_directions = 1;
  bool bias = true;
  Dtype dtype = Dtype::kFloat32;
  Device device;

  // Size of h: proj_size if > 0, else hidden_size.
  int64_t P() const { return proj_size > 0 ? proj_size : hidden_size; }
  int64_t G() const { return 4 * hidden_size; }
  int64_t layer_input(int64_t l) const { return l == 0 ? input_size : num_directions * P(); }
};

// One layer's prepared weights. Tensors are on the model's device; the packed ones (CPU, host
// dtype only) feed cpu::gemm_f32 and the team scan.
struct LayerWeights {
  // Both directions' W_ih stacked (D*4H, I_l) for one input GEMM, its (I_l, D*4H) view, and the
  // folded bias b_ih + b_hh (D*4H; undefined without bias).
  Tensor w_ih_cat, w_ih_cat_t, bias_cat;
  // Per direction: a (4H, I_l) view into w_ih_cat and its (I_l, 4H) view, the folded bias (zeros
  // without bias), and zeros of 4H (oneDNN's b_hh).
  Tensor w_ih_dir[2], w_ih_dir_t[2], b_dir[2], zeros_g;
  Tensor w_hh[2], w_hh_t[2];  // (4H, P) and its (P, 4H) view
  Tensor w_hr[2], w_hr_t[2];  // (P, H) and its (H, P) view; undefined without projection
  // b_ih and b_hh apart, as cuDNN adds them (CUDA models with bias only).
  Tensor b_ih[2], b_hh[2];
  // W^T packed in panels (cpu/gemm_f32.h), blocks of H columns (of P for W_hr^T), in memory placed
  // alike in every process (cpu/host_buffer.h).
  cpu::HostBuffer w_ih_p;     // (I_l, D * 4H): both directions side by side
  cpu::HostBuffer w_hh_p[2];  // (P, 4H)
  cpu::HostBuffer w_hr_p[2];  // (H, P)
};

class Params {
 public:
  explicit Params(const Config& config) : c_(config) {}
  // Sizes the staging for the configuration, once it is complete.
  void init();

  // Copies one parameter given under its PyTorch name (after the same checks PyTorch's
  // load_state_dict makes). `given` is the element type of data.
  void set(const char* name, const void* data, int64_t numel, Dtype given);
  // Checks that every parameter is set, lays the weights out and frees the staged copies.
  void prepare();

  const LayerWeights& layer(int64_t l) const { return layers_[static_cast<size_t>(l)]; }
  // Whether every W_hh element is finite: only then is W_hh h0 = 0 exactly when h0 = 0, and a scan
  // may skip that product (PyTorch computes it: NaN * 0 is NaN).
  bool w_hh_finite() const { return w_hh_finite_; }

 private:
  template <typename T>
  void prepare_typed();
  size_t slot(int64_t layer, int direction, int kind) const;
  bool expected(int kind, int64_t layer, int direction) const;

  const Config& c_;
  std::vector<std::vector<unsigned char>> staged_;  // [layer][direction][kind], host side
  std::vector<bool> is_set_;
  std::vector<LayerWeights> layers_;
  bool w_hh_finite_ = true;
};

// One layer and direction's weights as the team scan applies them, packed for cpu::gemm_f32.
template <typename T>
struct CellParams {
  const T* w_ih;  // W_ih^T, this direction's 4H columns (block H)
  const T* bias;  // b_ih + b_hh (4H), or null: the GEMM then adds nothing
  const T* w_hh;  // W_hh^T (P, 4H), block H
  const T* w_hr;  // W_hr^T (H, P), block P; null without projection
  int64_t H, P;

  CellParams(const Config& c, const LayerWeights& w, int64_t in, int d);
  // Where the cell writes h_t: straight into the layer output without projection, else into h_full,
  // which project() then multiplies into the output.
  T* cell_out(T* y_t, T* h_full) const { return w_hr != nullptr ? h_full : y_t; }
  int64_t cell_out_stride(int64_t y_stride) const { return w_hr != nullptr ? H : y_stride; }
  bool projects() const { return w_hr != nullptr; }
};

}  // namespace lstm4j
