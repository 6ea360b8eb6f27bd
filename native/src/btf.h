// Read-only BTF queries: struct layouts and enums, from an object file or
// from the running kernel (path omitted).
#pragma once
#include <napi.h>

namespace wl {
void InitBtf(Napi::Env env, Napi::Object exports);
}
