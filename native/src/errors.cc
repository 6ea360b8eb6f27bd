#include "errors.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>

namespace wl {
namespace {

std::deque<std::string> g_lines;
size_t g_bytes = 0;
bool g_debug = false;
constexpr size_t kMaxBytes = 64 * 1024;

int Print(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG && !g_debug) return 0;
  // The verifier log arrives as one large message whose end says what failed:
  // format it whole, keep at most the last kMaxBytes.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(&line[0], line.size(), fmt, args);
  line.resize(static_cast<size_t>(n));
  if (line.size() > kMaxBytes) line.erase(0, line.size() - kMaxBytes);
  g_lines.emplace_back(std::move(line));
  g_bytes += g_lines.back().size();
  while (g_bytes > kMaxBytes && !g_lines.empty()) {
    g_bytes -= g_lines.front().size();
    g_lines.pop_front();
  }
  return 0;
}

}  // namespace

void InstallLibbpfLog() { libbpf_set_print(Print); }

void SetLibbpfDebug(bool on) { g_debug = on; }

std::string TakeLibbpfLog() {
  std::string out;
  for (auto &l : g_lines) out += l;
  g_lines.clear();
  g_bytes = 0;
  return out;
}

void ThrowErrno(Napi::Env env, const std::string &what, int err) {
  if (err < 0) err = -err;
  char ebuf[256];
  std::string reason;
  if (libbpf_strerror(-err, ebuf, sizeof(ebuf)) == 0)
    reason = ebuf;
  else
    reason = strerror(err);
  Napi::Error e = Napi::Error::New(env, what + ": " + reason);
  e.Set("code", Napi::String::New(env, "WL_ERR_LIBBPF"));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  e.Set("libbpfLog", Napi::String::New(env, TakeLibbpfLog()));
  e.ThrowAsJavaScriptException();
}

void ThrowUsage(Napi::Env env, const std::string &usage) {
  Napi::TypeError e = Napi::TypeError::New(env, "Usage: " + usage);
  e.Set("code", Napi::String::New(env, "WL_ERR_USAGE"));
  e.ThrowAsJavaScriptException();
}

}  // namespace wl
