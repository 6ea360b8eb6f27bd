// Classic TC (clsact) bookkeeping that bpf_link cannot do: list the filters
// on a clsact hook (netlink), detach one filter, remove a clsact qdisc.
// Whether to remove anything is src/'s policy; these only do what is asked.
#pragma once
#include <napi.h>

namespace wl {
void InitTc(Napi::Env env, Napi::Object exports);
}
