// SPDX-License-Identifier: Apache-2.0
/*
 * wirelens capture: packets copied to user space, filtered in the kernel.
 *
 * Hooks: cgroup_skb ingress/egress on the root cgroup (every packet of
 * every local socket, from the IP header, with the socket's process from
 * socket storage, sk_owner.bpf.h) and TC ingress/egress on interfaces
 * (every frame, from the link-layer header).
 *
 * Each hook's entry program applies the process filters (--pid, --comm,
 * --uid, --cgroup) and tail-calls slot 0 of its direction's prog array: the pcap
 * filter expression compiled by user space (libpcap's classic program
 * translated to eBPF, src/filter/), which on a match tail-calls slot 1,
 * the emit program here; without an expression slot 0 holds the emit
 * program itself. A tail call never returns, so every program on the way
 * returns the pass verdict itself, on every path: capture never changes a
 * packet's fate.
 *
 * TC on interfaces with different link-layer headers (Ethernet and raw IP
 * devices such as tun: written as LINUX_SLL2, as tcpdump -i any does): the
 * expression is compiled once for SLL2 and translated once per header kind
 * (the SLL2 header synthesised from the skb, the packet's own bytes after
 * it); wl_cap_ifs gives each interface its filter's slot, its header length
 * and its frame snap length.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "sk_owner.bpf.h"
#include "ip_header.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps the record type and its enums in the object's BTF, where the layout test reads them. */
const struct wl_cap_event *const wl_btf_cap_event = 0;
const struct wl_cap_ifcfg *const wl_btf_cap_ifcfg = 0;
const struct wl_cap_epb *const wl_btf_cap_epb = 0;
const struct wl_cap_comment *const wl_btf_cap_comment = 0;
const enum wl_cap_hook wl_btf_cap_hook = 0;
const enum wl_cap_stat wl_btf_cap_stat = 0;

#define SOCK_PASS 1 /* cgroup_skb: let the packet through */
#define TC_PASS -1  /* TC_ACT_UNSPEC / TCX_NEXT: not ours to judge */

/* Bytes copied of each packet at most (-s); a power of two's worth is reserved per record. */
const volatile __u32 wl_cap_snaplen = 262144;
/* TC: bytes of link-layer header before the IP header on the hooked interfaces (14 or 0). */
const volatile __u32 wl_cap_l2_len = 14;
/* TC: the interfaces' headers differ; wl_cap_ifs holds each one's, not wl_cap_l2_len. */
const volatile __u32 wl_cap_mixed = 0;
/* --uid: only sockets of this user (when wl_cap_uid_set). */
const volatile __u32 wl_cap_uid_set = 0;
const volatile __u32 wl_cap_uid = 0;
/*
 * --cgroup (socket hook only): only sockets in this cgroup v2 or below it.
 * The id is the cgroup directory's inode number (0: no filter), the level its
 * depth under the root (the root is level 0).
 */
const volatile __u64 wl_cap_cgroup_id = 0;
const volatile __u32 wl_cap_cgroup_level = 0;
/*
 * capture -w FILE: records are pcapng blocks (struct wl_cap_epb) stamped
 * with wall time (the monotonic clock plus wl_cap_wall_off ns); the
 * capture's own network namespace is not named in comments.
 */
const volatile __u32 wl_cap_epb = 0;
/*
 * While records come, the reader is woken at least this often (ns; 0: only
 * once wl_wakeup_bytes wait): user space need not poll the ring on a short
 * timer, which costs a wake-up even when nothing waits.
 */
const volatile __u64 wl_cap_wakeup_ns = 0;
__u64 wl_cap_last_wakeup = 0;
const volatile __u64 wl_cap_wall_off = 0;
const volatile __u32 wl_cap_host_netns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_CAP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wl_cap_stats SEC(".maps");

/*
 * One prog array per hook and direction: slot 0 the filter (or emit), slot 1
 * emit; TC with mixed headers: slots 2.. the filters for the other kinds.
 */
#define WL_CAP_TC_SLOTS 16
#define PROG_ARRAY(name, n)                            \
	struct {                                       \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY); \
		__uint(max_entries, n);                \
		__uint(key_size, sizeof(__u32));       \
		__uint(value_size, sizeof(__u32));     \
	} name SEC(".maps")
