// SPDX-License-Identifier: Apache-2.0
/*
 * wirelens top: traffic counted in the kernel, in per-CPU maps that user
 * space reads once per interval. No record per packet.
 *
 * - cgroup_skb ingress/egress on the root cgroup: every packet of every
 *   socket on the host (all network namespaces), counted for the socket's
 *   process, and (without -i) per remote address, local port and protocol.
 * - The process of a socket lives in socket storage: written at socket()
 *   (cgroup/sock_create, in the caller's context), copied to accepted
 *   sockets from their listener (BPF_F_CLONE), and moved to whichever process
 *   reads or writes it later (sock_recv_length/sock_send_length).
 * - TC ingress/egress on the interfaces of -i: every frame there, with or
 *   without a process (ICMP answered by the kernel, forwarded packets), per
 *   interface, remote address, local port and protocol.
 * - TCP retransmits per process/remote/port; drops per kernel reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "drop_count.bpf.h"
#include "sk_owner.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const struct wl_top_proc *const wl_btf_top_proc = 0;
const struct wl_top_addr *const wl_btf_top_addr = 0;
const struct wl_top_ifcfg *const wl_btf_top_ifcfg = 0;

/* 1: the socket hooks also count per remote/port/protocol (no -i given). */
const volatile __u32 wl_top_sock_views = 1;

