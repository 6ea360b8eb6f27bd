/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every wirelens BPF object shares: the event ring buffer, the per-CPU
 * counters, process filters set in .rodata before load, and helpers that
 * fill the common parts of a record.
 */
#ifndef WL_COMMON_BPF_H
#define WL_COMMON_BPF_H

#include "events.h"
#include "core_fixes.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#define WL_IPPROTO_TCP 6
#define WL_IPPROTO_UDP 17

/* Sized by user space (set_max_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} wl_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wl_stats SEC(".maps");

/*
 * Wake the consumer only once this much is waiting: waking it per record
 * costs a context switch each at high rates. User space also drains on a
 * short timer, so a quiet ring is delivered promptly anyway. 0: always wake.
 */
const volatile __u32 wl_wakeup_bytes = 0;

static __always_inline __u64 wl_submit_flags(void)
{
	if (wl_wakeup_bytes == 0)
		return 0;
	if (bpf_ringbuf_query(&wl_events, BPF_RB_AVAIL_DATA) >= wl_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Filters, off by default; set from TypeScript between open and load. */
const volatile __u32 wl_filter_pid_n = 0;
const volatile __u32 wl_filter_pids[WL_MAX_FILTER] = {};
const volatile __u32 wl_filter_comm_set = 0;
const volatile char wl_filter_comm[WL_COMM_LEN] = {};
const volatile __u32 wl_filter_port_n = 0;
const volatile __u16 wl_filter_ports[WL_MAX_FILTER] = {};

/* Adds one to slot of a per-CPU u64 array of counters. */
static __always_inline void wl_count(void *counters, __u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(counters, &slot);

	if (v)
		*v += 1;
}

static __always_inline void wl_stat_inc(__u32 slot)
{
	wl_count(&wl_stats, slot);
}

static __always_inline void wl_fill_proc(struct wl_proc *p)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->uid = (__u32)uid_gid;
	p->gid = uid_gid >> 32;
	p->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(p->comm, sizeof(p->comm));
}

static __always_inline bool wl_proc_filter_active(void)
{
	return wl_filter_pid_n > 0 || wl_filter_comm_set;
}

/* True when the process passes --pid / --comm (or none is set). */
static __always_inline bool wl_proc_allowed(const struct wl_proc *p)
{
	if (wl_filter_pid_n > 0) {
		bool hit = false;
#pragma unroll
		for (int i = 0; i < WL_MAX_FILTER; i++) {
			if (i < wl_filter_pid_n && wl_filter_pids[i] == p->pid)
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (wl_filter_comm_set) {
#pragma unroll
		for (int i = 0; i < WL_COMM_LEN; i++) {
			if (p->comm[i] != wl_filter_comm[i])
				return false;
			if (p->comm[i] == 0)
				break;
		}
	}
	return true;
}

/* True when either port matches --port (or none is set). */
static __always_inline bool wl_port_allowed(__u16 sport, __u16 dport)
{
	if (wl_filter_port_n == 0)
		return true;
#pragma unroll
	for (int i = 0; i < WL_MAX_FILTER; i++) {
		if (i < wl_filter_port_n && (wl_filter_ports[i] == sport || wl_filter_ports[i] == dport))
			return true;
	}
	return false;
}

/* True when either end's port passes --port (or none is set). */
static __always_inline bool wl_sock_ports_allowed(const struct sock *sk)
{
	if (wl_filter_port_n == 0)
		return true; /* no socket reads when there is no --port */
	return wl_port_allowed(wl_sk_sport(sk), bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)));
}

/*
 * A pointer's value as a plain number. BTF-typed (trusted) pointers may be
 * compared and used as map keys but not combined arithmetically.
 */
static __always_inline __u64 wl_ptr_id(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/* Segments in a TCP packet (tcp_skb_pcount): the skb's control block. */
static __always_inline __u16 wl_skb_tcp_segs(const struct sk_buff *skb)
{
	__u16 segs = 1;

	bpf_probe_read_kernel(&segs, sizeof(segs),
			      (void *)(wl_ptr_id(skb) + bpf_core_field_offset(struct sk_buff, cb) +
				       bpf_core_field_offset(struct tcp_skb_cb, tcp_gso_segs)));
	return segs ? segs : 1;
}

/* Local end in saddr/sport, remote end in daddr/dport. Every byte is
 * written (padding and the unused end of IPv4 addresses too): ring records
 * are not zeroed and must not carry earlier records' bytes. */
static __always_inline void wl_fill_sock_id(struct wl_sock_id *id, const struct sock *sk)
{
	__builtin_memset(id, 0, sizeof(*id));
	id->netns = wl_sk_netns(sk);
	id->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	id->protocol = wl_sk_protocol(sk);
	id->sport = wl_sk_sport(sk);
	id->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (id->family == AF_INET6 && wl_has_ipv6_fields(sk)) {
		bpf_core_read(id->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(id->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		bpf_core_read(id->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(id->daddr, 4, &sk->__sk_common.skc_daddr);
	}
}

#endif /* WL_COMMON_BPF_H */