PROG_ARRAY(wl_cap_sock_in_progs, 2);
PROG_ARRAY(wl_cap_sock_out_progs, 2);
PROG_ARRAY(wl_cap_tc_in_progs, WL_CAP_TC_SLOTS);
PROG_ARRAY(wl_cap_tc_out_progs, WL_CAP_TC_SLOTS);

/* wl_cap_mixed: each hooked interface's filter slot, header length and snap length, by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct wl_cap_ifcfg);
} wl_cap_ifs SEC(".maps");

/* wl_cap_epb, TC: the pcapng interface id user space gave each hooked interface, by ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} wl_cap_idb SEC(".maps");

/* wl_cap_epb: the last packet's process comment, per CPU (packets of one flow follow each other). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wl_cap_comment);
} wl_cap_comments SEC(".maps");

/* The interface's entry (wl_cap_mixed only); NULL for one wirelens did not hook. */
static __always_inline struct wl_cap_ifcfg *ifcfg(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;

	return bpf_map_lookup_elem(&wl_cap_ifs, &ifindex);
}

/* TC: bytes before the IP header of this packet's interface. */
static __always_inline __u32 l2_len(struct __sk_buff *skb)
{
	struct wl_cap_ifcfg *c;

	if (!wl_cap_mixed)
		return wl_cap_l2_len;
	c = ifcfg(skb);
	return c ? c->l2_len : 0;
}

/* Ring submit flags for a record stamped `now`: a wake-up once wl_cap_wakeup_ns passed since the last. */
static __always_inline __u64 cap_submit_flags(__u64 now)
{
	if (wl_cap_wakeup_ns && now - wl_cap_last_wakeup >= wl_cap_wakeup_ns) {
		wl_cap_last_wakeup = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return wl_submit_flags();
}

static __always_inline void cap_stat(__u32 slot)
{
	wl_count(&wl_cap_stats, slot);
}

/* The packet's socket owner, if it has a full socket with one. */
static __always_inline struct sk_owner *owner_of(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return NULL;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&wl_owners, sk, 0, 0);
}

/*
 * TC, a frame with no socket yet (arriving): the local socket it is for,
 * looked up by its ends in the interface's namespace, and its owner copied
 * out (the socket reference is released before returning). TCP finds
 * listeners and established sockets; UDP bound and connected ones.
 */
static __always_inline bool lookup_owner(struct __sk_buff *skb, struct sk_owner *out)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk, *full;
	struct sk_owner *o;
	struct wl_ip ip = {};
	__u16 ports[2];
	__u32 size;
	bool found = false;

#ifdef EXP_NOLOOKUP
	return false;
#endif
	if (!wl_ip_header(skb, l2_len(skb), skb->protocol, &ip) || ip.later_fragment)
		return false;
	if (ip.proto != WL_IPPROTO_TCP && ip.proto != WL_IPPROTO_UDP)
		return false;
	if (bpf_skb_load_bytes(skb, ip.l4, ports, sizeof(ports)))
		return false;
	if (ip.family == AF_INET) {
		__builtin_memcpy(&t.ipv4.saddr, ip.saddr, 4);
		__builtin_memcpy(&t.ipv4.daddr, ip.daddr, 4);
		t.ipv4.sport = ports[0];
		t.ipv4.dport = ports[1];
		size = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, ip.saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, ip.daddr, 16);
		t.ipv6.sport = ports[0];
		t.ipv6.dport = ports[1];
		size = sizeof(t.ipv6);
	}
	if (ip.proto == WL_IPPROTO_TCP)
		sk = bpf_skc_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return false;
	full = bpf_sk_fullsock(sk);
	if (full) {
		o = bpf_sk_storage_get(&wl_owners, full, 0, 0);
		if (o) {
			*out = *o;
			found = true;
		}
	}
	bpf_sk_release(sk);
	return found;
}

static __always_inline bool proc_filter_active(void)
{
	return wl_filter_pid_n > 0 || wl_filter_comm_set || wl_cap_uid_set;
}

/*
 * The packet's process, copied out. TC ingress: the local socket the frame
 * is for; a socket it still carries is its sender's (a veth peer in another
 * namespace). Elsewhere the packet's own socket. The filters and the record
 * use this one answer.
 */
static __always_inline bool owner_for(struct __sk_buff *skb, bool tc_ingress, struct sk_owner *out)
{
	struct sk_owner *o;

	if (tc_ingress && lookup_owner(skb, out))
		return true;
	o = owner_of(skb);
	if (!o)
		return false;
	*out = *o;
	return true;
}

