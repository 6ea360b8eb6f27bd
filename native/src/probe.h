// System-wide BPF facts: what libbpf says the kernel supports, and which BPF
// programs and links are loaded (to find wirelens leftovers by their wl_ name).
#pragma once
#include <napi.h>

namespace wl {
void InitProbe(Napi::Env env, Napi::Object exports);
}
