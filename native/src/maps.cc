#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <string>
#include <unordered_set>
#include <vector>

#include "errors.h"

namespace wl {
namespace {

bool ArgFd(const Napi::CallbackInfo &info, size_t i, int *fd) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  *fd = info[i].As<Napi::Number>().Int32Value();
  return *fd >= 0;
}

// mapLookup(fd, key, valueSize) -> Buffer | null
Napi::Value Lookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd) || !info[1].IsBuffer() || !info[2].IsNumber()) {
    ThrowUsage(env, "mapLookup(fd, key: Buffer, valueSize: number)");
    return env.Undefined();
  }
  auto key = info[1].As<Napi::Buffer<uint8_t>>();
  size_t vsize = info[2].As<Napi::Number>().Uint32Value();
  auto val = Napi::Buffer<uint8_t>::New(env, vsize);
  if (bpf_map_lookup_elem(fd, key.Data(), val.Data())) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "bpf_map_lookup_elem", errno);
    return env.Undefined();
  }
  return val;
}

// mapUpdate(fd, key, value, flags)
Napi::Value Update(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd) || !info[1].IsBuffer() || !info[2].IsBuffer()) {
    ThrowUsage(env, "mapUpdate(fd, key: Buffer, value: Buffer, flags?: number)");
    return env.Undefined();
  }
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int64Value() : 0;
  if (bpf_map_update_elem(fd, info[1].As<Napi::Buffer<uint8_t>>().Data(),
                          info[2].As<Napi::Buffer<uint8_t>>().Data(), flags))
    ThrowErrno(env, "bpf_map_update_elem", errno);
  return env.Undefined();
}

// mapDelete(fd, key) -> boolean (false when absent)
Napi::Value Delete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd) || !info[1].IsBuffer()) {
    ThrowUsage(env, "mapDelete(fd, key: Buffer)");
    return env.Undefined();
  }
  if (bpf_map_delete_elem(fd, info[1].As<Napi::Buffer<uint8_t>>().Data())) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "bpf_map_delete_elem", errno);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, true);
}

// mapDump(fd, keySize, valueSize, max) -> {count, keys: Buffer, values: Buffer}
// One crossing for the whole table: keys and values packed back to back.
Napi::Value Dump(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgFd(info, 0, &fd) || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber()) {
    ThrowUsage(env, "mapDump(fd, keySize, valueSize, max)");
    return env.Undefined();
  }
  size_t ks = info[1].As<Napi::Number>().Uint32Value();
  size_t vs = info[2].As<Napi::Number>().Uint32Value();
  size_t max = info[3].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> keys, vals, cur(ks), next(ks);
  // A key deleted during the walk makes hash maps restart from the first
  // key: remember what was taken so nothing is returned twice.
  std::unordered_set<std::string> seen;
  size_t n = 0, steps = 0;
  const void *prev = nullptr;
  while (n < max && steps++ < 4 * (size_t)max + 1024) {
    if (bpf_map_get_next_key(fd, prev, next.data())) {
      if (errno == ENOENT) break;
      ThrowErrno(env, "bpf_map_get_next_key", errno);
      return env.Undefined();
    }
    cur.swap(next);
    prev = cur.data();
    if (!seen.emplace(reinterpret_cast<const char *>(cur.data()), ks).second) continue;
    size_t vo = vals.size();
    vals.resize(vo + vs);
    if (bpf_map_lookup_elem(fd, cur.data(), vals.data() + vo)) {
      vals.resize(vo);  // deleted under us: skip it
    } else {
      keys.insert(keys.end(), cur.begin(), cur.end());
      n++;
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, n));
  out.Set("keys", Napi::Buffer<uint8_t>::Copy(env, keys.data(), keys.size()));
  out.Set("values", Napi::Buffer<uint8_t>::Copy(env, vals.data(), vals.size()));
  return out;
}

Napi::Value PossibleCpus(const Napi::CallbackInfo &info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) {
    ThrowErrno(info.Env(), "libbpf_num_possible_cpus", n);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapLookup", Napi::Function::New(env, Lookup));
  exports.Set("mapUpdate", Napi::Function::New(env, Update));
  exports.Set("mapDelete", Napi::Function::New(env, Delete));
  exports.Set("mapDump", Napi::Function::New(env, Dump));
  exports.Set("numPossibleCpus", Napi::Function::New(env, PossibleCpus));
}

}  // namespace wl