/* --pid/--comm/--uid on the packet's process; a packet without one fails any of them. */
static __always_inline bool proc_allowed(struct __sk_buff *skb, bool tc_ingress)
{
	struct sk_owner o;
	struct wl_proc p = {};

	if (!owner_for(skb, tc_ingress, &o))
		return false;
	if (wl_cap_uid_set && o.uid != wl_cap_uid)
		return false;
	p.pid = o.tgid;
	__builtin_memcpy(p.comm, o.comm, sizeof(p.comm));
	return wl_proc_allowed(&p);
}

/* --cgroup: the packet's socket is in the cgroup or below it (its ancestor at the cgroup's level is it). */
static __always_inline bool cgroup_allowed(struct __sk_buff *skb)
{
	return !wl_cap_cgroup_id || bpf_skb_ancestor_cgroup_id(skb, wl_cap_cgroup_level) == wl_cap_cgroup_id;
}

static __always_inline int enter(struct __sk_buff *skb, void *progs, int pass, bool tc, bool tc_ingress)
{
	__u32 slot = 0;

	cap_stat(WL_CAP_STAT_SEEN);
	if ((proc_filter_active() && !proc_allowed(skb, tc_ingress)) || !cgroup_allowed(skb)) {
		cap_stat(WL_CAP_STAT_PROC_FILTERED);
		return pass;
	}
	if (tc && wl_cap_mixed) {
		struct wl_cap_ifcfg *c = ifcfg(skb);

		if (!c) {
			cap_stat(WL_CAP_STAT_TAIL_FAILED);
			return pass;
		}
		slot = c->slot;
	}
	bpf_tail_call(skb, progs, slot);
	cap_stat(WL_CAP_STAT_TAIL_FAILED);
	return pass;
}

SEC("cgroup_skb/ingress")
int wl_cap_sock_in(struct __sk_buff *skb)
{
	return enter(skb, &wl_cap_sock_in_progs, SOCK_PASS, false, false);
}

SEC("cgroup_skb/egress")
int wl_cap_sock_out(struct __sk_buff *skb)
{
	return enter(skb, &wl_cap_sock_out_progs, SOCK_PASS, false, false);
}

SEC("tc")
int wl_cap_tc_in(struct __sk_buff *skb)
{
	return enter(skb, &wl_cap_tc_in_progs, TC_PASS, true, true);
}

SEC("tc")
int wl_cap_tc_out(struct __sk_buff *skb)
{
	return enter(skb, &wl_cap_tc_out_progs, TC_PASS, true, false);
}

/*
 * n (known to the compiler to be small) masked in a way the verifier sees:
 * the compiler would drop a mask it can prove changes nothing.
 */
static __always_inline __u64 shown_bound(__u32 n, __u64 mask)
{
	__u64 k = n;

	asm volatile("" : "+r"(k));
	return k & mask;
}

static __always_inline void fill(struct wl_cap_event *e, struct __sk_buff *skb, __u8 hook, bool egress,
				 __u32 caplen)
{
	struct sk_owner found = {}; /* all zero when there is no process */
	struct bpf_sock *sk;
	bool have = owner_for(skb, hook == WL_CAP_HOOK_TC && !egress, &found);

#ifdef EXP_NOCLOCK
	e->hdr.ts_ns = 0;
#else
	e->hdr.ts_ns = bpf_ktime_get_ns();
#endif
	e->hdr.type = WL_EV_CAPTURE;
	e->hdr.flags = have ? 0 : WL_F_PROC_UNKNOWN;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->pid = found.tgid;
	e->uid = found.uid;
	__builtin_memcpy(e->comm, found.comm, sizeof(e->comm));
	e->netns = 0;
	sk = skb->sk;
	if (hook == WL_CAP_HOOK_SOCK && sk) {
		sk = bpf_sk_fullsock(sk);
		if (sk)
			e->netns = wl_sk_netns((const struct sock *)wl_ptr_id(sk));
	}
	e->ifindex = skb->ifindex;
	e->len = skb->len;
	e->caplen = caplen;
	e->protocol = (__u16)skb->protocol;
	e->hook = hook;
	e->egress = egress;
	e->pkt_type = (__u8)skb->pkt_type;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
}

#define CLASS_DEF(size)                \
	struct cap_##size {            \
		struct wl_cap_event e; \
		__u8 data[size];       \
	}
