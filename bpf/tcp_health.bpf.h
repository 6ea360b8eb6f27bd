/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP health events, part of the tcp_life object (it knows each socket's
 * process): retransmits, resets sent and received, packets the kernel drops
 * (with its reason), and RTT samples. Each kind has a tp_btf program (the
 * cheap hook) and a classic-tracepoint twin (the fallback); user space
 * attaches only the kinds asked for (--events).
 */
#ifndef WL_TCP_HEALTH_BPF_H
#define WL_TCP_HEALTH_BPF_H

/* RTT samples: at most one per socket per this many ns. */
const volatile __u64 wl_rtt_every_ns = 1000000000ULL;

/* Drops by reason since start, counted even when their records are lost or filtered. */
#include "drop_count.bpf.h"

/* When each socket last gave an RTT sample. LRU: bounded. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} wl_rtt_last SEC(".maps");

static __always_inline struct wl_tcp_note *note_reserve(__u8 kind, __u32 reason)
{
	struct wl_tcp_note *n = bpf_ringbuf_reserve(&wl_events, sizeof(*n), 0);

	if (!n) {
		wl_stat_inc(WL_STAT_RB_LOST);
		return 0;
	}
	__builtin_memset(n, 0, sizeof(*n));
	n->hdr.ts_ns = bpf_ktime_get_ns();
	n->hdr.type = WL_EV_TCP_NOTE;
	n->hdr.cpu = bpf_get_smp_processor_id();
	n->kind = kind;
	n->reason = reason;
	return n;
}

/* An event on a TCP socket: its ends, state, figures and (if known) process. */
static __always_inline int note_sock(__u8 kind, const struct sock *sk, __u32 reason, __u16 segs)
{
	__u64 key = (__u64)sk;
	struct sock_info *info;
	struct wl_tcp_note *n;

	if (!(wl_tcp_events & (1 << kind)) || !sk)
		return 0;
	info = bpf_map_lookup_elem(&wl_tcp_socks, &key);
	if (sock_filtered(sk, info)) {
		wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}
	n = note_reserve(kind, reason);
	if (!n)
		return 0;
	wl_fill_sock_id(&n->sock, sk);
	n->has_sock = 1;
	n->segs = segs;
	n->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	fill_health(&n->health, sk);
	if (info && info->has_proc)
		n->proc = info->proc;
	else
		n->hdr.flags = WL_F_PROC_UNKNOWN;
	bpf_ringbuf_submit(n, wl_submit_flags());
	wl_stat_inc(WL_STAT_EMITTED);
	return 0;
}

/*
 * The ends of the packet in skb (IPv4 or IPv6; ports for TCP and UDP). The
 * network header must be set (it is wherever the stack drops or answers).
 */
static __always_inline bool skb_ends(const struct sk_buff *skb, struct wl_sock_id *id, bool reply)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	const struct sock *sk = BPF_CORE_READ(skb, sk);
	__u8 first = 0, proto;
	__u32 l4;
	__u16 ports[2] = {};

	if (nh == (__u16)~0 || bpf_probe_read_kernel(&first, 1, head + nh))
		return false;
	if ((first >> 4) == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return false;
		id->family = AF_INET;
		proto = ip.protocol;
		__builtin_memcpy(reply ? id->daddr : id->saddr, &ip.saddr, 4);
		__builtin_memcpy(reply ? id->saddr : id->daddr, &ip.daddr, 4);
		l4 = nh + (first & 0xf) * 4;
	} else if ((first >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return false;
		id->family = AF_INET6;
		proto = ip6.nexthdr; /* extension headers are not walked */
		__builtin_memcpy(reply ? id->daddr : id->saddr, &ip6.saddr, 16);
		__builtin_memcpy(reply ? id->saddr : id->daddr, &ip6.daddr, 16);
		l4 = nh + sizeof(ip6);
	} else {
		return false;
	}
	id->protocol = proto;
	if ((proto == WL_IPPROTO_TCP || proto == WL_IPPROTO_UDP) &&
	    bpf_probe_read_kernel(ports, sizeof(ports), head + l4) == 0) {
		id->sport = bpf_ntohs(ports[reply ? 1 : 0]);
		id->dport = bpf_ntohs(ports[reply ? 0 : 1]);
	}
	if (dev)
		id->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	else if (sk)
		id->netns = wl_sk_netns(sk);
	return true;
}

/*
 * An event about a packet with no socket of its own. reply: the event is
 * our answer to it (a reset), so its destination is our end.
 */
