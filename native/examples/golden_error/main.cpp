// Reads golden cases (a PyTorch LSTM or LSTMCell, its weights, inputs and outputs; see
// src/test/resources/golden/README.md) and prints lstm4j's largest error against PyTorch for each,
// computed as Java's NATIVE backend computes it by default (Algorithm::kAuto): the same library,
// the same bits. Exit status 1 if a case misses PyTorch's tolerance.
//   golden_error CASE.safetensors...
#include <cstdio>
#include <exception>

#include "golden_case.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: golden_error CASE.safetensors...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    try {
      const lstm4j::test::StFile f = lstm4j::test::read_safetensors(argv[i]);
      const double err = lstm4j::golden::case_error(f, lstm4j::Algorithm::kAuto);
      const bool pass = err <= lstm4j::golden::tolerance(f);
      failed += !pass;
      std::string name = argv[i];
      name = name.substr(name.find_last_of('/') + 1);
      name = name.substr(0, name.rfind(".safetensors"));
      std::printf("%s: max_abs_err=%.3e %s\n", name.c_str(), err, pass ? "PASS" : "FAIL");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[i], e.what());
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}