CLASS_DEF(128);
CLASS_DEF(256);
CLASS_DEF(512);
CLASS_DEF(1024);
CLASS_DEF(2048);
CLASS_DEF(4096);
CLASS_DEF(8192);
CLASS_DEF(16384);
CLASS_DEF(32768);
CLASS_DEF(65536);
CLASS_DEF(131072);
CLASS_DEF(262144);

/* One record of the smallest class that holds n (1..size) bytes. */
#define EMIT_CLASS(size)                                                               \
	if (n <= (size)) {                                                             \
		struct cap_##size *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0); \
		__u64 k = shown_bound(n, 2 * (size)-1);                                \
		if (!r) {                                                              \
			wl_stat_inc(WL_STAT_RB_LOST);                                  \
			return pass;                                                   \
		}                                                                      \
		if (k == 0 || k > (size) || bpf_skb_load_bytes(skb, 0, r->data, k)) {  \
			bpf_ringbuf_discard(r, 0);                                     \
			return pass;                                                   \
		}                                                                      \
		fill(&r->e, skb, hook, egress, k);                                     \
		bpf_ringbuf_submit(r, cap_submit_flags(r->e.hdr.ts_ns));               \
		wl_stat_inc(WL_STAT_EMITTED);                                          \
		return pass;                                                           \
	}

/*
 * capture -w FILE (wl_cap_epb): the packet as a pcapng Enhanced Packet Block
 * (struct wl_cap_epb), the process comment built once per process and CPU.
 */

/* One character of the comment's text (o[4] onwards; `at` counts from o[4]). */
static __always_inline __u32 put_ch(__u8 *o, __u32 at, __u8 ch)
{
	o[(at + 4) & 127] = ch;
	return at + 1;
}

/* n (up to 8) characters given as one little-endian word (no string constant: no .rodata.str section). */
static __always_inline __u32 put_chars(__u8 *o, __u32 at, __u64 word, int n)
{
#pragma unroll
	for (int i = 0; i < 8; i++)
		if (i < n)
			at = put_ch(o, at, (word >> (8 * i)) & 0xff);
	return at;
}

/* v in decimal, as printf's %u. */
static __always_inline __u32 put_dec(__u8 *o, __u32 at, __u32 v)
{
	__u8 d[10];
	__u32 n = 0;

#pragma unroll
	for (int i = 0; i < 10; i++) {
		d[i] = '0' + v % 10;
		v /= 10;
		n++;
		if (!v)
			break;
	}
#pragma unroll
	for (int i = 9; i >= 0; i--)
		if ((__u32)i < n)
			at = put_ch(o, at, d[i]);
	return at;
}

/*
 * The comment's option for this process and namespace (the writer's
 * procComment in src/output/pcapng-writer.ts), from the CPU's cache or built
 * into it; NULL when the record must be a wl_cap_event (a comm that is not
 * printable ASCII is escaped by user space).
 */
static __always_inline struct wl_cap_comment *comment_for(bool have, struct sk_owner *o, __u32 netns)
{
	__u32 zero = 0;
	struct wl_cap_comment *c = bpf_map_lookup_elem(&wl_cap_comments, &zero);
	__u32 at = 0, len, padded;
	__u64 c0, c1;

	if (!c)
		return NULL;
	if (!have) {
		o->tgid = 0;
		o->uid = 0;
		__builtin_memset(o->comm, 0, sizeof(o->comm));
	}
	__builtin_memcpy(&c0, o->comm, 8);
	__builtin_memcpy(&c1, o->comm + 8, 8);
	if (c->ok && c->have == have && c->pid == o->tgid && c->uid == o->uid && c->netns == netns &&
	    c->comm0 == c0 && c->comm1 == c1)
		return c->ok == 1 ? c : NULL;
	c->have = have;
	c->pid = o->tgid;
	c->uid = o->uid;
	c->netns = netns;
	c->comm0 = c0;
	c->comm1 = c1;
	c->ok = 2;
	if (have) {
		at = put_chars(c->opt, at, 0x203a444950, 5) /* "PID: " */;
		at = put_dec(c->opt, at, o->tgid);
		at = put_chars(c->opt, at, 0x203a646d430a, 6) /* "\nCmd: " */;
#pragma unroll
		for (int i = 0; i < WL_COMM_LEN; i++) {
			__u8 ch = o->comm[i];

			if (!ch)
				break;
			if (ch < 0x20 || ch > 0x7e)
				return NULL;
			at = put_ch(c->opt, at, ch);
		}
		at = put_chars(c->opt, at, 0x203a4449550a, 6) /* "\nUID: " */;
		at = put_dec(c->opt, at, o->uid);
		if (netns)
			at = put_ch(c->opt, at, '\n');
	}
	if (netns) {
		at = put_chars(c->opt, at, 0x203a534e74654e, 7) /* "NetNS: " */;
		at = put_dec(c->opt, at, netns);
	}
	len = at & 127;
	padded = (len + 3) & ~3U;
	if (4 + padded > WL_CAP_COMMENT_MAX)
		return NULL;
	/* Up to 3 bytes of padding, zeroed one by one (a loop would become a memset call). */
	c->opt[(len + 4) & 127] = 0;
	c->opt[(len + 5) & 127] = 0;
	c->opt[(len + 6) & 127] = 0;
	c->opt[0] = 1; /* opt_comment, little-endian */
	c->opt[1] = 0;
	c->opt[2] = len;
	c->opt[3] = 0;
	c->opt_len = len ? 4 + padded : 0;
	c->ok = 1;
	return c;
}

