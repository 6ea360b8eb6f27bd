#include "tc.h"

#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace wl {
namespace {

struct TcFilter {
  uint32_t handle = 0;
  uint32_t priority = 0;
  std::string kind;
  uint32_t prog_id = 0;
  std::string name;
};

const rtattr *FindAttr(const rtattr *a, int len, unsigned short type) {
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
    if ((a->rta_type & NLA_TYPE_MASK) == type) return a;
  return nullptr;
}

std::string AttrString(const rtattr *a) {
  if (!a) return "";
  const char *s = static_cast<const char *>(RTA_DATA(a));
  size_t n = RTA_PAYLOAD(a);
  return std::string(s, strnlen(s, n));
}

// Dumps the filters on one side of a device's clsact qdisc. Returns 0 or a
// negative errno; no clsact qdisc gives 0 and no filters.
int DumpFilters(int ifindex, bool ingress, std::vector<TcFilter> *out) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct {
    nlmsghdr n;
    tcmsg t;
  } req = {};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
  req.n.nlmsg_type = RTM_GETTFILTER;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.n.nlmsg_seq = 1;
  req.t.tcm_family = AF_UNSPEC;
  req.t.tcm_ifindex = ifindex;
  req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  if (send(fd, &req, req.n.nlmsg_len, 0) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  std::vector<char> buf(64 << 10);
  int rc = 0;
  for (bool done = false; !done;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = -errno;
      break;
    }
    int len = static_cast<int>(n);
    for (const nlmsghdr *h = reinterpret_cast<const nlmsghdr *>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const nlmsgerr *err = static_cast<const nlmsgerr *>(NLMSG_DATA(h));
        // No clsact on the device: nothing attached there.
        rc = (err->error == -EINVAL || err->error == -ENOENT) ? 0 : err->error;
        done = true;
        break;
      }
      if (h->nlmsg_type != RTM_NEWTFILTER) continue;
      const tcmsg *t = static_cast<const tcmsg *>(NLMSG_DATA(h));
      if (t->tcm_handle == 0) continue;  // the per-priority head entry, not a filter
      const rtattr *attrs =
          reinterpret_cast<const rtattr *>(reinterpret_cast<const char *>(t) + NLMSG_ALIGN(sizeof(tcmsg)));
      int alen = static_cast<int>(h->nlmsg_len) - NLMSG_LENGTH(sizeof(tcmsg));
      TcFilter f;
      f.handle = t->tcm_handle;
      f.priority = TC_H_MAJ(t->tcm_info) >> 16;
      f.kind = AttrString(FindAttr(attrs, alen, TCA_KIND));
      const rtattr *opts = FindAttr(attrs, alen, TCA_OPTIONS);
      if (opts && f.kind == "bpf") {
        const rtattr *inner = static_cast<const rtattr *>(RTA_DATA(opts));
        int ilen = static_cast<int>(RTA_PAYLOAD(opts));
        const rtattr *id = FindAttr(inner, ilen, TCA_BPF_ID);
        if (id && RTA_PAYLOAD(id) >= sizeof(uint32_t)) memcpy(&f.prog_id, RTA_DATA(id), sizeof(uint32_t));
        f.name = AttrString(FindAttr(inner, ilen, TCA_BPF_NAME));
      }
      out->push_back(f);
    }
  }
  close(fd);
  return rc;
}

bool HookArgs(const Napi::CallbackInfo &info, const char *usage, int *ifindex, bool *ingress) {
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean()) {
    ThrowUsage(info.Env(), usage);
    return false;
  }
  *ifindex = info[0].As<Napi::Number>().Int32Value();
  *ingress = info[1].As<Napi::Boolean>().Value();
  return true;
}

// tcFilters(ifindex, ingress) -> [{handle, priority, kind, progId, name}]
Napi::Value TcFilters(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int ifindex;
  bool ingress;
  if (!HookArgs(info, "tcFilters(ifindex: number, ingress: boolean)", &ifindex, &ingress))
    return env.Undefined();
  std::vector<TcFilter> filters;
  int rc = DumpFilters(ifindex, ingress, &filters);
  if (rc < 0) {
    ThrowErrno(env, "listing TC filters", rc);
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env, filters.size());
  for (size_t i = 0; i < filters.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("handle", Napi::Number::New(env, filters[i].handle));
    o.Set("priority", Napi::Number::New(env, filters[i].priority));
    o.Set("kind", Napi::String::New(env, filters[i].kind));
    o.Set("progId", Napi::Number::New(env, filters[i].prog_id));
    o.Set("name", Napi::String::New(env, filters[i].name));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

// tcDetach(ifindex, ingress, handle, priority) -> true if a filter was removed
Napi::Value TcDetach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int ifindex;
  bool ingress;
  const char *usage = "tcDetach(ifindex: number, ingress: boolean, handle: number, priority: number)";
  if (!HookArgs(info, usage, &ifindex, &ingress)) return env.Undefined();
  if (info.Length() < 4 || !info[2].IsNumber() || !info[3].IsNumber()) {
    ThrowUsage(env, usage);
    return env.Undefined();
  }
  LIBBPF_OPTS(bpf_tc_hook, hook);
  hook.ifindex = ifindex;
  hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  LIBBPF_OPTS(bpf_tc_opts, opts);
  opts.handle = info[2].As<Napi::Number>().Uint32Value();
  opts.priority = info[3].As<Napi::Number>().Uint32Value();
  int err = bpf_tc_detach(&hook, &opts);
  if (err == -ENOENT) return Napi::Boolean::New(env, false);
  if (err) {
    ThrowErrno(env, "detaching a TC filter", err);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// tcRemoveClsact(ifindex) -> true if a clsact qdisc was removed (with any filters on it)
Napi::Value TcRemoveClsact(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "tcRemoveClsact(ifindex: number)");
    return env.Undefined();
  }
  LIBBPF_OPTS(bpf_tc_hook, hook);
  hook.ifindex = info[0].As<Napi::Number>().Int32Value();
  hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
  int err = bpf_tc_hook_destroy(&hook);
  if (err == -ENOENT || err == -EINVAL) return Napi::Boolean::New(env, false);
  if (err) {
    ThrowErrno(env, "removing a clsact qdisc", err);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

}  // namespace

void InitTc(Napi::Env env, Napi::Object exports) {
  exports.Set("tcFilters", Napi::Function::New(env, TcFilters));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcRemoveClsact", Napi::Function::New(env, TcRemoveClsact));
}

}  // namespace wl
