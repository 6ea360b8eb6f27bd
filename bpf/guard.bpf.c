// SPDX-License-Identifier: Apache-2.0
/*
 * wirelens guard: the signs of SYN floods, port scans and floods, counted in
 * maps that user space reads once per second. No record per packet.
 *
 * - TC ingress on the hooked interfaces: per protocol, per destination port
 *   and per source (packets, bytes, SYNs, RSTs, UDP, ICMP); distinct
 *   sources per interval in HyperLogLog registers.
 * - TC egress: what this host answers: SYN-ACKs, RST|ACKs and ICMP unreachables
 *   per local port and per remote, and the ports each remote was refused at
 *   (the scan table).
 * - The unanswered table: per remote, the TCP ports it sent a SYN to
 *   (ingress) that had no answer yet (egress clears them): a firewall that
 *   drops them leaves no RST or ICMP to count. A remote gets an entry only
 *   past a floor of SYNs in the bucket (its own sketch).
 * - A port or a source gets its own table entry only once a count-min
 *   sketch says it passed a floor this interval (the floor rises with the
 *   sketch's own noise), so a flood from spoofed sources cannot churn the
 *   tables: it stays in the sketch, the distinct-source registers and the
 *   protocol totals. Every map is sized before load: memory is fixed.
 * - tp_btf (classic tracepoint fallback): handshakes completed (a listener
 *   made a child), SYN-ACK retransmits and resets sent per listening port
 *   and network namespace, drops by the kernel's reason and namespace.
 * - iter/tcp, run by user space once per interval in each watched
 *   namespace: the SYN and accept queues of listeners that hold anything.
 *
 * Every program lets every packet pass, except with --block: then the
 * ingress program drops the sources in wl_guard_blocks until their time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "ip_header.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps the map types in the object's BTF for the layout test. */
const struct wl_guard_port *const wl_btf_guard_port = 0;
const struct wl_guard_addr *const wl_btf_guard_addr = 0;
const struct wl_guard_scan_key *const wl_btf_guard_scan_key = 0;
const struct wl_guard_scan *const wl_btf_guard_scan = 0;
const struct wl_guard_listen_key *const wl_btf_guard_listen_key = 0;
const struct wl_guard_listen *const wl_btf_guard_listen = 0;
const struct wl_guard_drop_key *const wl_btf_guard_drop_key = 0;
const struct wl_guard_hll *const wl_btf_guard_hll = 0;
const struct wl_guard_clock *const wl_btf_guard_clock = 0;
const struct wl_guard_cell *const wl_btf_guard_cell = 0;
const struct wl_guard_ifcfg *const wl_btf_guard_ifcfg = 0;
const struct wl_guard_block *const wl_btf_guard_block = 0;
const struct wl_guard_queue *const wl_btf_guard_queue = 0;
const enum wl_guard_proto *const wl_btf_guard_proto = 0;
const enum wl_guard_hll_kind *const wl_btf_guard_hll_kind = 0;
const enum wl_guard_stat *const wl_btf_guard_stat = 0;

/* Set from user space before load. */
const volatile __u32 wl_guard_seed1 = 0x9e3779b9; /* random per run: a sender cannot aim at sketch cells */
const volatile __u32 wl_guard_seed2 = 0x85ebca6b;
const volatile __u32 wl_guard_sketch_bits = 14; /* cells per sketch row: 1 << bits */
const volatile __u32 wl_guard_src_floor = 100;	/* packets in an interval before a source gets an entry */
const volatile __u32 wl_guard_port_floor = 100; /* packets in an interval before a port gets an entry */
const volatile __u32 wl_guard_fail_floor = 1;	/* refusals in a bucket before a remote gets a scan entry */
const volatile __u32 wl_guard_syn_floor = 5; /* SYNs in a bucket before a remote gets an unanswered entry */
const volatile __u32 wl_guard_block_on = 0;  /* 1: --block (the ingress program may drop) */
/* A new scan entry's value: too big for the stack. */
const volatile struct wl_guard_scan wl_guard_scan_zero = {};

