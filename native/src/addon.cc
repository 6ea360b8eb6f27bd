// wirelens native addon: a thin N-API layer over libbpf. No product logic:
// every decision (which hook, which filter, what to print) is made in src/.
#include <napi.h>

#include "btf.h"
#include "errors.h"
#include "link.h"
#include "maps.h"
#include "object.h"
#include "pcap.h"
#include "probe.h"
#include "prog.h"
#include "ringbuf.h"
#include "tc.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  wl::InstallLibbpfLog();
  exports.Set("BpfObject", wl::BpfObject::Init(env));
  exports.Set("Link", wl::Link::Init(env));
  exports.Set("RingBuffer", wl::RingBuffer::Init(env));
  wl::InitMaps(env, exports);
  wl::InitBtf(env, exports);
  wl::InitProbe(env, exports);
  wl::InitTc(env, exports);
  wl::InitPcap(env, exports);
  wl::InitProg(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(wirelens_native, Init)