static __always_inline void fill_epb(struct wl_cap_epb *e, __u32 if_id, __u64 k, __u32 wire, __u32 total)
{
	__u64 mono = bpf_ktime_get_ns();
	__u64 wall = mono + wl_cap_wall_off;

	e->hdr.ts_ns = mono;
	e->hdr.type = WL_EV_CAPTURE_EPB;
	e->hdr.flags = 0;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->epb_len = total;
	e->_pad[0] = 0;
	e->_pad[1] = 0;
	e->block_type = 6;
	e->block_len = total;
	e->if_id = if_id;
	e->ts_high = wall >> 32;
	e->ts_low = (__u32)wall;
	e->caplen = k;
	e->origlen = wire > k ? wire : k;
}

/* The record: header, packet, zero padding, comment, epb_flags, end of options, length. */
#define EPB_CLASS_DEF(size)              \
	struct cap_epb_##size {          \
		struct wl_cap_epb e;     \
		__u8 data[(size) + 112]; \
	}
EPB_CLASS_DEF(128);
EPB_CLASS_DEF(256);
EPB_CLASS_DEF(512);
EPB_CLASS_DEF(1024);
EPB_CLASS_DEF(2048);
EPB_CLASS_DEF(4096);
EPB_CLASS_DEF(8192);
EPB_CLASS_DEF(16384);
EPB_CLASS_DEF(32768);
EPB_CLASS_DEF(65536);
EPB_CLASS_DEF(131072);
EPB_CLASS_DEF(262144);

#define EMIT_EPB_CLASS(size)                                                               \
	if (n <= (size)) {                                                                 \
		struct cap_epb_##size *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0); \
		__u64 k = shown_bound(n, 2 * (size)-1);                                    \
		__u64 p4;                                                                  \
		__u8 *t;                                                                   \
		if (!r) {                                                                  \
			wl_stat_inc(WL_STAT_RB_LOST);                                      \
			return 0;                                                          \
		}                                                                          \
		if (k == 0 || k > (size)) {                                                \
			bpf_ringbuf_discard(r, 0);                                         \
			return 0;                                                          \
		}                                                                          \
		asm volatile("" : "+r"(k)); /* later uses read the checked register */     \
		*(__u32 *)&r->data[k & ~3ULL] = 0;                                         \
		if (bpf_skb_load_bytes(skb, 0, r->data, k)) {                              \
			bpf_ringbuf_discard(r, 0);                                         \
			return 0;                                                          \
		}                                                                          \
		p4 = (k + 3) & ~3ULL;                                                      \
		t = r->data + p4;                                                          \
		__builtin_memcpy(t, c->opt, WL_CAP_COMMENT_MAX);                           \
		t += olen;                                                                 \
		*(__u32 *)t = 2 | (4 << 16); /* epb_flags, 4 bytes */                      \
		*(__u32 *)(t + 4) = egress ? 2 : 1;                                        \
		*(__u32 *)(t + 8) = 0; /* opt_endofopt */                                  \
		*(__u32 *)(t + 12) = 28 + p4 + olen + 16;                                  \
		fill_epb(&r->e, if_id, k, skb->len, 28 + p4 + olen + 16);                  \
		bpf_ringbuf_submit(r, cap_submit_flags(r->e.hdr.ts_ns));                   \
		wl_stat_inc(WL_STAT_EMITTED);                                              \
		return 0;                                                                  \
	}

