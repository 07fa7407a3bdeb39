// Symbol version pins for libjnilstm4j.so, so that it loads on glibc 2.28 and a GCC 8 libstdc++
// (RHEL 8, Ubuntu 20.04, Debian 11: where PyTorch's manylinux_2_28 wheels load) although it is
// built on a newer system. Force-included into the JNI library's translation units (pom.xml,
// javacpp plugin: -include); each pinned symbol also needs -Wl,--wrap=SYMBOL there, which routes
// every reference to it (from our static core and the JNI glue alike) to a __wrap_SYMBOL
// trampoline defined here that jumps to the old version. NativeSymbolVersionsTest reads the built
// library's required versions and names any symbol that needs a newer one: pin it here.
#pragma once

#if defined(__x86_64__) && defined(__linux__)

// A weak hidden trampoline per symbol (weak: every TU defines it; hidden: not exported).
#define LSTM4J_PIN(sym, ver)                                   \
  __asm__(".symver lstm4j_pinned_" #sym ", " #sym "@" ver "\n\t" \
          ".pushsection .text\n\t"                             \
          ".weak __wrap_" #sym "\n\t"                          \
          ".hidden __wrap_" #sym "\n\t"                        \
          ".type __wrap_" #sym ", @function\n"                 \
          "__wrap_" #sym ":\n\t"                               \
          "jmp lstm4j_pinned_" #sym "@PLT\n\t"                 \
          ".size __wrap_" #sym ", . - __wrap_" #sym "\n\t"     \
          ".popsection")

// glibc 2.34 moved libdl and libpthread into libc under new versions; the old ones remain.
LSTM4J_PIN(dlopen, "GLIBC_2.2.5");
LSTM4J_PIN(dlsym, "GLIBC_2.2.5");
LSTM4J_PIN(dlerror, "GLIBC_2.2.5");
LSTM4J_PIN(dladdr, "GLIBC_2.2.5");
LSTM4J_PIN(dlclose, "GLIBC_2.2.5");
LSTM4J_PIN(pthread_once, "GLIBC_2.2.5");
LSTM4J_PIN(pthread_mutex_trylock, "GLIBC_2.2.5");
LSTM4J_PIN(pthread_setname_np, "GLIBC_2.12");
// exp@GLIBC_2.29 only drops the SVID error wrapper; both versions compute the same bits.
LSTM4J_PIN(exp, "GLIBC_2.2.5");
// GCC 12 re-versioned condition_variable::wait (same function); GLIBCXX_3.4.11 is GCC 4.4's.
LSTM4J_PIN(_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE, "GLIBCXX_3.4.11");

#undef LSTM4J_PIN

#ifdef __cplusplus
#include <new>
// std::__throw_bad_array_new_length (GLIBCXX_3.4.29, GCC 11) has no older version: defined here,
// as GCC 11's header code expects it to behave.
extern "C" [[noreturn]] __attribute__((weak, visibility("hidden"))) void
__wrap__ZSt28__throw_bad_array_new_lengthv() {
  throw std::bad_array_new_length();
}
#endif

#endif
