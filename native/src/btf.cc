#include "btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <string>

#include "errors.h"

namespace wl {
namespace {

btf *g_vmlinux = nullptr;

// Returns a btf the caller must free when *owned is set.
btf *OpenBtf(const Napi::CallbackInfo &info, bool *owned) {
  Napi::Env env = info.Env();
  *owned = false;
  if (info.Length() > 1 && info[1].IsString()) {
    std::string path = info[1].As<Napi::String>();
    btf *b = btf__parse(path.c_str(), nullptr);
    int err = libbpf_get_error(b);
    if (err) {
      ThrowErrno(env, "parsing BTF of " + path, err);
      return nullptr;
    }
    *owned = true;
    return b;
  }
  if (!g_vmlinux) {
    btf *b = btf__load_vmlinux_btf();
    int err = libbpf_get_error(b);
    if (err) {
      ThrowErrno(env, "loading the kernel's BTF", err);
      return nullptr;
    }
    g_vmlinux = b;
  }
  return g_vmlinux;
}

// Shared by the queries: checks (name, path?), finds the named type of `kind`
// and hands it to `describe`; null when there is no such type.
template <typename Describe>
Napi::Value Query(const Napi::CallbackInfo &info, const char *usage, int kind, Describe describe) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, usage);
    return env.Undefined();
  }
  bool owned;
  btf *b = OpenBtf(info, &owned);
  if (!b) return env.Undefined();
  std::string name = info[0].As<Napi::String>();
  Napi::Value result = env.Null();
  int id = btf__find_by_name_kind(b, name.c_str(), kind);
  if (id >= 0) result = describe(env, b, btf__type_by_id(b, id));
  if (owned) btf__free(b);
  return result;
}

// btfStruct(name, path?) -> {size, members: [{name, offset, size}]} | null
Napi::Value Struct(const Napi::CallbackInfo &info) {
  return Query(info, "btfStruct(name: string, objectPath?: string)", BTF_KIND_STRUCT,
               [](Napi::Env env, btf *b, const btf_type *t) -> Napi::Value {
                 Napi::Object o = Napi::Object::New(env);
                 o.Set("size", Napi::Number::New(env, t->size));
                 Napi::Array members = Napi::Array::New(env);
                 const btf_member *m = btf_members(t);
                 for (int i = 0; i < btf_vlen(t); i++, m++) {
                   Napi::Object mo = Napi::Object::New(env);
                   mo.Set("name", btf__name_by_offset(b, m->name_off));
                   mo.Set("offset", Napi::Number::New(env, btf_member_bit_offset(t, i) / 8));
                   mo.Set("size", Napi::Number::New(env, (double)btf__resolve_size(b, m->type)));
                   members.Set(i, mo);
                 }
                 o.Set("members", members);
                 return o;
               });
}

// btfEnum(name, path?) -> [{name, value}] | null
Napi::Value Enum(const Napi::CallbackInfo &info) {
  return Query(info, "btfEnum(name: string, objectPath?: string)", BTF_KIND_ENUM,
               [](Napi::Env env, btf *b, const btf_type *t) -> Napi::Value {
                 Napi::Array out = Napi::Array::New(env);
                 const struct btf_enum *e = btf_enum(t);
                 for (int i = 0; i < btf_vlen(t); i++, e++) {
                   Napi::Object o = Napi::Object::New(env);
                   o.Set("name", btf__name_by_offset(b, e->name_off));
                   o.Set("value", Napi::Number::New(env, e->val));
                   out.Set(i, o);
                 }
                 return out;
               });
}

}  // namespace

void InitBtf(Napi::Env env, Napi::Object exports) {
  exports.Set("btfStruct", Napi::Function::New(env, Struct));
  exports.Set("btfEnum", Napi::Function::New(env, Enum));
}

}  // namespace wl
