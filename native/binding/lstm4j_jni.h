// Included only by the JNI glue that JavaCPP generates from dev.lstm4j.nativ.binding (not part of
// the installed C++ API). Two things live here:
//  - the typed boundary: each entry point takes untyped host buffers and calls the float or double
//    instantiation the model's dtype names, so Java states the element type once (in Staging);
//  - the error contract: every C++ exception reaches Java as a RuntimeException whose message is
//    "lstm4j:<ErrorKind>:<message>" (ErrorKind from codes.h), which
//    dev.lstm4j.nativ.binding.NativeErrors turns into IllegalArgumentException or NativeException.
#pragma once

#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "lstm4j/lstm.h"

namespace lstm4j::jni {

inline const char* describe(const std::exception& e) {
  static thread_local std::string text;
  ErrorKind kind = ErrorKind::kInternal;
  if (const auto* error = dynamic_cast<const Error*>(&e)) {
    kind = error->kind();
  } else if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    kind = ErrorKind::kOutOfMemory;
  }
  text = "lstm4j:" + std::to_string(static_cast<int32_t>(kind)) + ":" + e.what();
  return text.c_str();
}

template <typename Model, typename F>
void with_real(const Model& m, F&& f) {
  if (m.host_dtype() == Dtype::kFloat64) {
    f(double{});
  } else {
    f(float{});
  }
}

inline void set_parameter(Lstm* m, const char* name, const void* data, int64_t numel) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->set_parameter(name, static_cast<const R*>(data), numel);
  });
}

inline void forward(Lstm* m, const void* input, int64_t seq_len, int64_t batch, bool batch_first,
                    const void* h0, const void* c0, void* output, void* h_n, void* c_n) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->forward(static_cast<const R*>(input), seq_len, batch, batch_first,
               static_cast<const R*>(h0), static_cast<const R*>(c0), static_cast<R*>(output),
               static_cast<R*>(h_n), static_cast<R*>(c_n));
  });
}

inline void forward_packed(Lstm* m, const void* data, const int64_t* batch_sizes, int64_t steps,
                           const void* h0, const void* c0, void* output, void* h_n, void* c_n) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->forward_packed(static_cast<const R*>(data), batch_sizes, steps, static_cast<const R*>(h0),
                      static_cast<const R*>(c0), static_cast<R*>(output), static_cast<R*>(h_n),
                      static_cast<R*>(c_n));
  });
}

// Device states cross JNI as opaque addresses (0 for none).
inline bool streams_on_device(Lstm* m) { return m->streams_on_device(); }

inline int64_t new_device_state(Lstm* m, int64_t batch) {
  return static_cast<int64_t>(reinterpret_cast<intptr_t>(m->new_device_state(batch)));
}

inline void delete_device_state(int64_t state) {
  Lstm::delete_device_state(reinterpret_cast<Lstm::DeviceState*>(static_cast<intptr_t>(state)));
}

inline void set_device_state(Lstm* m, int64_t state, const void* h, const void* c) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->set_device_state(reinterpret_cast<Lstm::DeviceState*>(static_cast<intptr_t>(state)),
                        static_cast<const R*>(h), static_cast<const R*>(c));
  });
}

inline void get_device_state(Lstm* m, int64_t state, void* h, void* c) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->get_device_state(reinterpret_cast<Lstm::DeviceState*>(static_cast<intptr_t>(state)),
                        static_cast<R*>(h), static_cast<R*>(c));
  });
}

inline void forward_stream(Lstm* m, const void* chunk, int64_t seq_len, int64_t batch,
                           bool batch_first, int64_t state, void* output) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->forward_stream(static_cast<const R*>(chunk), seq_len, batch, batch_first,
                      reinterpret_cast<Lstm::DeviceState*>(static_cast<intptr_t>(state)),
                      static_cast<R*>(output));
  });
}

inline void set_cell_parameter(LstmCell* m, const char* name, const void* data, int64_t numel) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->set_parameter(name, static_cast<const R*>(data), numel);
  });
}

inline void forward_cell(LstmCell* m, const void* input, int64_t batch, const void* h0,
                         const void* c0, void* h1, void* c1) {
  with_real(*m, [&](auto real) {
    using R = decltype(real);
    m->forward(static_cast<const R*>(input), batch, static_cast<const R*>(h0),
               static_cast<const R*>(c0), static_cast<R*>(h1), static_cast<R*>(c1));
  });
}

inline void destroy(Lstm* m) { delete m; }
inline void destroy(LstmCell* m) { delete m; }

}  // namespace lstm4j::jni

// JavaCPP's generated code turns a caught exception e into a Java exception message with
// e.GENERIC_EXCEPTION_TOSTRING (default: what()); this hook prefixes the error kind.
#define GENERIC_EXCEPTION_TOSTRING what() ? ::lstm4j::jni::describe(e) : ""