static __always_inline int note_packet(__u8 kind, const struct sk_buff *skb, __u32 reason, bool reply)
{
	struct wl_tcp_note *n;
	struct wl_sock_id id = {};

	if (!(wl_tcp_events & (1 << kind)))
		return 0;
	/* No process is known for a packet: --pid/--comm exclude it. */
	if (wl_proc_filter_active()) {
		wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}
	if (!skb_ends(skb, &id, reply))
		__builtin_memset(&id, 0, sizeof(id)); /* reported without its ends */
	if (!wl_port_allowed(id.sport, id.dport)) {
		wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}
	n = note_reserve(kind, reason);
	if (!n)
		return 0;
	n->sock = id;
	n->hdr.flags = WL_F_PROC_UNKNOWN;
	bpf_ringbuf_submit(n, wl_submit_flags());
	wl_stat_inc(WL_STAT_EMITTED);
	return 0;
}

static __always_inline int on_drop(const struct sk_buff *skb, __u32 reason)
{
	if (!skb)
		return 0;
	wl_count_drop(reason);
	return note_packet(WL_NOTE_DROP, skb, reason, false);
}

/* A reset sent for a socket, or in answer to a packet that found none. */
static __always_inline int on_send_reset(const struct sock *sk, const struct sk_buff *skb, __u32 reason)
{
	if (sk)
		return note_sock(WL_NOTE_RESET_SENT, sk, reason, 0);
	/* Both may be NULL (tp_btf marks them so): check before any use. */
	if (!skb)
		return 0;
	return note_packet(WL_NOTE_RESET_SENT, skb, reason, true);
}

static __always_inline int on_rtt(const struct sock *sk)
{
	__u64 key = (__u64)sk, now = bpf_ktime_get_ns(), *last;

	last = bpf_map_lookup_elem(&wl_rtt_last, &key);
	if (last) {
		if (now - *last < wl_rtt_every_ns)
			return 0;
		*last = now;
	} else {
		bpf_map_update_elem(&wl_rtt_last, &key, &now, BPF_ANY);
	}
	return note_sock(WL_NOTE_RTT, sk, 0, 0);
}

/*
 * Since 6.13 the tracepoint also fires for attempts that failed (err != 0,
 * e.g. the qdisc pushed back): those retransmitted nothing. Kernels without
 * the err argument refuse to load the first program, and the hook plan
 * takes the second.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(wl_tcp_retrans_err_btf, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (err)
		return 0;
	return note_sock(WL_NOTE_RETRANSMIT, sk, 0, wl_skb_tcp_segs(skb));
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(wl_tcp_retrans_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return note_sock(WL_NOTE_RETRANSMIT, sk, 0, wl_skb_tcp_segs(skb));
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int wl_tcp_retrans_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	if (bpf_core_field_exists(ctx->err) && BPF_CORE_READ(ctx, err))
		return 0;
	return note_sock(WL_NOTE_RETRANSMIT, ctx->skaddr, 0, wl_skb_tcp_segs(ctx->skbaddr));
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(wl_tcp_rst_out_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_send_reset(sk, skb, 0);
}

SEC("tracepoint/tcp/tcp_send_reset")
int wl_tcp_rst_out_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
	return on_send_reset(ctx->skaddr, ctx->skbaddr, 0);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(wl_tcp_rst_in_btf, const struct sock *sk)
{
	return note_sock(WL_NOTE_RESET_RECV, sk, 0, 0);
}

SEC("tracepoint/tcp/tcp_receive_reset")
int wl_tcp_rst_in_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return note_sock(WL_NOTE_RESET_RECV, ctx->skaddr, 0, 0);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(wl_drop_btf, const struct sk_buff *skb, void *location, int reason)
{
	return on_drop(skb, reason);
}

SEC("tracepoint/skb/kfree_skb")
int wl_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	/* Before 5.17 the tracepoint had no reason: NOT_SPECIFIED (2) then. */
	return on_drop(ctx->skbaddr, bpf_core_field_exists(ctx->reason) ? BPF_CORE_READ(ctx, reason)
									: WL_DROP_NOT_SPECIFIED);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(wl_tcp_rtt_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_rtt(sk);
}

SEC("tracepoint/tcp/tcp_probe")
int wl_tcp_rtt_tp(struct trace_event_raw_tcp_probe *ctx)
{
	return on_rtt(ctx->skaddr);
}

#endif /* WL_TCP_HEALTH_BPF_H */
