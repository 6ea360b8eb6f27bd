#include "pcap.h"

#include <pcap/pcap.h>

#include <cstring>
#include <string>

#include "errors.h"

namespace wl {
namespace {

// pcapCompile(expression, linkType, snaplen, optimize) -> Buffer of struct
// bpf_insn (8 bytes each: u16 code, u8 jt, u8 jf, u32 k, host order).
// Throws Error{code: 'WL_ERR_FILTER'} with libpcap's message.
Napi::Value Compile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsBoolean()) {
    ThrowUsage(env, "pcapCompile(expression: string, linkType: number, snaplen: number, optimize: boolean)");
    return env.Undefined();
  }
  std::string expr = info[0].As<Napi::String>();
  int link = info[1].As<Napi::Number>().Int32Value();
  int snaplen = info[2].As<Napi::Number>().Int32Value();
  pcap_t *p = pcap_open_dead(link, snaplen);
  if (!p) {
    ThrowUsage(env, "pcapCompile: pcap_open_dead failed for link type " + std::to_string(link));
    return env.Undefined();
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, expr.c_str(), info[3].As<Napi::Boolean>().Value() ? 1 : 0,
                   PCAP_NETMASK_UNKNOWN) != 0) {
    Napi::Error e = Napi::Error::New(env, pcap_geterr(p));
    e.Set("code", Napi::String::New(env, "WL_ERR_FILTER"));
    pcap_close(p);
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto out = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t *>(prog.bf_insns),
                                         prog.bf_len * sizeof(struct bpf_insn));
  pcap_freecode(&prog);
  pcap_close(p);
  return out;
}

// pcapFilter(insns, packet, wireLength) -> libpcap's verdict (0: reject,
// else the snap length), as pcap_offline_filter computes it.
Napi::Value Filter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsBuffer() || !info[1].IsBuffer() || !info[2].IsNumber()) {
    ThrowUsage(env, "pcapFilter(insns: Buffer, packet: Buffer, wireLength: number)");
    return env.Undefined();
  }
  auto insns = info[0].As<Napi::Buffer<uint8_t>>();
  auto pkt = info[1].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    ThrowUsage(env, "pcapFilter: insns must be a whole number of 8-byte instructions");
    return env.Undefined();
  }
  // Aligned copy: the Buffer may sit at any offset.
  std::string copy(reinterpret_cast<const char *>(insns.Data()), insns.Length());
  struct bpf_insn *code = reinterpret_cast<struct bpf_insn *>(copy.data());
  if (!bpf_validate(code, static_cast<int>(insns.Length() / sizeof(struct bpf_insn)))) {
    ThrowUsage(env, "pcapFilter: not a valid classic BPF program");
    return env.Undefined();
  }
  u_int wire = info[2].As<Napi::Number>().Uint32Value();
  u_int verdict = bpf_filter(code, pkt.Data(), wire, static_cast<u_int>(pkt.Length()));
  return Napi::Number::New(env, verdict);
}

// pcapLinkTypeName(linkType) -> 'EN10MB' etc., or null.
Napi::Value LinkName(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "pcapLinkTypeName(linkType: number)");
    return env.Undefined();
  }
  const char *n = pcap_datalink_val_to_name(info[0].As<Napi::Number>().Int32Value());
  return n ? Napi::String::New(env, n) : env.Null();
}

Napi::Value Version(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

}  // namespace

void InitPcap(Napi::Env env, Napi::Object exports) {
  exports.Set("pcapCompile", Napi::Function::New(env, Compile));
  exports.Set("pcapFilter", Napi::Function::New(env, Filter));
  exports.Set("pcapLinkTypeName", Napi::Function::New(env, LinkName));
  exports.Set("pcapVersion", Napi::Function::New(env, Version));
}

}  // namespace wl