/* n (1..snap) bytes of the packet as a block; -1: it must be a wl_cap_event instead. */
static __always_inline int emit_epb(struct __sk_buff *skb, __u8 hook, bool egress, __u32 n)
{
	struct sk_owner found = {};
	struct wl_cap_comment *c;
	struct bpf_sock *sk;
	__u32 netns = 0, if_id = 0;
	__u64 olen;
	bool have = owner_for(skb, hook == WL_CAP_HOOK_TC && !egress, &found);

	if (hook == WL_CAP_HOOK_TC) {
		__u32 ifindex = skb->ifindex;
		__u32 *id = bpf_map_lookup_elem(&wl_cap_idb, &ifindex);

		if (!id)
			return -1;
		if_id = *id;
	} else {
		sk = skb->sk;
		if (sk) {
			sk = bpf_sk_fullsock(sk);
			if (sk)
				netns = wl_sk_netns((const struct sock *)wl_ptr_id(sk));
		}
		if (netns == wl_cap_host_netns)
			netns = 0;
	}
	c = comment_for(have, &found, netns);
	if (!c)
		return -1;
	olen = c->opt_len;
	if (olen > WL_CAP_COMMENT_MAX)
		return -1;
	EMIT_EPB_CLASS(128)
	EMIT_EPB_CLASS(256)
	EMIT_EPB_CLASS(512)
	EMIT_EPB_CLASS(1024)
	EMIT_EPB_CLASS(2048)
	EMIT_EPB_CLASS(4096)
	EMIT_EPB_CLASS(8192)
	EMIT_EPB_CLASS(16384)
	EMIT_EPB_CLASS(32768)
	EMIT_EPB_CLASS(65536)
	EMIT_EPB_CLASS(131072)
	EMIT_EPB_CLASS(262144)
	return 0;
}

static __always_inline int emit(struct __sk_buff *skb, __u8 hook, bool egress, int pass)
{
	__u32 n = skb->len;
	__u32 snap = wl_cap_snaplen;

	cap_stat(WL_CAP_STAT_MATCHED);
	if (hook == WL_CAP_HOOK_TC && wl_cap_mixed) {
		struct wl_cap_ifcfg *c = ifcfg(skb);

		if (c && c->snaplen < snap)
			snap = c->snaplen;
	}
	if (n > snap)
		n = snap;
	if (wl_cap_epb && n > 0 && emit_epb(skb, hook, egress, n) == 0)
		return pass;
	if (n == 0) {
		struct wl_cap_event *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);

		if (!r) {
			wl_stat_inc(WL_STAT_RB_LOST);
			return pass;
		}
		fill(r, skb, hook, egress, 0);
		bpf_ringbuf_submit(r, cap_submit_flags(r->hdr.ts_ns));
		wl_stat_inc(WL_STAT_EMITTED);
		return pass;
	}
	EMIT_CLASS(128)
	EMIT_CLASS(256)
	EMIT_CLASS(512)
	EMIT_CLASS(1024)
	EMIT_CLASS(2048)
	EMIT_CLASS(4096)
	EMIT_CLASS(8192)
	EMIT_CLASS(16384)
	EMIT_CLASS(32768)
	EMIT_CLASS(65536)
	EMIT_CLASS(131072)
	EMIT_CLASS(262144)
	return pass;
}

SEC("cgroup_skb/ingress")
int wl_cap_sock_in_emit(struct __sk_buff *skb)
{
	return emit(skb, WL_CAP_HOOK_SOCK, false, SOCK_PASS);
}

SEC("cgroup_skb/egress")
int wl_cap_sock_out_emit(struct __sk_buff *skb)
{
	return emit(skb, WL_CAP_HOOK_SOCK, true, SOCK_PASS);
}

SEC("tc")
int wl_cap_tc_in_emit(struct __sk_buff *skb)
{
	return emit(skb, WL_CAP_HOOK_TC, false, TC_PASS);
}

SEC("tc")
int wl_cap_tc_out_emit(struct __sk_buff *skb)
{
	return emit(skb, WL_CAP_HOOK_TC, true, TC_PASS);
}
