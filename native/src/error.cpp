// LibTorch's C ABI reports a failure as status 1 and logs the exception's text to std::cerr
// ("Exception in aoti_torch: <what>", then a stack trace). To hand that text to the caller, the
// first lstm4j call puts a tee in front of std::cerr's buffer: everything still reaches stderr,
// and each thread's last few KB are kept in a thread-local buffer that check() reads on failure.
#include "lstm4j/error.h"

#include <cstring>
#include <iostream>
#include <mutex>
#include <streambuf>

namespace lstm4j {

namespace {

// Trivially destructible, so that writes to std::cerr during exit stay safe.
constexpr size_t kKeep = 8192;
thread_local char t_text[kKeep];
thread_local size_t t_len = 0;

void keep(const char* s, size_t n) {
  if (n >= kKeep) {
    s += n - (kKeep - 1);
    n = kKeep - 1;
  }
  if (t_len + n >= kKeep) {  // drop the oldest text
    const size_t drop = t_len + n - (kKeep - 1);
    std::memmove(t_text, t_text + drop, t_len - drop);
    t_len -= drop;
  }
  std::memcpy(t_text + t_len, s, n);
  t_len += n;
}

class Tee : public std::streambuf {
 public:
  explicit Tee(std::streambuf* out) : out_(out) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    keep(&ch, 1);
    return out_->sputc(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    keep(s, static_cast<size_t>(n));
    return out_->sputn(s, n);
  }
  int sync() override { return out_->pubsync(); }

 private:
  std::streambuf* out_;
};

}  // namespace

void install_torch_message_capture() {
  static std::once_flag once;
  // Never freed: std::cerr may be written to until the process ends.
  std::call_once(once, [] { std::cerr.rdbuf(new Tee(std::cerr.rdbuf())); });
}

std::string take_torch_message() {
  std::string text(t_text, t_len);
  t_len = 0;
  // The newest exception logged by the shim, without its stack trace.
  const std::string tag = "Exception in aoti_torch: ";
  const size_t at = text.rfind(tag);
  if (at == std::string::npos) return {};
  std::string msg = text.substr(at + tag.size());
  const size_t frames = msg.find("\nframe #");
  if (frames != std::string::npos) msg.resize(frames);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

void throw_torch_error(const char* what) {
  const std::string msg = take_torch_message();
  const bool memory = msg.find("allocate") != std::string::npos ||
                      msg.find("out of memory") != std::string::npos;
  throw Error(std::string("LibTorch call failed: ") + what + ": " +
                  (msg.empty() ? "(no message; see stderr)" : msg),
              memory ? ErrorKind::kOutOfMemory : ErrorKind::kTorch);
}

}  // namespace lstm4j
