// Programs built in user space (compiled pcap filters): load from raw
// instructions, run once on test input, close.
#pragma once
#include <napi.h>

namespace wl {
void InitProg(Napi::Env env, Napi::Object exports);
}  // namespace wl
