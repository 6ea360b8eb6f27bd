#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "errors.h"

namespace wl {
namespace {

// probeMapType('ringbuf') -> 1 supported, 0 not, negative errno when unsure.
Napi::Value ProbeMapType(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowUsage(env, "probeMapType(name: string)");
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>();
  for (int t = 1; t < 64; t++) {
    const char *s = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(t));
    if (s && name == s)
      return Napi::Number::New(env, libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(t), nullptr));
  }
  ThrowUsage(env, "probeMapType: unknown map type " + name);
  return env.Undefined();
}

// iterRun(linkFd) -> bytes the iterator wrote: runs a BPF iterator over all
// its elements once (the program does its work as it visits each).
Napi::Value IterRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "iterRun(linkFd: number)");
    return env.Undefined();
  }
  int fd = bpf_iter_create(info[0].As<Napi::Number>().Int32Value());
  if (fd < 0) {
    ThrowErrno(env, "creating a BPF iterator", errno);
    return env.Undefined();
  }
  char buf[4096];
  double total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      ThrowErrno(env, "running a BPF iterator", e);
      return env.Undefined();
    }
    total += n;
  }
  close(fd);
  return Napi::Number::New(env, total);
}

// listPrograms() -> [{id, name, type}] of every BPF program loaded.
Napi::Value ListPrograms(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t id = 0, i = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;  // gone meanwhile
    bpf_prog_info pi;
    memset(&pi, 0, sizeof(pi));
    uint32_t len = sizeof(pi);
    if (bpf_obj_get_info_by_fd(fd, &pi, &len) == 0) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", Napi::Number::New(env, id));
      o.Set("name", Napi::String::New(env, pi.name));
      const char *t = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(pi.type));
      o.Set("type", t ? t : "unknown");
      out.Set(i++, o);
    }
    close(fd);
  }
  if (errno != ENOENT && errno != 0 && i == 0 && id == 0) {
    ThrowErrno(env, "bpf_prog_get_next_id", errno);
    return env.Undefined();
  }
  return out;
}

// listLinks() -> [{id, progId, type}]
Napi::Value ListLinks(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t id = 0, i = 0;
  while (bpf_link_get_next_id(id, &id) == 0) {
    int fd = bpf_link_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_link_info li;
    memset(&li, 0, sizeof(li));
    uint32_t len = sizeof(li);
    if (bpf_obj_get_info_by_fd(fd, &li, &len) == 0) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", Napi::Number::New(env, id));
      o.Set("progId", Napi::Number::New(env, li.prog_id));
      const char *t = libbpf_bpf_link_type_str(static_cast<bpf_link_type>(li.type));
      o.Set("type", t ? t : "unknown");
      out.Set(i++, o);
    }
    close(fd);
  }
  return out;
}

// Creates an iterator of link in the network namespace at path (an iterator
// over a namespace's objects walks the one it is created in): the calling
// thread enters it (setns) only to create the iterator, then returns to its
// own (home). Returns the iterator's fd, -1 when the namespace is gone or
// refused it, or -2 with errno set when the thread could not return home.
int IterCreateIn(int link, const std::string &path, int home) {
  int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  int fd = -1;
  if (setns(ns, CLONE_NEWNET) == 0) {
    fd = bpf_iter_create(link);
    if (setns(home, CLONE_NEWNET) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      close(ns);
      errno = e;
      return -2;
    }
  }
  close(ns);
  return fd < 0 ? -1 : fd;
}

// Reads an iterator to its end, keeping at most `keep` bytes in out (the rest
// is read and dropped, so the walk completes). Returns the bytes it wrote.
double IterDrain(int fd, std::string *out, size_t keep) {
  char buf[4096];
  double total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += n;
    if (out && out->size() < keep) out->append(buf, std::min(static_cast<size_t>(n), keep - out->size()));
  }
  return total;
}

// Creates link's iterator in each namespace of paths in turn and calls
// each(i, fd) with it (fd -1 where the namespace is gone or refused it); the
// iterator is closed after. False, with a JS error thrown, when this thread
// could not return to its own namespace.
bool IterEachIn(Napi::Env env, int link, const Napi::Array &paths,
                const std::function<void(uint32_t, int)> &each) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    ThrowErrno(env, "opening this thread's network namespace", errno);
    return false;
  }
  for (uint32_t i = 0; i < paths.Length(); i++) {
    int fd = IterCreateIn(link, paths.Get(i).ToString(), home);
    if (fd == -2) {
      int e = errno;
      close(home);
      ThrowErrno(env, "returning to wirelens's network namespace", e);
      return false;
    }
    each(i, fd);
    if (fd >= 0) close(fd);
  }
  close(home);
  return true;
}

