// The one exception type of lstm4j's C++ core, and the checks that raise it. Every failure says
// what kind it is (codes.h), so that the Java binding can map it to one Java exception type.
#pragma once

#include <stdexcept>
#include <string>

#include "lstm4j/aoti_shim.h"
#include "lstm4j/codes.h"

namespace lstm4j {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::kInvalidArgument)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// LibTorch's own message for the last failed aoti_torch_* call on this thread ("" if none was
// seen). The C ABI returns only a status and logs the message to std::cerr; lstm4j keeps a copy
// of what each thread writes there (see error.cpp), and this takes the newest one and forgets it.
std::string take_torch_message();

// Puts the tee described in error.cpp in front of std::cerr's buffer, once per process. Lstm's
// constructor calls it; code that calls LibTorch through Tensor alone may call it first.
void install_torch_message_capture();

// Turns a non-zero AOTI status into an Error naming the call and carrying LibTorch's message.
void throw_torch_error(const char* what);
inline void check(AOTITorchError status, const char* what) {
  if (status != 0) throw_torch_error(what);
}

// A failed precondition on the caller's input: ErrorKind::kInvalidArgument.
#define LSTM4J_CHECK(cond, msg)                                 \
  do {                                                          \
    if (!(cond)) throw ::lstm4j::Error(std::string(msg));       \
  } while (0)

}  // namespace lstm4j
