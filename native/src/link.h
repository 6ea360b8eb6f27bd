// A program attachment. Closing it detaches; bpf_link kinds also detach when
// the process dies. Classic TC filters do not: their owner must clean up, and
// closing one removes only the filter, never the clsact qdisc.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

namespace wl {

class Link : public Napi::ObjectWrap<Link> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object NewBpfLink(Napi::Env env, bpf_link *link, const char *kind);
  static Napi::Object NewFdLink(Napi::Env env, int fd, const char *kind);
  static Napi::Object NewTcLink(Napi::Env env, const bpf_tc_hook &hook, const bpf_tc_opts &opts,
                                bool created_hook);
  explicit Link(const Napi::CallbackInfo &info);
  ~Link() override;

 private:
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value Fd(const Napi::CallbackInfo &info);
  void Release();

  static Napi::FunctionReference ctor_;
  bpf_link *link_ = nullptr;
  int fd_ = -1;
  bool is_tc_ = false;
  bpf_tc_hook tc_hook_{};
  bpf_tc_opts tc_opts_{};
};

}  // namespace wl