// iterRunIn(linkFd, netnsPaths) -> namespaces it ran in: runs a BPF iterator
// whose target walks the caller's network namespace (iter/tcp, iter/udp) in
// each namespace given (/proc/PID/ns/net, /run/netns/NAME). A namespace
// that is gone meanwhile is skipped.
Napi::Value IterRunIn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    ThrowUsage(env, "iterRunIn(linkFd: number, netnsPaths: string[])");
    return env.Undefined();
  }
  double ran = 0;
  bool ok = IterEachIn(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Array>(),
                       [&](uint32_t, int fd) {
                         if (fd < 0) return;
                         IterDrain(fd, nullptr, 0);
                         ran++;
                       });
  return ok ? Napi::Number::New(env, ran) : env.Undefined();
}

// iterReadIn(linkFd, netnsPaths, maxBytes) -> [Buffer | null]: as iterRunIn,
// and what the iterator wrote (bpf_seq_write) in each namespace, at most
// maxBytes of it (the walk still completes); null where it did not run.
Napi::Value IterReadIn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsArray() || !info[2].IsNumber()) {
    ThrowUsage(env, "iterReadIn(linkFd: number, netnsPaths: string[], maxBytes: number)");
    return env.Undefined();
  }
  auto paths = info[1].As<Napi::Array>();
  double max = info[2].As<Napi::Number>().DoubleValue();
  size_t keep = max > 0 ? static_cast<size_t>(std::min(max, 64.0 * 1024 * 1024)) : 0;
  Napi::Array out = Napi::Array::New(env, paths.Length());
  bool ok = IterEachIn(env, info[0].As<Napi::Number>().Int32Value(), paths, [&](uint32_t i, int fd) {
    if (fd < 0) {
      out.Set(i, env.Null());
      return;
    }
    std::string bytes;
    IterDrain(fd, &bytes, keep);
    out.Set(i, Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size()));
  });
  return ok ? out : env.Undefined();
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

// pidfdOpen(pid) -> a pidfd, or -errno.
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    ThrowUsage(env, "pidfdOpen(pid: number)");
    return env.Undefined();
  }
  long fd = syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0);
  return Napi::Number::New(env, fd < 0 ? -errno : fd);
}

// ownSocket(mapFd, pidfd, targetFd, value) -> 1 when the socket (an IPv4 or
// IPv6 one) got `value` in the socket-storage map mapFd, 0 when it is not an
// inet socket or already has a value, -errno when the fd could not be had.
// The process's fd is duplicated (pidfd_getfd), used as the map key, closed.
Napi::Value OwnSocket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsBuffer()) {
    ThrowUsage(env, "ownSocket(mapFd: number, pidfd: number, targetFd: number, value: Buffer)");
    return env.Undefined();
  }
  int map_fd = info[0].As<Napi::Number>().Int32Value();
  int pidfd = info[1].As<Napi::Number>().Int32Value();
  int target = info[2].As<Napi::Number>().Int32Value();
  auto value = info[3].As<Napi::Buffer<uint8_t>>();
  int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, target, 0));
  if (fd < 0) return Napi::Number::New(env, -errno);
  int domain = 0;
  socklen_t len = sizeof(domain);
  int ret = 0;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
      (domain == AF_INET || domain == AF_INET6)) {
    ret =
        bpf_map_update_elem(map_fd, &fd, value.Data(), BPF_NOEXIST) == 0 ? 1 : (errno == EEXIST ? 0 : -errno);
  }
  close(fd);
  return Napi::Number::New(env, ret);
}

Napi::Value TakeLog(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), TakeLibbpfLog()); }

Napi::Value SetDebug(const Napi::CallbackInfo &info) {
  SetLibbpfDebug(info.Length() > 0 && info[0].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value Version(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

}  // namespace

void InitProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType));
  exports.Set("iterRun", Napi::Function::New(env, IterRun));
  exports.Set("iterRunIn", Napi::Function::New(env, IterRunIn));
  exports.Set("iterReadIn", Napi::Function::New(env, IterReadIn));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("ownSocket", Napi::Function::New(env, OwnSocket));
  exports.Set("listPrograms", Napi::Function::New(env, ListPrograms));
  exports.Set("listLinks", Napi::Function::New(env, ListLinks));
  exports.Set("takeLibbpfLog", Napi::Function::New(env, TakeLog));
  exports.Set("setLibbpfDebug", Napi::Function::New(env, SetDebug));
  exports.Set("libbpfVersion", Napi::Function::New(env, Version));
}

}  // namespace wl
