// One BPF object file: open, configure before load, load, attach programs.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

namespace wl {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo &info);
  ~BpfObject() override;

 private:
  Napi::Value Programs(const Napi::CallbackInfo &info);
  Napi::Value Maps(const Napi::CallbackInfo &info);
  Napi::Value SetAutoload(const Napi::CallbackInfo &info);
  Napi::Value SetMaxEntries(const Napi::CallbackInfo &info);
  Napi::Value SetGlobal(const Napi::CallbackInfo &info);
  Napi::Value Load(const Napi::CallbackInfo &info);
  Napi::Value Attach(const Napi::CallbackInfo &info);
  Napi::Value MapFd(const Napi::CallbackInfo &info);
  Napi::Value ProgFd(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);

  bpf_program *FindProg(Napi::Env env, const Napi::Value &name);
  bpf_map *FindMap(Napi::Env env, const Napi::Value &name);
  bool CheckOpen(Napi::Env env);

  bpf_object *obj_ = nullptr;
  bool loaded_ = false;
};

}  // namespace wl
