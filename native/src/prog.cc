#include "prog.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace wl {
namespace {

bool ProgType(const std::string &name, bpf_prog_type *out) {
  for (int t = 1; t < 64; t++) {
    const char *s = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(t));
    if (s && name == s) {
      *out = static_cast<bpf_prog_type>(t);
      return true;
    }
  }
  return false;
}

// progLoad(type, insns, name, attachType?) -> fd: loads eBPF instructions (8
// bytes each, host order) as a program of the named type ('sched_cls',
// 'cgroup_skb', ...), with an expected attach type when given
// ('cgroup_inet_ingress', ...). On refusal throws with the verifier's log.
Napi::Value Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsBuffer() || !info[2].IsString()) {
    ThrowUsage(env, "progLoad(type: string, insns: Buffer, name: string)");
    return env.Undefined();
  }
  bpf_prog_type type;
  if (!ProgType(info[0].As<Napi::String>(), &type)) {
    ThrowUsage(env, "progLoad: unknown program type " + std::string(info[0].As<Napi::String>()));
    return env.Undefined();
  }
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  if (buf.Length() == 0 || buf.Length() % sizeof(struct bpf_insn) != 0) {
    ThrowUsage(env, "progLoad: insns must be a whole number of 8-byte instructions");
    return env.Undefined();
  }
  std::vector<struct bpf_insn> insns(buf.Length() / sizeof(struct bpf_insn));
  memcpy(insns.data(), buf.Data(), buf.Length());
  std::string name = info[2].As<Napi::String>();
  std::vector<char> log(1 << 20);
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.log_size = static_cast<__u32>(log.size());
  opts.log_buf = log.data();
  opts.log_level = 0;
  if (info.Length() > 3 && info[3].IsString()) {
    std::string at = info[3].As<Napi::String>();
    bool found = false;
    for (int t = 0; t < 128 && !found; t++) {
      const char *n = libbpf_bpf_attach_type_str(static_cast<bpf_attach_type>(t));
      if (n && at == n) {
        opts.expected_attach_type = static_cast<bpf_attach_type>(t);
        found = true;
      }
    }
    if (!found) {
      ThrowUsage(env, "progLoad: unknown attach type " + at);
      return env.Undefined();
    }
  }
  int fd = bpf_prog_load(type, name.c_str(), "GPL", insns.data(), insns.size(), &opts);
  if (fd < 0 && errno != EPERM) {
    // Again with the verifier's log, to say why.
    int first = errno;
    opts.log_level = 1;
    log[0] = 0;
    fd = bpf_prog_load(type, name.c_str(), "GPL", insns.data(), insns.size(), &opts);
    if (fd < 0) {
      Napi::Error e = Napi::Error::New(env, "loading program " + name + ": " + strerror(first));
      e.Set("code", Napi::String::New(env, "WL_ERR_LIBBPF"));
      e.Set("errno", Napi::Number::New(env, first));
      e.Set("syscall", Napi::String::New(env, "BPF_PROG_LOAD"));
      std::string text(log.data());
      if (text.size() > 8192) text = text.substr(text.size() - 8192);
      e.Set("libbpfLog", Napi::String::New(env, text));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (fd < 0) {
    ThrowErrno(env, "BPF_PROG_LOAD " + name, errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// progTestRun(fd, data, repeat?) -> {retval, durationNs}: BPF_PROG_TEST_RUN.
// For skb programs `data` starts with an Ethernet header.
Napi::Value TestRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) {
    ThrowUsage(env, "progTestRun(fd: number, data: Buffer, repeat?: number)");
    return env.Undefined();
  }
  auto data = info[1].As<Napi::Buffer<uint8_t>>();
  std::vector<uint8_t> in(data.Data(), data.Data() + data.Length());
  std::vector<uint8_t> out(in.size() + 256);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = in.data();
  opts.data_out = out.data();
  opts.data_size_in = static_cast<__u32>(in.size());
  opts.data_size_out = static_cast<__u32>(out.size());
  opts.repeat = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 1;
  if (bpf_prog_test_run_opts(info[0].As<Napi::Number>().Int32Value(), &opts) != 0) {
    ThrowErrno(env, "BPF_PROG_TEST_RUN", errno);
    return env.Undefined();
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("retval", Napi::Number::New(env, static_cast<int32_t>(opts.retval)));
  r.Set("durationNs", Napi::Number::New(env, opts.duration));
  return r;
}

// closeFd(fd): for fds this addon handed out (progLoad).
Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "closeFd(fd: number)");
    return env.Undefined();
  }
  close(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

}  // namespace

void InitProg(Napi::Env env, Napi::Object exports) {
  exports.Set("progLoad", Napi::Function::New(env, Load));
  exports.Set("progTestRun", Napi::Function::New(env, TestRun));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
}

}  // namespace wl