#define WL_GUARD_ROWS 4
#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* Sketch tags: what a hashed key is, so sources and ports do not share cells by design. */
#define TAG_SRC 0x5352u
#define TAG_PORT 0x504fu
#define TAG_FAIL 0x4641u
#define TAG_SCAN 0x5343u

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct wl_guard_ifcfg);
} wl_guard_ifcfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wl_guard_clock);
} wl_guard_clock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_GUARD_PROTO_MAX);
	__type(key, __u32);
	__type(value, struct wl_guard_port);
} wl_guard_protos SEC(".maps");

/* Sized by user space (--max-ports, --max-sources, ...) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct wl_guard_port);
} wl_guard_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wl_guard_addr);
	__type(value, struct wl_guard_counts);
} wl_guard_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wl_guard_scan_key);
	__type(value, struct wl_guard_scan);
} wl_guard_scans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wl_guard_scan_key);
	__type(value, struct wl_guard_scan);
} wl_guard_unanswered SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wl_guard_listen_key);
	__type(value, struct wl_guard_listen);
} wl_guard_listen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_GUARD_HLL_MAX * 2);
	__type(key, __u32);
	__type(value, struct wl_guard_hll);
} wl_guard_hll SEC(".maps");

/* Count-min sketches: WL_GUARD_ROWS rows of 1 << wl_guard_sketch_bits cells (max_entries set to match). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WL_GUARD_ROWS << 14);
	__type(key, __u32);
	__type(value, struct wl_guard_cell);
} wl_guard_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WL_GUARD_ROWS << 14);
	__type(key, __u32);
	__type(value, struct wl_guard_cell);
} wl_guard_fail SEC(".maps");

/* SYNs per remote per scan bucket (the epoch): a remote gets an unanswered entry only past a floor. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WL_GUARD_ROWS << 14);
	__type(key, __u32);
	__type(value, struct wl_guard_cell);
} wl_guard_syns SEC(".maps");

/* Everything each sketch counted this epoch: [0] rate, [1] fail, [2] syns. Their noise per cell is total >> bits. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct wl_guard_cell);
} wl_guard_noise SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wl_guard_addr);
	__type(value, struct wl_guard_block);
} wl_guard_blocks SEC(".maps");

/* Drops per (namespace, reason): each alert takes those of its own namespace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wl_guard_drop_key);
	__type(value, __u64);
} wl_guard_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_GUARD_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wl_guard_stats SEC(".maps");

static __always_inline __u32 fmix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

struct hash2 {
	__u32 h1;
	__u32 h2; /* odd: the row step */
};

static __always_inline struct hash2 hash_words(__u32 tag, __u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	struct hash2 h;
	__u32 x = fmix(wl_guard_seed1 ^ tag);

	x = fmix(x ^ w0);
	x = fmix(x ^ w1);
	x = fmix(x ^ w2);
	x = fmix(x ^ w3);
	h.h1 = x;
	h.h2 = fmix(x ^ wl_guard_seed2) | 1;
	return h;
}

static __always_inline struct hash2 hash_addr(__u32 tag, const struct wl_guard_addr *a)
{
	__u32 w[4];

	__builtin_memcpy(w, a->addr, 16);
	return hash_words(tag ^ ((__u32)a->family << 24), w[0], w[1], w[2], w[3]);
}

/*
 * Adds one to key's cells of a sketch for this epoch and returns its
 * estimate (the least of its cells), or 0 if the map refused. Cells of an
 * older epoch start again from zero. Races between CPUs lose a count now and
 * then: an estimate, as the sketch is anyway.
 */
static __always_inline __u32 sketch_add(void *map, __u32 which, __u32 epoch, struct hash2 h, __u32 *noise)
{
	__u32 mask = (1u << wl_guard_sketch_bits) - 1, est = 0xffffffff, v;
	struct wl_guard_cell *c;

#pragma unroll
	for (__u32 i = 0; i < WL_GUARD_ROWS; i++) {
		__u32 idx = (i << wl_guard_sketch_bits) | ((h.h1 + i * h.h2) & mask);

		c = bpf_map_lookup_elem(map, &idx);
		if (!c)
			return 0;
		if (c->epoch != epoch) {
			c->epoch = epoch;
			c->count = 1;
			v = 1;
		} else {
			v = __sync_fetch_and_add(&c->count, 1) + 1;
		}
		if (v < est)
			est = v;
	}
	c = bpf_map_lookup_elem(&wl_guard_noise, &which);
	if (!c)
		return est;
	if (c->epoch != epoch) {
		c->epoch = epoch;
		c->count = 1;
		*noise = 0;
	} else {
		*noise = (__sync_fetch_and_add(&c->count, 1) + 1) >> wl_guard_sketch_bits;
	}
	return est;
}

