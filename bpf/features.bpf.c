// SPDX-License-Identifier: Apache-2.0
/*
 * One trivial program per hook kind. src/kernel/features loads and attaches
 * each alone ("?" keeps them off until asked) to learn what this kernel
 * really supports: probing by trying, never by version.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("?kprobe/tcp_sendmsg")
int wl_probe_kprobe(void *ctx)
{
	return 0;
}

SEC("?fentry/tcp_sendmsg")
int wl_probe_fentry(void *ctx)
{
	return 0;
}

SEC("?tp_btf/inet_sock_set_state")
int wl_probe_tp_btf(void *ctx)
{
	return 0;
}

SEC("?raw_tp/inet_sock_set_state")
int wl_probe_raw_tp(void *ctx)
{
	return 0;
}

SEC("?tracepoint/sock/inet_sock_set_state")
int wl_probe_tracepoint(void *ctx)
{
	return 0;
}

SEC("?tracepoint/syscalls/sys_exit_accept4")
int wl_probe_syscall_tp(void *ctx)
{
	return 0;
}

SEC("?uprobe")
int wl_probe_uprobe(void *ctx)
{
	return 0;
}

SEC("?tc")
int wl_probe_tc(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

SEC("?xdp")
int wl_probe_xdp(struct xdp_md *ctx)
{
	return 2; /* XDP_PASS */
}

SEC("?cgroup_skb/egress")
int wl_probe_cgroup(struct __sk_buff *skb)
{
	return 1; /* allow */
}

SEC("?iter/bpf_map")
int wl_probe_iter(struct bpf_iter__bpf_map *ctx)
{
	return 0;
}
