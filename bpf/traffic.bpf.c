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
#include "ip_header.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const struct wl_top_proc *const wl_btf_top_proc = 0;
const struct wl_top_addr *const wl_btf_top_addr = 0;
const struct wl_top_ifcfg *const wl_btf_top_ifcfg = 0;

/* 1: the socket hooks also count per remote/port/protocol (no -i given). */
const volatile __u32 wl_top_sock_views = 1;

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
	struct wl_ip ip;
	__u8 syn;	/* TCP SYN without ACK: a connection attempt */
	__u8 idx;	/* enum wl_top_proto */
	__u8 has_ports; /* TCP/UDP with its ports read (not a later fragment) */
	__u8 _pad;
	__u16 sport;
	__u16 dport;
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
	if (!wl_ip_header(skb, off, l3proto, &p->ip))
		return false;
	l4 = p->ip.l4;
	if (!p->ip.later_fragment && (p->ip.proto == WL_IPPROTO_TCP || p->ip.proto == WL_IPPROTO_UDP)) {
		__u16 ports[2];

		if (!bpf_skb_load_bytes(skb, l4, ports, sizeof(ports))) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
			p->has_ports = 1;
		}
		if (p->ip.proto == WL_IPPROTO_TCP) {
			__u8 flags;

			if (!bpf_skb_load_bytes(skb, l4 + 13, &flags, 1))
				p->syn = (flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
		}
	}
	p->idx = proto_idx(p->ip.proto);
	return true;
}

/* Remote address, local port and protocol of one packet. */
static __always_inline void count_views(const struct pkt *p, bool egress, __u32 bytes, __u32 pkts)
{
	struct wl_top_addr a = {.family = p->ip.family};
	struct wl_top_counts *c;
	__u32 key = p->idx;

	c = bpf_map_lookup_elem(&wl_top_protos, &key);
	if (c)
		add(c, egress, bytes, pkts, p->syn);
	__builtin_memcpy(a.addr, egress ? p->ip.daddr : p->ip.saddr, 16);
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

/* cgroup_skb: a packet with no full socket (request and timewait sockets), or no storage: counted as it passes. */
static __always_inline int count_packet(struct __sk_buff *skb, struct bpf_sock *sk, bool egress)
{
	struct sk_owner *o = 0;
	struct wl_top_proc *proc;
	__u32 bytes = skb->len, pkts = skb_pkts(skb);
	struct pkt p;
	bool parsed = parse_ip(skb, 0, skb->protocol, &p);

	if (sk)
		o = bpf_sk_storage_get(&wl_owners, sk, 0, 0);
	proc = proc_at(o ? o->tgid : 0, o);
	if (proc)
		add(&proc->c, egress, bytes, pkts, parsed ? p.syn : 0);
	if (parsed && wl_top_sock_views)
		count_views(&p, egress, bytes, pkts);
	return 1; /* allow */
}

/*
 * A socket's counts not yet added to the tables. The packet path only adds
 * to these (two atomic adds: no table lookup per packet); they are moved to
 * the tables by the iterator user space runs before each read, when the
 * socket is released, and when a TCP socket reaches CLOSE. The socket's
 * peer, local port and protocol are noted once.
 */
struct top_sock {
	__u64 rx_bytes;
	__u64 rx_pkts;
	__u64 tx_bytes;
	__u64 tx_pkts;
	__u64 conns;
	__u64 flushed_ns;	   /* when the packet path last moved them (self-flush mode) */
	struct wl_top_addr remote; /* family 0: not connected (each packet's peer is counted as it passes) */
	__u32 port_key;		   /* wl_top_ports key, 0: none */
	__u8 idx;		   /* enum wl_top_proto */
	__u8 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct top_sock);
} wl_top_socks SEC(".maps");