/* Whether key passed floor this epoch, over twice the sketch's average per cell (its noise). */
static __always_inline bool passed_floor(void *map, __u32 which, __u32 epoch, struct hash2 h, __u32 floor)
{
	__u32 noise = 0, est = sketch_add(map, which, epoch, h, &noise);

	return est >= floor + 2 * noise;
}

static __always_inline __u8 leading_zeros(__u32 x)
{
	__u8 n = 0;

	if (!x)
		return 32;
	if (!(x & 0xffff0000)) {
		n += 16;
		x <<= 16;
	}
	if (!(x & 0xff000000)) {
		n += 8;
		x <<= 8;
	}
	if (!(x & 0xf0000000)) {
		n += 4;
		x <<= 4;
	}
	if (!(x & 0xc0000000)) {
		n += 2;
		x <<= 2;
	}
	if (!(x & 0x80000000))
		n += 1;
	return n;
}

/* HyperLogLog: one more source of `kind` this generation (this CPU's registers). */
static __always_inline void hll_add(__u32 kind, __u32 gen, struct hash2 h)
{
	__u32 key = kind * 2 + (gen & 1), idx = h.h1 & (WL_GUARD_HLL_REGS - 1);
	struct wl_guard_hll *r = bpf_map_lookup_elem(&wl_guard_hll, &key);
	__u8 rho;

	if (!r)
		return;
	if (r->gen != gen) {
		__u64 *w = (__u64 *)r->reg;

#pragma unroll
		for (int i = 0; i < WL_GUARD_HLL_REGS / 8; i++)
			w[i] = 0;
		r->gen = gen;
	}
	/* Rank from the bits the index does not use. */
	rho = leading_zeros(h.h1 >> WL_GUARD_HLL_BITS) - WL_GUARD_HLL_BITS + 1;
	if (r->reg[idx] < rho)
		r->reg[idx] = rho;
}

static __always_inline __u8 proto_idx(__u8 proto)
{
	switch (proto) {
	case WL_IPPROTO_TCP:
		return WL_GUARD_TCP;
	case WL_IPPROTO_UDP:
		return WL_GUARD_UDP;
	case 1:
		return WL_GUARD_ICMP;
	case 58:
		return WL_GUARD_ICMPV6;
	default:
		return WL_GUARD_OTHER;
	}
}

/* One packet's facts. */
struct pkt {
	struct wl_ip ip;
	__u16 sport;
	__u16 dport;
	__u8 idx;	/* enum wl_guard_proto */
	__u8 has_ports; /* TCP/UDP with its ports read */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u32 len;
};

static __always_inline bool parse(struct __sk_buff *skb, __u32 l2_len, struct pkt *p)
{
	__builtin_memset(p, 0, sizeof(*p));
	if (!wl_ip_header(skb, l2_len, skb->protocol, &p->ip))
		return false;
	p->idx = proto_idx(p->ip.proto);
	p->len = skb->len;
	if (p->ip.later_fragment)
		return true;
	if (p->idx == WL_GUARD_TCP) {
		__u8 h[14];

		if (!bpf_skb_load_bytes(skb, p->ip.l4, h, sizeof(h))) {
			p->sport = ((__u16)h[0] << 8) | h[1];
			p->dport = ((__u16)h[2] << 8) | h[3];
			p->tcp_flags = h[13];
			p->has_ports = 1;
		}
	} else if (p->idx == WL_GUARD_UDP) {
		__u16 ports[2];

		if (!bpf_skb_load_bytes(skb, p->ip.l4, ports, sizeof(ports))) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
			p->has_ports = 1;
		}
	} else if (p->idx == WL_GUARD_ICMP || p->idx == WL_GUARD_ICMPV6) {
		bpf_skb_load_bytes(skb, p->ip.l4, &p->icmp_type, 1);
	}
	return true;
}

