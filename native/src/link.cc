#include "link.h"

#include <unistd.h>

#include "errors.h"

namespace wl {

Napi::FunctionReference Link::ctor_;

Napi::Function Link::Init(Napi::Env env) {
  Napi::Function f =
      DefineClass(env, "Link", {InstanceMethod("close", &Link::Close), InstanceMethod("fd", &Link::Fd)});
  ctor_ = Napi::Persistent(f);
  ctor_.SuppressDestruct();
  return f;
}

Link::Link(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Link>(info) {}

Link::~Link() { Release(); }

Napi::Object Link::NewBpfLink(Napi::Env env, bpf_link *link, const char *kind) {
  Napi::Object o = ctor_.New({});
  Link *l = Unwrap(o);
  l->link_ = link;
  o.Set("kind", Napi::String::New(env, kind));
  return o;
}

Napi::Object Link::NewFdLink(Napi::Env env, int fd, const char *kind) {
  Napi::Object o = ctor_.New({});
  Unwrap(o)->fd_ = fd;
  o.Set("kind", Napi::String::New(env, kind));
  return o;
}

Napi::Object Link::NewTcLink(Napi::Env env, const bpf_tc_hook &hook, const bpf_tc_opts &opts,
                             bool created_hook) {
  Napi::Object o = ctor_.New({});
  Link *l = Unwrap(o);
  l->is_tc_ = true;
  l->tc_hook_ = hook;
  l->tc_opts_ = opts;
  o.Set("kind", Napi::String::New(env, "tc"));
  // The qdisc is shared: whether to remove it is the caller's policy.
  o.Set("createdHook", Napi::Boolean::New(env, created_hook));
  o.Set("handle", Napi::Number::New(env, opts.handle));
  o.Set("priority", Napi::Number::New(env, opts.priority));
  o.Set("progId", Napi::Number::New(env, opts.prog_id));  // filled in by bpf_tc_attach
  return o;
}

void Link::Release() {
  if (link_) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (is_tc_) {
    bpf_tc_opts detach = {};
    detach.sz = sizeof(detach);
    detach.handle = tc_opts_.handle;
    detach.priority = tc_opts_.priority;
    bpf_tc_detach(&tc_hook_, &detach);
    is_tc_ = false;
  }
}

Napi::Value Link::Close(const Napi::CallbackInfo &info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value Link::Fd(const Napi::CallbackInfo &info) {
  int fd = link_ ? bpf_link__fd(link_) : fd_;
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace wl