#define ETH_P_IP_BE bpf_htons(0x0800)
#define ETH_P_IPV6_BE bpf_htons(0x86DD)
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/* Sizes are set by user space (--max-entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct wl_top_proc);
} wl_top_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct wl_top_addr);
	__type(value, struct wl_top_counts);
} wl_top_remotes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct wl_top_counts);
} wl_top_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_TOP_PROTO_MAX);
	__type(key, __u32);
	__type(value, struct wl_top_counts);
} wl_top_protos SEC(".maps");

/* Per interface of -i (key: ifindex); wl_top_ifcfg says how to parse its frames. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct wl_top_counts);
} wl_top_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct wl_top_ifcfg);
} wl_top_ifcfg SEC(".maps");

/* One packet's facts, from its IP header. */
struct pkt {
	__u8 family;
	__u8 proto; /* IPPROTO_* */
	__u8 syn; /* TCP SYN without ACK: a connection attempt */
	__u8 idx; /* enum wl_top_proto */
	__u8 has_ports; /* TCP/UDP with its ports read (not a later fragment) */
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline void add(struct wl_top_counts *c, bool egress, __u32 bytes, __u32 pkts, __u8 syn)
{
	if (egress) {
		c->tx_bytes += bytes;
		c->tx_pkts += pkts;
	} else {
		c->rx_bytes += bytes;
		c->rx_pkts += pkts;
	}
	c->conns += syn;
}

/* The counters under key in a per-CPU hash, made zero first if missing (NULL if the map refused). */
static __always_inline struct wl_top_counts *counts_at(void *map, const void *key)
{
	struct wl_top_counts zero = {}, *c = bpf_map_lookup_elem(map, key);

	if (c)
		return c;
	bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct wl_top_proc *proc_at(__u32 tgid, const struct sk_owner *o)
{
	struct wl_top_proc zero = {}, *p = bpf_map_lookup_elem(&wl_top_procs, &tgid);

	if (p)
		return p;
	if (o) {
		zero.uid = o->uid;
		__builtin_memcpy(zero.comm, o->comm, sizeof(zero.comm));
	}
	bpf_map_update_elem(&wl_top_procs, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&wl_top_procs, &tgid);
}

static __always_inline __u8 proto_idx(__u8 proto)
{
	switch (proto) {
	case WL_IPPROTO_TCP:
		return WL_TOP_TCP;
	case WL_IPPROTO_UDP:
		return WL_TOP_UDP;
	case 1:
		return WL_TOP_ICMP;
	case 58:
		return WL_TOP_ICMPV6;
	default:
		return WL_TOP_OTHER;
	}
}

/* Reads the IP header at off (and TCP/UDP ports). False: not IP, or cut short. */
static __always_inline bool parse_ip(struct __sk_buff *skb, __u32 off, __u16 l3proto, struct pkt *p)
{
	__u32 l4;

	__builtin_memset(p, 0, sizeof(*p));
	if (l3proto == ETH_P_IP_BE) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
			return false;
		p->family = AF_INET;
		p->proto = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		if (ip.frag_off & bpf_htons(0x1fff)) /* a later fragment: no ports */
			goto done;
		l4 = off + ip.ihl * 4;
	} else if (l3proto == ETH_P_IPV6_BE) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
			return false;
		p->family = AF_INET6;
		p->proto = ip6.nexthdr; /* extension headers count as "other" */
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		l4 = off + sizeof(ip6);
	} else {
		return false;
	}
	if (p->proto == WL_IPPROTO_TCP || p->proto == WL_IPPROTO_UDP) {
		__u16 ports[2];

		if (!bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
			p->has_ports = 1;
		}
		if (p->proto == WL_IPPROTO_TCP) {
			__u8 flags;

			if (!bpf_skb_load_bytes(skb, l4 + 13, &flags, 1))
				p->syn = (flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
		}
	}
done:
	p->idx = proto_idx(p->proto);
	return true;
}

/* Remote address, local port and protocol of one packet. */
static __always_inline void count_views(const struct pkt *p, bool egress, __u32 bytes, __u32 pkts)
{
	struct wl_top_addr a = { .family = p->family };
	struct wl_top_counts *c;
	__u32 key = p->idx;

	c = bpf_map_lookup_elem(&wl_top_protos, &key);
	if (c)
		add(c, egress, bytes, pkts, p->syn);
	__builtin_memcpy(a.addr, egress ? p->daddr : p->saddr, 16);
	c = counts_at(&wl_top_remotes, &a);
	if (c)
		add(c, egress, bytes, pkts, p->syn);
	if (p->has_ports) {
		key = ((__u32)p->idx << 16) | (egress ? p->sport : p->dport);
		c = counts_at(&wl_top_ports, &key);
		if (c)
			add(c, egress, bytes, pkts, p->syn);
	}
}

static __always_inline __u32 skb_pkts(struct __sk_buff *skb)
{
	return skb->gso_segs > 1 ? skb->gso_segs : 1;
}

/* cgroup_skb: skb->data is the IP header; skb->len the IP packet. */
static __always_inline int on_sock_skb(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;
	struct sk_owner *o = 0;
	struct wl_top_proc *proc;
	__u32 bytes = skb->len, pkts = skb_pkts(skb), tgid = 0;
	struct pkt p;
	bool parsed = parse_ip(skb, 0, skb->protocol, &p);

	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (sk)
		o = bpf_sk_storage_get(&wl_owners, sk, 0, 0);
	if (o)
		tgid = o->tgid;
	proc = proc_at(tgid, o);
	if (proc)
		add(&proc->c, egress, bytes, pkts, parsed ? p.syn : 0);
	if (parsed && wl_top_sock_views)
		count_views(&p, egress, bytes, pkts);
	return 1; /* allow */
}

SEC("cgroup_skb/ingress")
int wl_top_sock_in(struct __sk_buff *skb)
{
	return on_sock_skb(skb, false);
}

SEC("cgroup_skb/egress")
int wl_top_sock_out(struct __sk_buff *skb)
{
	return on_sock_skb(skb, true);
}

/* TC: frames of the hooked interfaces, with their link-layer header. */
static __always_inline int on_tc(struct __sk_buff *skb, bool egress)
{
	__u32 ifindex = skb->ifindex, bytes = skb->len, pkts = skb_pkts(skb);
	struct wl_top_ifcfg *cfg = bpf_map_lookup_elem(&wl_top_ifcfg, &ifindex);
	struct wl_top_counts *c;
	struct pkt p;
	bool parsed;

	if (!cfg)
		return -1; /* TC_ACT_UNSPEC: not ours to judge */
	parsed = parse_ip(skb, cfg->l2_len, skb->protocol, &p);
	c = counts_at(&wl_top_ifaces, &ifindex);
	if (c)
		add(c, egress, bytes, pkts, parsed ? p.syn : 0);
	if (parsed) {
		count_views(&p, egress, bytes, pkts);
	} else {
		__u32 key = WL_TOP_OTHER;

		c = bpf_map_lookup_elem(&wl_top_protos, &key);
		if (c)
			add(c, egress, bytes, pkts, 0);
	}
	return -1;
}

SEC("tc")
int wl_top_tc_in(struct __sk_buff *skb)
{
	return on_tc(skb, false);
}

SEC("tc")
int wl_top_tc_out(struct __sk_buff *skb)
{
	return on_tc(skb, true);
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

/* Retransmitted segments, counted for the socket's process, peer, port. */
static __always_inline int on_retrans(const struct sock *sk, __u16 segs, bool have_owner)
{
	struct wl_top_addr a = {};
	struct sk_owner *o = 0;
	struct wl_top_counts *c;
	struct wl_top_proc *proc;
	__u32 key = WL_TOP_TCP;

	if (!sk)
		return 0;
	if (have_owner)
		o = bpf_sk_storage_get(&wl_owners, (struct sock *)sk, 0, 0);
	proc = proc_at(o ? o->tgid : 0, o);
	if (proc)
		proc->c.retrans += segs;
	c = bpf_map_lookup_elem(&wl_top_protos, &key);
	if (c)
		c->retrans += segs;
	/* With -i, the remote and port views are the interfaces' packets: leave them be. */
	if (!wl_top_sock_views)
		return 0;
	a.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (a.family == AF_INET6 && wl_has_ipv6_fields(sk))
		bpf_core_read(a.addr, 16, &sk->__sk_common.skc_v6_daddr);
	else
		bpf_core_read(a.addr, 4, &sk->__sk_common.skc_daddr);
	if (a.family == AF_INET6 && is_v4_mapped(a.addr)) {
		/* Its packets are IPv4: key it as they are. */
		a.family = AF_INET;
		__builtin_memmove(a.addr, a.addr + 12, 4);
		__builtin_memset(a.addr + 4, 0, 12);
	}
	c = counts_at(&wl_top_remotes, &a);
	if (c)
		c->retrans += segs;
	key = ((__u32)WL_TOP_TCP << 16) | wl_sk_sport(sk);
	c = counts_at(&wl_top_ports, &key);
	if (c)
		c->retrans += segs;
	return 0;
}

/* Linux 6.13+ reports failed attempts too (err != 0): not retransmitted, not counted. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(wl_top_retrans_err_btf, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err || !skb)
		return 0;
	return on_retrans(sk, wl_skb_tcp_segs(skb), true);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(wl_top_retrans_btf, const struct sock *sk, const struct sk_buff *skb)
{
	if (!skb)
		return 0;
	return on_retrans(sk, wl_skb_tcp_segs(skb), true);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int wl_top_retrans_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	if (bpf_core_field_exists(ctx->err) && BPF_CORE_READ(ctx, err))
		return 0;
	/* No BTF-typed socket here: no socket storage, so no process. */
	return on_retrans(ctx->skaddr, wl_skb_tcp_segs(ctx->skbaddr), false);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(wl_top_drop_btf, const struct sk_buff *skb, void *location, int reason)
{
	wl_count_drop(reason);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int wl_top_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	wl_count_drop(bpf_core_field_exists(ctx->reason) ? BPF_CORE_READ(ctx, reason) : WL_DROP_NOT_SPECIFIED);
	return 0;
}
