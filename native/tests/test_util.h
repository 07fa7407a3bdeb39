// Minimal test harness: no framework to fetch, ctest runs each executable and reads its exit code.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

namespace lstm4j::test {

inline int& failures() {
  static int count = 0;
  return count;
}

#define EXPECT_TRUE(cond, ...)                                                  \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: expected %s. ", __FILE__, __LINE__, #cond);  \
      std::fprintf(stderr, __VA_ARGS__);                                        \
      std::fprintf(stderr, "\n");                                               \
      ++::lstm4j::test::failures();                                             \
    }                                                                           \
  } while (0)

// Runs fn and expects it to throw an exception whose message contains `fragment`.
inline void expect_throws(const std::string& label, const std::function<void()>& fn,
                          const std::string& fragment) {
  try {
    fn();
  } catch (const std::exception& e) {
    if (std::string(e.what()).find(fragment) == std::string::npos) {
      std::fprintf(stderr, "%s: message '%s' lacks '%s'\n", label.c_str(), e.what(),
                   fragment.c_str());
      ++failures();
    } else {
      std::printf("ok   %s: %s\n", label.c_str(), e.what());
    }
    return;
  }
  std::fprintf(stderr, "%s: no exception thrown\n", label.c_str());
  ++failures();
}

inline int finish(const char* suite) {
  if (failures() == 0) {
    std::printf("%s: all checks passed\n", suite);
    return 0;
  }
  std::fprintf(stderr, "%s: %d check(s) failed\n", suite, failures());
  return 1;
}

}  // namespace lstm4j::test