/* An ICMP error message (an answer to another packet), not a query such as an echo. */
static __always_inline bool icmp_error(const struct pkt *p)
{
	if (p->idx == WL_GUARD_ICMP)
		return p->icmp_type == 3 || p->icmp_type == 4 || p->icmp_type == 5 || p->icmp_type == 11 ||
		       p->icmp_type == 12;
	return p->idx == WL_GUARD_ICMPV6 && p->icmp_type < 128;
}

static __always_inline void stat_inc(__u32 slot)
{
	wl_count(&wl_guard_stats, slot);
}

static __always_inline struct wl_guard_clock *guard_clock(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&wl_guard_clock, &zero);
}

/* What one arriving packet adds to a set of counters. */
static __always_inline void add_in(struct wl_guard_counts *c, const struct pkt *p, bool syn)
{
	c->pkts += 1;
	c->bytes += p->len;
	if (syn)
		c->syn += 1;
	if (p->idx == WL_GUARD_TCP && (p->tcp_flags & TCP_FLAG_RST))
		c->rst_in += 1;
	else if (p->idx == WL_GUARD_UDP)
		c->udp += 1;
	else if (p->idx == WL_GUARD_ICMP || p->idx == WL_GUARD_ICMPV6)
		c->icmp += 1;
}

static __always_inline void note_daddr(struct wl_guard_port *v, const struct pkt *p)
{
	/* This CPU's copy: a plain store, cheaper than comparing first. */
	__builtin_memcpy(v->daddr, p->ip.daddr, 16);
	v->family = p->ip.family;
}

/* A port's bit in a scan bitmap: seeded, so a remote cannot choose ports that share one. */
static __always_inline __u32 scan_bit(__u8 proto, __u16 port)
{
	return fmix(fmix(wl_guard_seed1 ^ TAG_SCAN) ^ (((__u32)proto << 16) | port)) &
	       (WL_GUARD_SCAN_WORDS * 64 - 1);
}

/*
 * A remote sent a SYN to a port: the port's bit in its unanswered entry,
 * until an answer leaves (answered()). A remote without an entry gets one
 * only once its SYNs in this bucket pass a floor (over the sketch's noise),
 * so a flood from spoofed sources cannot churn the table.
 */
static __always_inline void note_syn(const struct wl_guard_addr *remote, struct hash2 h, __u32 bucket,
				     __u16 port)
{
	struct wl_guard_scan_key k = {};
	struct wl_guard_scan *s;
	__u32 bit = scan_bit(WL_GUARD_TCP, port);

	k.src = *remote;
	k.bucket = bucket;
	s = bpf_map_lookup_elem(&wl_guard_unanswered, &k);
	if (!s) {
		if (!passed_floor(&wl_guard_syns, 2, bucket, h, wl_guard_syn_floor))
			return;
		if (!bpf_map_update_elem(&wl_guard_unanswered, &k, (const void *)&wl_guard_scan_zero,
					 BPF_NOEXIST))
			stat_inc(WL_GUARD_STAT_UNANSWERED);
		s = bpf_map_lookup_elem(&wl_guard_unanswered, &k);
		if (!s)
			return;
	}
	__sync_fetch_and_or(&s->bits[(bit >> 6) & (WL_GUARD_SCAN_WORDS - 1)], 1ull << (bit & 63));
}

