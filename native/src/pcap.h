// libpcap for filter semantics: pcap_compile (classic BPF from a
// pcap-filter(7) expression) and bpf_filter (libpcap's own interpreter,
// the reference verdict for offline reading and for tests).
#pragma once
#include <napi.h>

namespace wl {
void InitPcap(Napi::Env env, Napi::Object exports);
}  // namespace wl
