#include "params.h"

#include <cmath>
#include <cstring>
#include <new>

#include "cpu/gemm_f32.h"

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

}  // namespace

void Params::init() {
  staged_.resize(static_cast<size_t>(c_.num_layers * 2 * kNumKinds));
  is_set_.assign(staged_.size(), false);
}

size_t Params::slot(int64_t layer, int direction, int kind) const {
  return static_cast<size_t>((layer * 2 + direction) * kNumKinds + kind);
}

bool Params::expected(int kind, int64_t layer, int direction) const {
  if (layer < 0 || layer >= c_.num_layers || direction >= c_.num_directions) return false;
  if ((kind == kBiasIh || kind == kBiasHh) && !c_.bias) return false;
  if (kind == kWeightHr && c_.proj_size == 0) return false;
  return true;
}

void Params::set(const char* name, const void* data, int64_t numel, Dtype given) {
  LSTM4J_CHECK(name != nullptr, "parameter name is null");
  const ParamId id = parse_name(name);
  LSTM4J_CHECK(id.kind >= 0 && expected(id.kind, id.layer, id.direction),
               std::string("unexpected parameter '") + name + "' for this LSTM configuration");
  LSTM4J_CHECK(given == host_dtype(c_.dtype), std::string("parameter '") + name + "' is " +
                                                  dtype_name(given) + ", expected " +
                                                  dtype_name(host_dtype(c_.dtype)));
  const int64_t G = c_.G();
  const int64_t want = id.kind == kWeightIh   ? G * c_.layer_input(id.layer)
                       : id.kind == kWeightHh ? G * c_.P()
                       : id.kind == kWeightHr ? c_.proj_size * c_.hidden_size
                                              : G;
  LSTM4J_CHECK(numel == want, std::string("parameter '") + name + "' has " +
                                  std::to_string(numel) + " elements, expected " +
                                  std::to_string(want));
  LSTM4J_CHECK(data != nullptr, std::string("parameter '") + name + "' data is null");
  const size_t s = slot(id.layer, id.direction, id.kind);
  const auto* bytes = static_cast<const unsigned char*>(data);
  try {
    staged_[s].assign(bytes, bytes + numel * element_size(given));
  } catch (const std::bad_alloc&) {
    throw Error("out of memory: cannot allocate " + std::to_string(numel * element_size(given)) +
                    " bytes to stage parameter '" + name + "'",
                ErrorKind::kOutOfMemory);
  }
  is_set_[s] = true;
}

void Params::prepare() {
  std::string missing;
  for (int64_t l = 0; l < c_.num_layers; ++l) {
    for (int d = 0; d < c_.num_directions; ++d) {
      for (int k = 0; k < kNumKinds; ++k) {
        if (expected(k, l, d) && !is_set_[slot(l, d, k)]) {
          missing += (missing.empty() ? "" : ", ") + param_name(k, l, d);
        }
      }
    }
  }
  LSTM4J_CHECK(missing.empty(), "missing LSTM parameters: " + missing);
  if (host_dtype(c_.dtype) == Dtype::kFloat64) {
    prepare_typed<double>();
  } else {
    prepare_typed<float>();
  }
  staged_.clear();
  staged_.shrink_to_fit();
}