static __always_inline int on_ingress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, key;
	struct wl_guard_ifcfg *cfg = bpf_map_lookup_elem(&wl_guard_ifcfg, &ifindex);
	struct wl_guard_clock *clk;
	struct wl_guard_port *pv;
	struct wl_guard_counts *sc;
	struct wl_guard_addr src = {};
	struct hash2 h;
	struct pkt p;
	bool syn;

	if (!cfg)
		return TC_ACT_UNSPEC; /* not an interface of ours */
	if (!parse(skb, cfg->l2_len, &p)) {
		stat_inc(WL_GUARD_STAT_NOT_IP);
		return TC_ACT_UNSPEC;
	}
	/*
	 * An ICMP error arriving on loopback is this host's own answer (a port
	 * unreachable for its own datagram, a host unreachable to itself),
	 * counted already as it left: not incoming ICMP, and its source is no
	 * sender.
	 */
	if (cfg->loopback && icmp_error(&p))
		return TC_ACT_UNSPEC;
	clk = guard_clock();
	if (!clk)
		return TC_ACT_UNSPEC;
	syn = p.idx == WL_GUARD_TCP && (p.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	key = p.idx;
	pv = bpf_map_lookup_elem(&wl_guard_protos, &key);
	if (pv) {
		add_in(&pv->c, &p, syn);
		note_daddr(pv, &p);
	}

	src.family = p.ip.family;
	__builtin_memcpy(src.addr, p.ip.saddr, 16);
	h = hash_addr(TAG_SRC, &src);
	hll_add(WL_GUARD_HLL_ALL, clk->gen, h);
	if (syn)
		hll_add(WL_GUARD_HLL_SYN, clk->gen, h);
	else if (p.idx == WL_GUARD_UDP)
		hll_add(WL_GUARD_HLL_UDP, clk->gen, h);
	else if (p.idx == WL_GUARD_ICMP || p.idx == WL_GUARD_ICMPV6)
		hll_add(WL_GUARD_HLL_ICMP, clk->gen, h);

	sc = bpf_map_lookup_elem(&wl_guard_sources, &src);
	if (!sc && passed_floor(&wl_guard_rate, 0, clk->gen, h, wl_guard_src_floor)) {
		struct wl_guard_counts zero = {};

		if (!bpf_map_update_elem(&wl_guard_sources, &src, &zero, BPF_NOEXIST))
			stat_inc(WL_GUARD_STAT_SOURCES_ENTERED);
		sc = bpf_map_lookup_elem(&wl_guard_sources, &src);
	}
	if (sc)
		add_in(sc, &p, syn);

	if (p.has_ports) {
		key = ((__u32)p.idx << 16) | p.dport;
		pv = bpf_map_lookup_elem(&wl_guard_ports, &key);
		if (!pv && passed_floor(&wl_guard_rate, 0, clk->gen, hash_words(TAG_PORT, key, 0, 0, 0),
					wl_guard_port_floor)) {
			struct wl_guard_port zero = {};

			if (!bpf_map_update_elem(&wl_guard_ports, &key, &zero, BPF_NOEXIST))
				stat_inc(WL_GUARD_STAT_PORTS_ENTERED);
			pv = bpf_map_lookup_elem(&wl_guard_ports, &key);
		}
		if (pv) {
			add_in(&pv->c, &p, syn);
			note_daddr(pv, &p);
		}
	}

	if (wl_guard_block_on) {
		struct wl_guard_block *b = bpf_map_lookup_elem(&wl_guard_blocks, &src);

		if (b && bpf_ktime_get_ns() < b->until_ns) {
			if (sc)
				sc->blocked += 1;
			stat_inc(WL_GUARD_STAT_BLOCKED);
			return TC_ACT_SHOT;
		}
	}
	if (syn && p.has_ports)
		note_syn(&src, h, clk->bucket,
			 p.dport); /* the source's hash: a sketch of its own, no need for another */
	return TC_ACT_UNSPEC;
}

/* A remote was refused at a port (we sent it a RST or an ICMP unreachable): the scan table. */
static __always_inline void note_refusal(const struct wl_guard_addr *remote, __u32 bucket, __u8 proto,
					 __u16 port)
{
	struct wl_guard_scan_key k = {};
	struct wl_guard_scan *s;
	__u32 bit = scan_bit(proto, port);

	k.src = *remote;
	k.bucket = bucket;
	s = bpf_map_lookup_elem(&wl_guard_scans, &k);
	if (!s) {
		if (!passed_floor(&wl_guard_fail, 1, bucket, hash_addr(TAG_FAIL, remote),
				  wl_guard_fail_floor))
			return;
		if (!bpf_map_update_elem(&wl_guard_scans, &k, (const void *)&wl_guard_scan_zero, BPF_NOEXIST))
			stat_inc(WL_GUARD_STAT_SCANS_ENTERED);
		s = bpf_map_lookup_elem(&wl_guard_scans, &k);
		if (!s)
			return;
	}
	__sync_fetch_and_or(&s->bits[(bit >> 6) & (WL_GUARD_SCAN_WORDS - 1)], 1ull << (bit & 63));
}

