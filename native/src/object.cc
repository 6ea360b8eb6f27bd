#include "object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "link.h"

namespace wl {

// Not in libbpf 1.1's uapi headers; the kernel has had them since v6.6.
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

Napi::Function BpfObject::Init(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {
                         InstanceMethod("programs", &BpfObject::Programs),
                         InstanceMethod("maps", &BpfObject::Maps),
                         InstanceMethod("setAutoload", &BpfObject::SetAutoload),
                         InstanceMethod("setMaxEntries", &BpfObject::SetMaxEntries),
                         InstanceMethod("setGlobal", &BpfObject::SetGlobal),
                         InstanceMethod("load", &BpfObject::Load),
                         InstanceMethod("attach", &BpfObject::Attach),
                         InstanceMethod("mapFd", &BpfObject::MapFd),
                         InstanceMethod("progFd", &BpfObject::ProgFd),
                         InstanceMethod("close", &BpfObject::Close),
                     });
}

BpfObject::BpfObject(const Napi::CallbackInfo &info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, "new BpfObject(path: string)");
    return;
  }
  std::string path = info[0].As<Napi::String>();
  bpf_object *obj = bpf_object__open_file(path.c_str(), nullptr);
  int err = libbpf_get_error(obj);
  if (err) {
    ThrowErrno(env, "opening BPF object " + path, err);
    return;
  }
  obj_ = obj;
}

BpfObject::~BpfObject() {
  if (obj_) bpf_object__close(obj_);
}

bool BpfObject::CheckOpen(Napi::Env env) {
  if (!obj_) {
    Napi::Error::New(env, "BPF object is closed").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bpf_program *BpfObject::FindProg(Napi::Env env, const Napi::Value &name) {
  if (!CheckOpen(env)) return nullptr;
  if (!name.IsString()) {
    ThrowUsage(env, "program name must be a string");
    return nullptr;
  }
  std::string n = name.As<Napi::String>();
  bpf_program *p = bpf_object__find_program_by_name(obj_, n.c_str());
  if (!p) Napi::Error::New(env, "no BPF program named " + n).ThrowAsJavaScriptException();
  return p;
}

bpf_map *BpfObject::FindMap(Napi::Env env, const Napi::Value &name) {
  if (!CheckOpen(env)) return nullptr;
  if (!name.IsString()) {
    ThrowUsage(env, "map name must be a string");
    return nullptr;
  }
  std::string n = name.As<Napi::String>();
  bpf_map *m = bpf_object__find_map_by_name(obj_, n.c_str());
  if (!m) Napi::Error::New(env, "no BPF map named " + n).ThrowAsJavaScriptException();
  return m;
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  Napi::Array out = Napi::Array::New(env);
  bpf_program *p;
  uint32_t i = 0;
  bpf_object__for_each_program(p, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_program__name(p));
    o.Set("section", bpf_program__section_name(p));
    const char *t = libbpf_bpf_prog_type_str(bpf_program__type(p));
    o.Set("type", t ? t : "unknown");
    o.Set("autoload", bpf_program__autoload(p));
    out.Set(i++, o);
  }
  return out;
}

Napi::Value BpfObject::Maps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  Napi::Array out = Napi::Array::New(env);
  bpf_map *m;
  uint32_t i = 0;
  bpf_object__for_each_map(m, obj_) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", bpf_map__name(m));
    const char *t = libbpf_bpf_map_type_str(bpf_map__type(m));
    o.Set("type", t ? t : "unknown");
    o.Set("keySize", bpf_map__key_size(m));
    o.Set("valueSize", bpf_map__value_size(m));
    o.Set("maxEntries", bpf_map__max_entries(m));
    o.Set("internal", bpf_map__is_internal(m));
    out.Set(i++, o);
  }
  return out;
}

Napi::Value BpfObject::SetAutoload(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsBoolean()) {
    ThrowUsage(env, "obj.setAutoload(program: string, on: boolean)");
    return env.Undefined();
  }
  bpf_program *p = FindProg(env, info[0]);
  if (!p) return env.Undefined();
  int err = bpf_program__set_autoload(p, info[1].As<Napi::Boolean>());
  if (err) ThrowErrno(env, "bpf_program__set_autoload", err);
  return env.Undefined();
}

