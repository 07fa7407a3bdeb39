// The one exception type of lstm4j's C++ core. JavaCPP turns any std::exception escaping a
// native call into a Java RuntimeException carrying what().
#pragma once

#include <stdexcept>
#include <string>

#include "lstm4j/aoti_shim.h"

namespace lstm4j {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Turns a non-zero AOTI status into an Error naming the call; LibTorch has already printed
// its own message and trace on stderr.
inline void check(AOTITorchError status, const char* what) {
  if (status != 0) {
    throw Error(std::string("LibTorch call failed: ") + what + " (status " +
                std::to_string(status) + "; LibTorch's message is on stderr)");
  }
}

#define LSTM4J_CHECK(cond, msg)                                 \
  do {                                                          \
    if (!(cond)) throw ::lstm4j::Error(std::string(msg));       \
  } while (0)

}  // namespace lstm4j