/*
 * This host answered a remote's TCP SYN at a port (SYN-ACK, RST or ICMP
 * unreachable): the port is no longer pending in its entries of this bucket
 * and the one before (the SYN may have come just before the bucket turned).
 */
static __always_inline void answered(const struct wl_guard_addr *remote, __u32 bucket, __u16 port)
{
	struct wl_guard_scan_key k = {};
	struct wl_guard_scan *s;
	__u32 bit = scan_bit(WL_GUARD_TCP, port);
	__u64 mask = ~(1ull << (bit & 63));

	k.src = *remote;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		k.bucket = bucket - i;
		s = bpf_map_lookup_elem(&wl_guard_unanswered, &k);
		if (s)
			__sync_fetch_and_and(&s->bits[(bit >> 6) & (WL_GUARD_SCAN_WORDS - 1)], mask);
	}
}

static __always_inline void count_out(__u8 proto, __u16 port, const struct wl_guard_addr *remote, bool synack,
				      bool rst, bool unreach)
{
	__u32 key = ((__u32)proto << 16) | port;
	struct wl_guard_port *pv = bpf_map_lookup_elem(&wl_guard_ports, &key);
	struct wl_guard_counts *sc = bpf_map_lookup_elem(&wl_guard_sources, remote);

	if (pv) {
		pv->c.synack += synack;
		pv->c.rst_out += rst;
		pv->c.unreach_out += unreach;
	}
	if (sc) {
		sc->synack += synack;
		sc->rst_out += rst;
		sc->unreach_out += unreach;
	}
}

