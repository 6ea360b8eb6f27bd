/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel structure drift, one helper per change, so programs stay CO-RE.
 */
#ifndef WL_CORE_FIXES_H
#define WL_CORE_FIXES_H

#include <bpf/bpf_core_read.h>

/*
 * sock.sk_protocol was an 8-bit bitfield until v5.6 (commit bf9765145b85
 * "sock: Make sk_protocol a 16-bit value"); the probed bitfield read handles
 * both layouts.
 */
static __always_inline __u16 wl_sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* possible_net_t holds `net` only with CONFIG_NET_NS; without it there is one netns. */
static __always_inline __u32 wl_sk_netns(const struct sock *sk)
{
	if (bpf_core_field_exists(sk->__sk_common.skc_net.net))
		return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return 0;
}

/*
 * Local port. skc_num (inet_num) is zeroed when the socket leaves the bind
 * hash, which happens before inet_sock_set_state(TCP_CLOSE) fires; inet_sport
 * (network order) survives. Both are 0 before the port is chosen.
 */
static __always_inline __u16 wl_sk_sport(const struct sock *sk)
{
	__u16 sport = BPF_CORE_READ((const struct inet_sock *)sk, inet_sport);

	if (sport)
		return bpf_ntohs(sport);
	return BPF_CORE_READ(sk, __sk_common.skc_num);
}

/*
 * Payload bytes each way, without the sequence numbers SYN and FIN use.
 * tx: bytes_sent - bytes_retrans (both data-only, v4.19 commit ba113c3aa79a;
 * older kernels fall back to bytes_acked, which counts SYN and FIN).
 * rx: bytes_received also counts the peer's FIN once it arrives; tcp_fin()
 * marks that with SOCK_DONE (sk_flags), which nothing else sets on a TCP
 * socket (RCV_SHUTDOWN would not do: close() and shutdown() set it too).
 */
static __always_inline __u64 wl_tcp_tx_payload(const struct tcp_sock *tp)
{
	if (bpf_core_field_exists(tp->bytes_sent))
		return BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	return BPF_CORE_READ(tp, bytes_acked);
}

/* Older kernels keep the flags in struct sock itself (sk_flags). */
struct sock___old_flags {
	unsigned long sk_flags;
} __attribute__((preserve_access_index));

static __always_inline unsigned long wl_sk_flags(const struct sock *sk)
{
	if (bpf_core_field_exists(sk->__sk_common.skc_flags))
		return BPF_CORE_READ(sk, __sk_common.skc_flags);
	return BPF_CORE_READ((const struct sock___old_flags *)sk, sk_flags);
}

static __always_inline __u64 wl_tcp_rx_payload(const struct tcp_sock *tp)
{
	const struct sock *sk = (const struct sock *)tp;
	__u64 rx = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = wl_sk_flags(sk);
	int done = bpf_core_enum_value(enum sock_flags, SOCK_DONE);

	if (((flags >> done) & 1) && rx > 0)
		rx -= 1;
	return rx;
}

/* Kernels built without IPv6 have no skc_v6_* fields. */
static __always_inline bool wl_has_ipv6_fields(const struct sock *sk)
{
	return bpf_core_field_exists(sk->__sk_common.skc_v6_daddr);
}

#endif /* WL_CORE_FIXES_H */