/*
 * Set by user space once what moves per-socket counts is attached:
 * [0] = 1: per-socket counts (0: every packet to the tables as it passes).
 * [1] = N: the packet path also moves a socket's counts when N ms have passed
 *     since it last did (when only TCP/UDP sockets can be iterated, namespace
 *     by namespace: the socket-storage iterator is refused); 0: never.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} wl_top_mode SEC(".maps");

static __always_inline void key_sock(struct top_sock *ts, struct bpf_sock *sk)
{
	__u32 proto = sk->protocol, a[4];

	ts->idx = proto_idx(proto);
	if (proto == WL_IPPROTO_TCP || proto == WL_IPPROTO_UDP)
		ts->port_key = ((__u32)ts->idx << 16) | (sk->src_port & 0xffff);
	if (sk->family == AF_INET) {
		a[0] = sk->dst_ip4;
		if (!a[0])
			return;
		ts->remote.family = AF_INET;
		__builtin_memcpy(ts->remote.addr, a, 4);
		return;
	}
	a[0] = sk->dst_ip6[0];
	a[1] = sk->dst_ip6[1];
	a[2] = sk->dst_ip6[2];
	a[3] = sk->dst_ip6[3];
	if (!(a[0] | a[1] | a[2] | a[3]))
		return;
	if (!a[0] && !a[1] && a[2] == bpf_htonl(0xffff)) {
		/* v4-mapped: its packets are IPv4 */
		ts->remote.family = AF_INET;
		__builtin_memcpy(ts->remote.addr, &a[3], 4);
		return;
	}
	ts->remote.family = AF_INET6;
	__builtin_memcpy(ts->remote.addr, a, 16);
}

static __always_inline void sum(struct wl_top_counts *c, const struct wl_top_counts *d)
{
	c->rx_bytes += d->rx_bytes;
	c->rx_pkts += d->rx_pkts;
	c->tx_bytes += d->tx_bytes;
	c->tx_pkts += d->tx_pkts;
	c->conns += d->conns;
}

/* Moves a socket's pending counts to the tables, for its process of now. */
static __always_inline void flush(struct top_sock *ts, struct sk_owner *o)
{
	struct wl_top_counts d = {};
	struct wl_top_counts *c;
	struct wl_top_proc *proc;
	__u32 key;

	d.rx_pkts = __sync_lock_test_and_set(&ts->rx_pkts, 0);
	d.tx_pkts = __sync_lock_test_and_set(&ts->tx_pkts, 0);
	d.conns = __sync_lock_test_and_set(&ts->conns, 0);
	if (!(d.rx_pkts | d.tx_pkts | d.conns))
		return;
	d.rx_bytes = __sync_lock_test_and_set(&ts->rx_bytes, 0);
	d.tx_bytes = __sync_lock_test_and_set(&ts->tx_bytes, 0);
	proc = proc_at(o ? o->tgid : 0, o);
	if (proc)
		sum(&proc->c, &d);
	if (!wl_top_sock_views)
		return;
	key = ts->idx;
	c = bpf_map_lookup_elem(&wl_top_protos, &key);
	if (c)
		sum(c, &d);
	if (ts->remote.family) {
		struct wl_top_addr a = ts->remote;

		c = counts_at(&wl_top_remotes, &a);
		if (c)
			sum(c, &d);
	}
	if (ts->port_key) {
		key = ts->port_key;
		c = counts_at(&wl_top_ports, &key);
		if (c)
			sum(c, &d);
	}
}

/* Self-flush mode: a socket's counts are moved by its own packets, at most every wl_top_mode[1] ms. */
static __always_inline void self_flush(struct top_sock *ts, struct bpf_sock *sk)
{
	__u32 one = 1, *every_ms = bpf_map_lookup_elem(&wl_top_mode, &one);
	__u64 now;

	if (!every_ms || !*every_ms)
		return;
	now = bpf_ktime_get_coarse_ns();
	if (now - ts->flushed_ns < (__u64)*every_ms * 1000000)
		return;
	ts->flushed_ns = now;
	flush(ts, bpf_sk_storage_get(&wl_owners, sk, 0, 0));
}

