/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IP header of a packet in a cgroup_skb or TC program: family, L4
 * protocol, both addresses and where the L4 header starts. Shared by the
 * traffic counters and the payload capture.
 */
#ifndef WL_IP_HEADER_BPF_H
#define WL_IP_HEADER_BPF_H

#define WL_ETH_P_IP_BE bpf_htons(0x0800)
#define WL_ETH_P_IPV6_BE bpf_htons(0x86DD)

struct wl_ip {
	__u8 family;	     /* AF_INET or AF_INET6 */
	__u8 proto;	     /* IPPROTO_*; IPv6: the first next header (extension headers are not followed) */
	__u8 later_fragment; /* an IPv4 fragment after the first: no L4 header */
	__u8 _pad;
	__u32 l4;	/* offset of the L4 header */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

/* Reads the IP header at off (l3proto: skb->protocol). False: not IP, or cut short. The caller zeroes ip. */
static __always_inline bool wl_ip_header(struct __sk_buff *skb, __u32 off, __u32 l3proto, struct wl_ip *ip)
{
	if (l3proto == WL_ETH_P_IP_BE) {
		struct iphdr h;

		if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)))
			return false;
		ip->family = AF_INET;
		ip->proto = h.protocol;
		__builtin_memcpy(ip->saddr, &h.saddr, 4);
		__builtin_memcpy(ip->daddr, &h.daddr, 4);
		ip->later_fragment = (h.frag_off & bpf_htons(0x1fff)) != 0;
		ip->l4 = off + h.ihl * 4;
		return true;
	}
	if (l3proto == WL_ETH_P_IPV6_BE) {
		struct ipv6hdr h;

		if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)))
			return false;
		ip->family = AF_INET6;
		ip->proto = h.nexthdr;
		__builtin_memcpy(ip->saddr, &h.saddr, 16);
		__builtin_memcpy(ip->daddr, &h.daddr, 16);
		ip->l4 = off + sizeof(h);
		return true;
	}
	return false;
}

#endif /* WL_IP_HEADER_BPF_H */