static __always_inline int on_egress(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, key;
	struct wl_guard_ifcfg *cfg = bpf_map_lookup_elem(&wl_guard_ifcfg, &ifindex);
	struct wl_guard_clock *clk;
	struct wl_guard_port *pv;
	struct wl_guard_addr remote = {};
	struct pkt p;

	if (!cfg || !parse(skb, cfg->l2_len, &p))
		return TC_ACT_UNSPEC;
	remote.family = p.ip.family;
	__builtin_memcpy(remote.addr, p.ip.daddr, 16);
	if (p.idx == WL_GUARD_TCP && p.has_ports) {
		bool synack = (p.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == (TCP_FLAG_SYN | TCP_FLAG_ACK);
		/*
		 * A reset refusing a segment without ACK (a SYN to a closed port)
		 * carries ACK (tcp_v4_send_reset, tcp_v6_send_reset); one
		 * answering a segment with ACK (a SYN-ACK nothing asked for, a
		 * stray segment) does not, and refuses no port.
		 */
		bool refusal = (p.tcp_flags & (TCP_FLAG_RST | TCP_FLAG_ACK)) == (TCP_FLAG_RST | TCP_FLAG_ACK);

		if (!synack && !refusal)
			return TC_ACT_UNSPEC;
		count_out(WL_GUARD_TCP, p.sport, &remote, synack, refusal, false);
		key = WL_GUARD_TCP;
		pv = bpf_map_lookup_elem(&wl_guard_protos, &key);
		if (pv) {
			pv->c.synack += synack;
			pv->c.rst_out += refusal;
		}
		clk = guard_clock();
		if (clk) {
			answered(&remote, clk->bucket, p.sport);
			if (refusal)
				note_refusal(&remote, clk->bucket, WL_GUARD_TCP, p.sport);
		}
		return TC_ACT_UNSPEC;
	}
	if ((p.idx == WL_GUARD_ICMP && p.icmp_type == 3) || (p.idx == WL_GUARD_ICMPV6 && p.icmp_type == 1)) {
		/* Destination unreachable: the packet it answers follows the 8-byte ICMP header. */
		struct wl_ip inner = {};
		__u16 ports[2];
		__u8 iidx;

		key = p.idx;
		pv = bpf_map_lookup_elem(&wl_guard_protos, &key);
		if (pv)
			pv->c.unreach_out += 1;
		if (!wl_ip_header(skb, p.ip.l4 + 8,
				  p.ip.family == AF_INET ? WL_ETH_P_IP_BE : WL_ETH_P_IPV6_BE, &inner))
			return TC_ACT_UNSPEC;
		iidx = proto_idx(inner.proto);
		if ((iidx != WL_GUARD_TCP && iidx != WL_GUARD_UDP) || inner.later_fragment ||
		    bpf_skb_load_bytes(skb, inner.l4, ports, sizeof(ports)))
			return TC_ACT_UNSPEC;
		/* The answered packet came from the remote to our port (its destination). */
		count_out(iidx, bpf_ntohs(ports[1]), &remote, false, false, true);
		clk = guard_clock();
		if (clk) {
			if (iidx == WL_GUARD_TCP)
				answered(&remote, clk->bucket, bpf_ntohs(ports[1]));
			note_refusal(&remote, clk->bucket, iidx, bpf_ntohs(ports[1]));
		}
	}
	return TC_ACT_UNSPEC;
}

SEC("tc")
int wl_guard_tc_in(struct __sk_buff *skb)
{
	return on_ingress(skb);
}

SEC("tc")
int wl_guard_tc_out(struct __sk_buff *skb)
{
	return on_egress(skb);
}

static __always_inline struct wl_guard_listen *listen_at(__u32 netns, __u16 port)
{
	struct wl_guard_listen_key k = {.netns = netns, .port = port};
	struct wl_guard_listen zero = {}, *v = bpf_map_lookup_elem(&wl_guard_listen, &k);

	if (v)
		return v;
	bpf_map_update_elem(&wl_guard_listen, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&wl_guard_listen, &k);
}

static __always_inline void sk_remote(const struct sock *sk, struct wl_guard_addr *a)
{
	__builtin_memset(a, 0, sizeof(*a));
	a->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (a->family == AF_INET6 && wl_has_ipv6_fields(sk)) {
		bpf_core_read(a->addr, 16, &sk->__sk_common.skc_v6_daddr);
		if (!(*(__u32 *)a->addr | *(__u32 *)(a->addr + 4)) &&
		    *(__u32 *)(a->addr + 8) == bpf_htonl(0xffff)) {
			/* v4-mapped: its packets are IPv4 */
			a->family = AF_INET;
			__builtin_memmove(a->addr, a->addr + 12, 4);
			__builtin_memset(a->addr + 4, 0, 12);
		}
	} else {
		bpf_core_read(a->addr, 4, &sk->__sk_common.skc_daddr);
	}
}

/* A listener made a child: a handshake completed (including with a syncookie). */
static __always_inline int on_state(const struct sock *sk, int oldstate, int newstate)
{
	struct wl_guard_listen *l;
	struct wl_guard_port *pv;
	struct wl_guard_counts *sc;
	struct wl_guard_addr remote;
	__u16 port;
	__u32 key;

	if (oldstate != TCP_LISTEN || newstate != TCP_SYN_RECV || !sk || wl_sk_protocol(sk) != WL_IPPROTO_TCP)
		return 0;
	port = wl_sk_sport(sk);
	l = listen_at(wl_sk_netns(sk), port);
	if (l)
		l->est += 1;
	key = ((__u32)WL_GUARD_TCP << 16) | port;
	pv = bpf_map_lookup_elem(&wl_guard_ports, &key);
	if (pv)
		pv->c.est += 1;
	sk_remote(sk, &remote);
	sc = bpf_map_lookup_elem(&wl_guard_sources, &remote);
	if (sc)
		sc->est += 1;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wl_guard_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int wl_guard_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != WL_IPPROTO_TCP)
		return 0;
	return on_state((const struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate);
}

/* A SYN-ACK sent again: its SYN's handshake has not completed. sk is the listener. */
static __always_inline int on_synack_retrans(const struct sock *sk)
{
	struct wl_guard_listen *l;

	if (!sk)
		return 0;
	l = listen_at(wl_sk_netns(sk), wl_sk_sport(sk));
	if (l)
		l->synack_retrans += 1;
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(wl_guard_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	return on_synack_retrans(sk);
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int wl_guard_synack_tp(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	return on_synack_retrans((const struct sock *)ctx->skaddr);
}

/* A reset sent: for a socket (its port), or for a packet that found none (port 0 of the packet's netns). */
static __always_inline int on_reset(const struct sock *sk, const struct sk_buff *skb)
{
	struct wl_guard_listen *l;
	__u32 netns = 0;
	__u16 port = 0;

	if (sk) {
		netns = wl_sk_netns(sk);
		port = wl_sk_sport(sk);
	} else if (skb) {
		struct net_device *dev = BPF_CORE_READ(skb, dev);

		if (dev)
			netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	} else {
		return 0;
	}
	l = listen_at(netns, port);
	if (l)
		l->rst_sent += 1;
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(wl_guard_rst_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return on_reset(sk, skb);
}

SEC("tracepoint/tcp/tcp_send_reset")
int wl_guard_rst_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
	const struct sk_buff *skb = 0;

	if (bpf_core_field_exists(ctx->skbaddr))
		skb = BPF_CORE_READ(ctx, skbaddr);
	return on_reset((const struct sock *)ctx->skaddr, skb);
}

/*
 * The kernel dropped a packet: counted per reason in the namespace it was
 * dropped in (its device's, else its socket's), so that an alert shows only
 * its own namespace's drops. A (namespace, reason) pair past the table's
 * size goes uncounted.
 */
static __always_inline void count_drop(const struct sk_buff *skb, __u32 reason)
{
	struct wl_guard_drop_key k = {.reason = reason};
	struct net_device *dev;
	struct sock *sk;
	__u64 one = 1, *n;

	if (skb) {
		dev = BPF_CORE_READ(skb, dev);
		if (dev) {
			k.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		} else {
			sk = BPF_CORE_READ(skb, sk);
			if (sk)
				k.netns = wl_sk_netns(sk);
		}
	}
	n = bpf_map_lookup_elem(&wl_guard_drops, &k);
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(&wl_guard_drops, &k, &one, BPF_NOEXIST);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(wl_guard_drop_btf, const struct sk_buff *skb, void *location, int reason)
{
	count_drop(skb, reason);
	return 0;
}

/* skb:kfree_skb before 5.17 has no reason: SKB_DROP_REASON_NOT_SPECIFIED. */
#define WL_GUARD_DROP_NOT_SPECIFIED 2

SEC("tracepoint/skb/kfree_skb")
int wl_guard_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	count_drop((const struct sk_buff *)BPF_CORE_READ(ctx, skbaddr),
		   bpf_core_field_exists(ctx->reason) ? BPF_CORE_READ(ctx, reason)
						      : WL_GUARD_DROP_NOT_SPECIFIED);
	return 0;
}

/*
 * Run by user space once per interval in each watched namespace (an
 * iter/tcp walks the namespace it is created in): each listener whose SYN
 * or accept queue holds anything, written out (no map: iterator programs
 * that take one are refused on some kernels). Every TCP socket is visited;
 * only listeners cost more than a state check.
 */
SEC("iter/tcp")
int wl_guard_queues(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct wl_guard_queue q = {};
	struct tcp_sock *tp;

	if (!skc || BPF_CORE_READ(skc, skc_state) != TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	q.syn_queue = BPF_CORE_READ(tp, inet_conn.icsk_accept_queue.qlen.counter);
	q.accept_queue = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_ack_backlog);
	if (!q.syn_queue && !q.accept_queue)
		return 0;
	q.backlog = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_max_ack_backlog);
	q.netns = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	q.port = BPF_CORE_READ(skc, skc_num);
	q.family = BPF_CORE_READ(skc, skc_family);
	bpf_seq_write(seq, &q, sizeof(q));
	return 0;
}