static __always_inline int on_sock_skb(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;
	struct top_sock *ts = 0;
	struct pkt p;
	bool syn_check, peer_each;
	__u32 bytes = skb->len, pkts = skb_pkts(skb), zero = 0;
	__u32 *per_socket = bpf_map_lookup_elem(&wl_top_mode, &zero);

	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!per_socket || !*per_socket)
		return count_packet(skb, sk, egress);
	if (sk)
		ts = bpf_sk_storage_get(&wl_top_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!ts)
		return count_packet(skb, sk, egress);
	if (!ts->remote.family) /* not keyed yet, or not connected (yet) */
		key_sock(ts, sk);
	if (egress) {
		__sync_fetch_and_add(&ts->tx_bytes, bytes);
		__sync_fetch_and_add(&ts->tx_pkts, pkts);
	} else {
		__sync_fetch_and_add(&ts->rx_bytes, bytes);
		__sync_fetch_and_add(&ts->rx_pkts, pkts);
	}
	self_flush(ts, sk);
	/* Only a connecting socket sends, and only a listener receives, a connection's first SYN. */
	syn_check = ts->idx == WL_TOP_TCP && (egress ? sk->state == TCP_SYN_SENT : sk->state == TCP_LISTEN);
	/* Not connected: each packet's peer is counted as it passes. */
	peer_each = wl_top_sock_views && !ts->remote.family;
	if ((syn_check || peer_each) && parse_ip(skb, 0, skb->protocol, &p)) {
		if (syn_check && p.syn)
			__sync_fetch_and_add(&ts->conns, 1);
		if (peer_each) {
			struct wl_top_addr a = {.family = p.ip.family};
			struct wl_top_counts *c;

			__builtin_memcpy(a.addr, egress ? p.ip.daddr : p.ip.saddr, 16);
			c = counts_at(&wl_top_remotes, &a);
			if (c)
				add(c, egress, bytes, pkts, 0);
		}
	}
	return 1; /* allow */
}

/* User space runs this over every socket's storage before it reads the tables. */
SEC("iter/bpf_sk_storage_map")
int wl_top_flush_iter(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sock *sk = ctx->sk;
	struct top_sock *ts = ctx->value;

	if (!sk || !ts)
		return 0;
	flush(ts, bpf_sk_storage_get(&wl_owners, sk, 0, 0));
	return 0;
}

/*
 * Where the socket-storage iterator is refused: TCP and UDP sockets, iterated
 * before each read in every network namespace user space finds (an iterator
 * walks the namespace it is created in); a socket none of those walks finds
 * moves its counts by itself (self_flush) and at release and close.
 */
SEC("iter/tcp")
int wl_top_flush_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;
	struct top_sock *ts;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	ts = bpf_sk_storage_get(&wl_top_socks, tp, 0, 0);
	if (ts)
		flush(ts, bpf_sk_storage_get(&wl_owners, tp, 0, 0));
	return 0;
}

SEC("iter/udp")
int wl_top_flush_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct top_sock *ts;

	if (!udp)
		return 0;
	ts = bpf_sk_storage_get(&wl_top_socks, udp, 0, 0);
	if (ts)
		flush(ts, bpf_sk_storage_get(&wl_owners, udp, 0, 0));
	return 0;
}

/* Closed by its process: what it counted so far. */
SEC("cgroup/sock_release")
int wl_top_release(struct bpf_sock *sk)
{
	struct top_sock *ts = bpf_sk_storage_get(&wl_top_socks, sk, 0, 0);

	if (ts)
		flush(ts, bpf_sk_storage_get(&wl_owners, sk, 0, 0));
	return 1;
}

/* A TCP socket at CLOSE: the packets after its process closed it (FIN, last ACKs). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wl_top_close_btf, struct sock *sk, int oldstate, int newstate)
{
	struct top_sock *ts;

	if (newstate != TCP_CLOSE || !sk)
		return 0;
	ts = bpf_sk_storage_get(&wl_top_socks, sk, 0, 0);
	if (ts)
		flush(ts, bpf_sk_storage_get(&wl_owners, sk, 0, 0));
	return 0;
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
	wl_count_drop(bpf_core_field_exists(ctx->reason) ? BPF_CORE_READ(ctx, reason)
							 : WL_DROP_NOT_SPECIFIED);
	return 0;
}