Napi::Value BpfObject::SetMaxEntries(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) {
    ThrowUsage(env, "obj.setMaxEntries(map: string, n: number)");
    return env.Undefined();
  }
  bpf_map *m = FindMap(env, info[0]);
  if (!m) return env.Undefined();
  int err = bpf_map__set_max_entries(m, info[1].As<Napi::Number>().Uint32Value());
  if (err) ThrowErrno(env, "bpf_map__set_max_entries", err);
  return env.Undefined();
}

// setGlobal(name, bytes): writes a global variable of .rodata/.data/.bss before
// load, found by name in the object's BTF data sections.
Napi::Value BpfObject::SetGlobal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer()) {
    ThrowUsage(env, "obj.setGlobal(variable: string, value: Buffer)");
    return env.Undefined();
  }
  if (!CheckOpen(env)) return env.Undefined();
  if (loaded_) {
    Napi::Error::New(env, "globals can only be set before load").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string var = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> val = info[1].As<Napi::Buffer<uint8_t>>();
  btf *b = bpf_object__btf(obj_);
  if (!b) {
    Napi::Error::New(env, "object has no BTF").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bpf_map *m;
  bpf_object__for_each_map(m, obj_) {
    if (!bpf_map__is_internal(m)) continue;
    const char *mname = bpf_map__name(m);
    const char *dot = strchr(mname, '.');
    if (!dot) continue;
    int sec_id = btf__find_by_name_kind(b, dot, BTF_KIND_DATASEC);
    if (sec_id < 0) continue;
    const btf_type *sec = btf__type_by_id(b, sec_id);
    const btf_var_secinfo *vs = btf_var_secinfos(sec);
    for (int i = 0; i < btf_vlen(sec); i++, vs++) {
      const btf_type *vt = btf__type_by_id(b, vs->type);
      if (var != btf__name_by_offset(b, vt->name_off)) continue;
      if (vs->size != val.Length()) {
        Napi::Error::New(env, "global " + var + " has " + std::to_string(vs->size) + " bytes, value has " +
                                  std::to_string(val.Length()))
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      size_t size = 0;
      const uint8_t *cur = static_cast<const uint8_t *>(bpf_map__initial_value(m, &size));
      if (!cur || vs->offset + vs->size > size) {
        Napi::Error::New(env, "cannot write global " + var).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      std::vector<uint8_t> data(cur, cur + size);
      memcpy(data.data() + vs->offset, val.Data(), vs->size);
      int err = bpf_map__set_initial_value(m, data.data(), data.size());
      if (err) ThrowErrno(env, "setting global " + var, err);
      return env.Undefined();
    }
  }
  Napi::Error::New(env, "no global variable named " + var).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value BpfObject::Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  TakeLibbpfLog();
  int err = bpf_object__load(obj_);
  if (err) {
    ThrowErrno(env, std::string("loading BPF object ") + bpf_object__name(obj_), err);
    return env.Undefined();
  }
  loaded_ = true;
  return env.Undefined();
}

static std::string OptString(const Napi::Object &o, const char *key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? std::string(v.As<Napi::String>()) : std::string();
}

static int64_t OptInt(const Napi::Object &o, const char *key, int64_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
}

static bool OptBool(const Napi::Object &o, const char *key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

// attach(program, target?): target.kind is one of auto (from SEC), kprobe,
// uprobe, tracepoint, cgroup, iter, xdp, tcx, tc.
Napi::Value BpfObject::Attach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bpf_program *p = FindProg(env, info[0]);
  if (!p) return env.Undefined();
  if (!loaded_) {
    Napi::Error::New(env, "attach before load").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object t =
      info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  std::string kind = OptString(t, "kind");
  if (kind.empty()) kind = "auto";
  std::string pname = bpf_program__name(p);
  TakeLibbpfLog();
  bpf_link *link = nullptr;

  if (kind == "auto") {
    link = bpf_program__attach(p);
  } else if (kind == "kprobe") {
    link = bpf_program__attach_kprobe(p, OptBool(t, "retprobe"), OptString(t, "func").c_str());
  } else if (kind == "tracepoint") {
    link = bpf_program__attach_tracepoint(p, OptString(t, "category").c_str(), OptString(t, "name").c_str());
  } else if (kind == "uprobe") {
    std::string path = OptString(t, "path"), func = OptString(t, "func");
    LIBBPF_OPTS(bpf_uprobe_opts, uo);
    uo.retprobe = OptBool(t, "retprobe");
    uo.func_name = func.empty() ? nullptr : func.c_str();
    link = bpf_program__attach_uprobe_opts(p, (pid_t)OptInt(t, "pid", -1), path.c_str(),
                                           (size_t)OptInt(t, "offset", 0), &uo);
  } else if (kind == "cgroup") {
    std::string path = OptString(t, "path");
    int cg = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
      ThrowErrno(env, "opening cgroup " + path, errno);
      return env.Undefined();
    }
    link = bpf_program__attach_cgroup(p, cg);
    int saved = errno;
    close(cg);  // the link holds the cgroup
    errno = saved;
  } else if (kind == "iter") {
    // An iterator, over a map's elements (e.g. socket storage) when `map` is
    // given, else over its target's objects (iter/tcp: this namespace's TCP
    // sockets); run with iterRun(link.fd()).
    std::string map = OptString(t, "map");
    if (map.empty()) {
      link = bpf_program__attach_iter(p, nullptr);
    } else {
      bpf_map *m = bpf_object__find_map_by_name(obj_, map.c_str());
      if (!m) {
        ThrowUsage(env, "attach(program, {kind: 'iter', map}): no map " + map);
        return env.Undefined();
      }
      union bpf_iter_link_info linfo = {};
      linfo.map.map_fd = bpf_map__fd(m);
      LIBBPF_OPTS(bpf_iter_attach_opts, io);
      io.link_info = &linfo;
      io.link_info_len = sizeof(linfo);
      link = bpf_program__attach_iter(p, &io);
    }
  } else if (kind == "xdp") {
    link = bpf_program__attach_xdp(p, (int)OptInt(t, "ifindex", 0));
  } else if (kind == "tcx") {
    int type = OptBool(t, "ingress") ? kBpfTcxIngress : kBpfTcxEgress;
    int fd = bpf_link_create(bpf_program__fd(p), (int)OptInt(t, "ifindex", 0),
                             static_cast<bpf_attach_type>(type), nullptr);
    if (fd < 0) {
      ThrowErrno(env, "attaching " + pname + " (tcx)", errno);
      return env.Undefined();
    }
    return Link::NewFdLink(env, fd, "tcx");
  } else if (kind == "tc") {
    LIBBPF_OPTS(bpf_tc_hook, hook);
    hook.ifindex = (int)OptInt(t, "ifindex", 0);
    hook.attach_point = OptBool(t, "ingress") ? BPF_TC_INGRESS : BPF_TC_EGRESS;
    int err = bpf_tc_hook_create(&hook);
    bool created = err == 0;
    if (err && err != -EEXIST) {
      ThrowErrno(env, "creating clsact qdisc for " + pname, err);
      return env.Undefined();
    }
    LIBBPF_OPTS(bpf_tc_opts, opts);
    opts.prog_fd = bpf_program__fd(p);
    opts.handle = (uint32_t)OptInt(t, "handle", 0);
    opts.priority = (uint32_t)OptInt(t, "priority", 0);
    err = bpf_tc_attach(&hook, &opts);
    if (err) {
      // A qdisc made for this filter alone goes with it (the caller never learns of it).
      if (created) {
        LIBBPF_OPTS(bpf_tc_hook, both);
        both.ifindex = hook.ifindex;
        both.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(&both);
      }
      ThrowErrno(env, "attaching " + pname + " (tc)", err);
      return env.Undefined();
    }
    return Link::NewTcLink(env, hook, opts, created);
  } else {
    ThrowUsage(env, "obj.attach(program, {kind: auto|kprobe|uprobe|tracepoint|cgroup|iter|xdp|tcx|tc, ...})");
    return env.Undefined();
  }
  int err = libbpf_get_error(link);
  if (err || !link) {
    ThrowErrno(env, "attaching " + pname + " (" + kind + ")", err ? err : errno);
    return env.Undefined();
  }
  return Link::NewBpfLink(env, link, kind.c_str());
}

Napi::Value BpfObject::MapFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bpf_map *m = FindMap(env, info[0]);
  if (!m) return env.Undefined();
  return Napi::Number::New(env, bpf_map__fd(m));
}

Napi::Value BpfObject::ProgFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  bpf_program *p = FindProg(env, info[0]);
  if (!p) return env.Undefined();
  return Napi::Number::New(env, bpf_program__fd(p));
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo &info) {
  if (obj_) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
  return info.Env().Undefined();
}

}  // namespace wl
