// A small safetensors reader for the C++ tests: reads the golden cases computed by PyTorch
// (8-byte little-endian header length, JSON header, raw little-endian data).
#pragma once

#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lstm4j::test {

struct StTensor {
  std::string dtype;  // "F32", "F64", "I64"
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
  // Values widened to double, whatever the stored type.
  std::vector<double> as_double() const {
    std::vector<double> out(static_cast<size_t>(numel()));
    for (size_t i = 0; i < out.size(); ++i) {
      if (dtype == "F32") {
        float v;
        std::memcpy(&v, bytes.data() + 4 * i, 4);
        out[i] = v;
      } else if (dtype == "F64") {
        std::memcpy(&out[i], bytes.data() + 8 * i, 8);
      } else if (dtype == "I64") {
        int64_t v;
        std::memcpy(&v, bytes.data() + 8 * i, 8);
        out[i] = static_cast<double>(v);
      } else {
        throw std::runtime_error("unsupported dtype " + dtype);
      }
    }
    return out;
  }
  template <typename T>
  std::vector<T> as() const {
    std::vector<double> d = as_double();
    return std::vector<T>(d.begin(), d.end());
  }
};

struct StFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, StTensor> tensors;

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  const StTensor& at(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("tensor '" + name + "' missing");
    return it->second;
  }
  std::string meta(const std::string& key) const {
    auto it = metadata.find(key);
    if (it == metadata.end()) throw std::runtime_error("metadata '" + key + "' missing");
    return it->second;
  }
  std::string meta_or(const std::string& key, const std::string& fallback) const {
    auto it = metadata.find(key);
    return it == metadata.end() ? fallback : it->second;
  }
};

namespace detail {
// Just enough JSON for safetensors headers: objects, arrays, strings, integers.
class Json {
 public:
  explicit Json(const std::string& s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    ws();
    if (i_ >= s_.size() || s_[i_] != c) throw std::runtime_error(std::string("expected ") + c);
    ++i_;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;
      out += s_[i_++];
    }
    expect('"');
    return out;
  }
  int64_t integer() {
    ws();
    size_t used = 0;
    int64_t v = std::stoll(s_.substr(i_), &used);
    i_ += used;
    return v;
  }
  std::vector<int64_t> int_array() {
    std::vector<int64_t> out;
    expect('[');
    if (peek(']')) {
      ++i_;
      return out;
    }
    do {
      out.push_back(integer());
    } while (peek(',') && ++i_);
    expect(']');
    return out;
  }

 private:
  const std::string& s_;
  size_t i_ = 0;
};
}  // namespace detail

inline StFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (file.size() < 8) throw std::runtime_error(path + ": truncated");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<size_t>(i)];
  if (n > file.size() - 8) throw std::runtime_error(path + ": header longer than file");
  const std::string header(file.begin() + 8, file.begin() + 8 + static_cast<long>(n));
  const size_t data_start = 8 + n;
  StFile out;
  detail::Json j(header);
  j.expect('{');
  do {
    const std::string name = j.str();
    j.expect(':');
    j.expect('{');
    if (name == "__metadata__") {
      do {
        std::string k = j.str();
        j.expect(':');
        out.metadata[k] = j.str();
      } while (j.peek(',') && (j.expect(','), true));
      j.expect('}');
      continue;
    }
    StTensor t;
    int64_t begin = 0, end = 0;
    do {
      std::string k = j.str();
      j.expect(':');
      if (k == "dtype") {
        t.dtype = j.str();
      } else if (k == "shape") {
        t.shape = j.int_array();
      } else if (k == "data_offsets") {
        std::vector<int64_t> o = j.int_array();
        begin = o.at(0);
        end = o.at(1);
      }
    } while (j.peek(',') && (j.expect(','), true));
    j.expect('}');
    if (end < begin || data_start + static_cast<size_t>(end) > file.size()) {
      throw std::runtime_error(path + ": bad offsets for " + name);
    }
    t.bytes.assign(file.begin() + static_cast<long>(data_start + static_cast<size_t>(begin)),
                   file.begin() + static_cast<long>(data_start + static_cast<size_t>(end)));
    out.tensors[name] = std::move(t);
  } while (j.peek(',') && (j.expect(','), true));
  j.expect('}');
  return out;
}

}  // namespace lstm4j::test
