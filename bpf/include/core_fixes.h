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

#endif /* WL_CORE_FIXES_H */