template <typename T>
void Params::prepare_typed() {
  const int64_t G = c_.G(), D = c_.num_directions, H = c_.hidden_size, Pn = c_.P();
  const Dtype dtype = c_.dtype;
  const Device device = c_.device, host{};
  auto staged_ptr = [&](int64_t l, int d, int k) {
    return reinterpret_cast<const T*>(staged_[slot(l, d, k)].data());
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
  w_hh_finite_ = true;
  layers_.clear();
  layers_.resize(static_cast<size_t>(c_.num_layers));
  for (int64_t l = 0; l < c_.num_layers; ++l) {
    LayerWeights& layer = layers_[static_cast<size_t>(l)];
    const int64_t in = c_.layer_input(l);
    std::vector<T> w_cat(static_cast<size_t>(D * G * in));
    for (int d = 0; d < D; ++d) {
      std::memcpy(w_cat.data() + d * G * in, staged_ptr(l, d, kWeightIh),
                  sizeof(T) * static_cast<size_t>(G * in));
    }
    layer.w_ih_cat = upload(w_cat, {D * G, in});
    layer.w_ih_cat_t = transposed_view(layer.w_ih_cat, D * G, in);
    if (c_.bias) {
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
      layer.b_dir[d] = c_.bias ? layer.bias_cat.view(d * G, {G}, {1}, dtype, device)
                               : layer.zeros_g.view(0, {G}, {1}, dtype, device);
      if (c_.bias && !device.is_cpu()) {
        const T* bi = staged_ptr(l, d, kBiasIh);
        const T* bh = staged_ptr(l, d, kBiasHh);
        layer.b_ih[d] = upload(std::vector<T>(bi, bi + G), {G});
        layer.b_hh[d] = upload(std::vector<T>(bh, bh + G), {G});
      }
    }
    if (dtype_of<T>() == dtype && device.is_cpu()) {
      // W^T packed in panels for cpu::gemm_f32, in blocks of one gate (H columns) so that a range
      // of hidden units starts a panel in every gate; W_hr^T in one block.
      layer.w_ih_p = cpu::HostBuffer(sizeof(T) * static_cast<size_t>(cpu::packed_size(in, D * G, H)));
      for (int d = 0; d < D; ++d) {
        cpu::pack_transposed(staged_ptr(l, d, kWeightIh), G, in, H,
                             layer.w_ih_p.data<T>() + cpu::packed_size(in, d * G, H));
      }
      for (int d = 0; d < D; ++d) {
        layer.w_hh_p[d] = cpu::HostBuffer(sizeof(T) * static_cast<size_t>(cpu::packed_size(Pn, G, H)));
        cpu::pack_transposed(staged_ptr(l, d, kWeightHh), G, Pn, H, layer.w_hh_p[d].data<T>());
        if (c_.proj_size > 0) {
          layer.w_hr_p[d] = cpu::HostBuffer(sizeof(T) * static_cast<size_t>(cpu::packed_size(H, Pn, Pn)));
          cpu::pack_transposed(staged_ptr(l, d, kWeightHr), Pn, H, Pn, layer.w_hr_p[d].data<T>());
        }
      }
    }
    for (int d = 0; d < D; ++d) {
      const T* w_hh = staged_ptr(l, d, kWeightHh);
      for (int64_t i = 0; i < G * Pn && w_hh_finite_; ++i) w_hh_finite_ = std::isfinite(w_hh[i]);
      layer.w_hh[d] = upload(std::vector<T>(w_hh, w_hh + G * Pn), {G, Pn});
      layer.w_hh_t[d] = transposed_view(layer.w_hh[d], G, Pn);
      if (c_.proj_size > 0) {
        const T* w_hr = staged_ptr(l, d, kWeightHr);
        layer.w_hr[d] = upload(std::vector<T>(w_hr, w_hr + Pn * H), {Pn, H});
        layer.w_hr_t[d] = transposed_view(layer.w_hr[d], Pn, H);
      }
    }
  }
}

template <typename T>
CellParams<T>::CellParams(const Config& c, const LayerWeights& w, int64_t in, int d)
    : w_ih(w.w_ih_p.template data<T>() + cpu::packed_size(in, d * c.G(), c.hidden_size)),
      bias(c.bias ? w.bias_cat.data<T>() + d * c.G() : nullptr),
      w_hh(w.w_hh_p[d].template data<T>()),
      w_hr(c.proj_size > 0 ? w.w_hr_p[d].template data<T>() : nullptr),
      H(c.hidden_size),
      P(c.P()) {}

template struct CellParams<float>;
template struct CellParams<double>;

}  // namespace lstm4j
