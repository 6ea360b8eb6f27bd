// Errors crossing into JS: errno, libbpf's own words, and the call that failed.
#pragma once
#include <napi.h>

#include <string>

namespace wl {

// Install the libbpf print hook that keeps recent libbpf output.
void InstallLibbpfLog();
// Recent libbpf lines (warnings and debug), cleared by the call.
std::string TakeLibbpfLog();
void SetLibbpfDebug(bool on);

// Throws Error{message, code: 'WL_ERR_LIBBPF', errno, syscall, libbpfLog}.
// `err` is a negative or positive errno value.
void ThrowErrno(Napi::Env env, const std::string &what, int err);
void ThrowUsage(Napi::Env env, const std::string &usage);

}  // namespace wl
