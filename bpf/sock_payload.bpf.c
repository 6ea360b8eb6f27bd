// SPDX-License-Identifier: Apache-2.0
/*
 * DNS and TLS bytes of every local socket, for wirelens dns and tls.
 *
 * cgroup_skb ingress/egress on the root cgroup sees every packet of every
 * socket on the host (all network namespaces), with the socket, whose
 * process comes from socket storage (sk_owner.bpf.h). What is copied:
 *  - UDP (wl_sp_dns): datagrams whose first bytes pass a cheap DNS header
 *    test, on any port, whole (several records past WL_SP_CHUNK bytes);
 *  - TCP: a connection is judged once, by the first payload its socket
 *    sends or receives: DNS (wl_sp_dns: a two-byte length and a DNS header,
 *    or port 53), TLS (wl_sp_tls: a handshake record), or neither, never
 *    looked at again. Of a DNS or TLS connection, the segments of each
 *    direction are copied with their place in the stream until a bound:
 *    wl_sp_dns_tcp_max bytes for DNS; for TLS, the hello message when its
 *    first bytes give its length, else wl_sp_tls_max bytes. User space puts
 *    the segments in order. Only connections seen from their first byte
 *    are judged (nothing sent or received before); their streams are
 *    numbered from that byte (after the SYN, whose data TFO carries).
 *  - A segment that reaches a listening socket (the one completing the
 *    handshake when the bare ACK was lost or TCP_DEFER_ACCEPT dropped it,
 *    a TFO SYN's data) is judged and copied there, flagged; the listener's
 *    child then carries on from it (matched by namespace and ends), and
 *    user space joins the two the same way.
 * Arriving segments are copied only inside the receive window; a FIN or
 * RST ends a direction only in order. What is not copied is counted
 * (wl_sp_stats), and the record where a direction stops says so.
 * --pid/--comm apply to the socket's owner, --port to either end.
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

const struct wl_sp_event *const wl_btf_sp_event = 0;

/* What to copy; set from user space before load. */
const volatile __u32 wl_sp_dns = 0;
const volatile __u32 wl_sp_tls = 0;
/* Bytes copied per direction of a DNS-over-TCP connection. */
const volatile __u32 wl_sp_dns_tcp_max = 256 << 10;
/* Bytes copied per direction of a TLS connection whose hello length is not known from its first segment. */
const volatile __u32 wl_sp_tls_max = 16 << 10;

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define DNS_HEADER 12
#define DNS_PORT 53
/* A UDP datagram or a TCP segment is at most 64 KiB (GSO included): 16 records. */
#define MAX_CHUNKS 16
/* Bytes kept of a direction that does not start with a TLS handshake record: enough to tell. */
#define NOT_HELLO_BYTES 16

enum { CONN_UNKNOWN = 0, CONN_DNS = WL_SP_DNS, CONN_TLS = WL_SP_TLS, CONN_OTHER = 3, CONN_DONE = 4 };

struct conn_dir {
	__u32 base;  /* sequence number of the direction's first payload byte */
	__u32 limit; /* bytes of the stream to copy, from base */
	__u8 started;
	__u8 done;
	__u8 limited; /* WL_SP_STAT_LIMIT counted */
	__u8 _pad;
};

/* A TCP socket's verdict and copy state (for a UDP socket: CONN_DNS after a DNS query), freed with the socket. */
struct conn {
	__u8 kind;
	__u8 _pad[3];
	struct conn_dir dir[2]; /* 0: egress, 1: ingress */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} wl_sp_conns SEC(".maps");

/* A connection's namespace and ends, the same from its listener and from the socket it became. */
struct sp_ends {
	__u32 netns;
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u16 _pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* What a listener copied of a connection's first arriving bytes: its child carries on from there. */
struct sp_listened {
	__u64 ts_ns; /* when: an entry no child took soon after is stale (its ends may be reused) */
	__u8 kind;
	__u8 done; /* the copy limit reached */
	__u8 _pad[2];
	__u32 limit;
};

/* A child takes its listener's entry within this long (the handshake's last segment makes it at once). */
#define LISTENED_TTL_NS (10ULL * 1000 * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sp_ends);
	__type(value, struct sp_listened);
} wl_sp_listened SEC(".maps");

/* enum wl_sp_stat counters, beside the common wl_stats. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_SP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wl_sp_stats SEC(".maps");

static __always_inline void sp_stat(__u32 slot)
{
	wl_count(&wl_sp_stats, slot);
}

/* One packet's ends and where its payload is. */
struct pkt {
	struct wl_ip ip;
	__u8 tcp_flags;
	__u8 _pad[3];
	__u16 sport;
	__u16 dport;
	__u32 seq; /* of the first payload byte: a SYN's own number is skipped */
	__u32 off; /* payload offset from the IP header */
	__u32 len; /* payload bytes */
};

static __always_inline bool parse(struct __sk_buff *skb, struct pkt *p)
{
	__u32 l4, hdr;

	__builtin_memset(p, 0, sizeof(*p));
	if (!wl_ip_header(skb, 0, skb->protocol, &p->ip) || p->ip.later_fragment)
		return false;
	l4 = p->ip.l4;
	if (p->ip.proto == WL_IPPROTO_UDP) {
		struct udphdr uh;

		if (bpf_skb_load_bytes(skb, l4, &uh, sizeof(uh)))
			return false;
		p->sport = bpf_ntohs(uh.source);
		p->dport = bpf_ntohs(uh.dest);
		hdr = sizeof(uh);
	} else if (p->ip.proto == WL_IPPROTO_TCP) {
		struct tcphdr th;

		if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)))
			return false;
		p->sport = bpf_ntohs(th.source);
		p->dport = bpf_ntohs(th.dest);
		p->seq = bpf_ntohl(th.seq);
		p->tcp_flags = ((__u8 *)&th)[13];
		if (p->tcp_flags & TCP_SYN)
			p->seq += 1; /* a SYN's data (TFO) starts after it */
		hdr = th.doff * 4;
	} else {
		return false;
	}
	p->off = l4 + hdr;
	if (skb->len <= p->off)
		return true; /* no payload */
	p->len = skb->len - p->off;
	return true;
}

/* The DNS header (RFC 1035 4.1.1) at h could begin a message: the tests looksLikeDns starts with. */
static __always_inline bool dns_header_ok(const __u8 *h, __u32 avail)
{
	__u8 f1 = h[2], f2 = h[3];
	bool response = f1 & 0x80;
	__u8 opcode = (f1 >> 3) & 0x0f;
	__u8 rcode = f2 & 0x0f;

	if (opcode > 6 || opcode == 3)
		return false;
	if (f2 & 0x40) /* Z */
		return false;
	if (!response && rcode)
		return false;
	if (h[4] != 0 || h[5] > 4) /* questions */
		return false;
	if (h[5] == 0)
		return opcode == 6 || (response && rcode);
	/* The first label of the first question: a pointer cannot come first. */
	return avail <= DNS_HEADER || h[DNS_HEADER] <= 63;
}

static __always_inline void fill_sock(struct wl_sock_id *id, const struct pkt *p, bool egress,
				      const struct bpf_sock *sk)
{
	const struct sock *ks = (const struct sock *)wl_ptr_id(sk);
	__u32 n = p->ip.family == AF_INET6 ? 16 : 4;

	__builtin_memset(id, 0, sizeof(*id));
	id->netns = wl_sk_netns(ks);
	id->family = p->ip.family;
	id->protocol = p->ip.proto;
	id->sport = egress ? p->sport : p->dport;
	id->dport = egress ? p->dport : p->sport;
	if (n == 16) {
		__builtin_memcpy(id->saddr, egress ? p->ip.saddr : p->ip.daddr, 16);
		__builtin_memcpy(id->daddr, egress ? p->ip.daddr : p->ip.saddr, 16);
	} else {
		__builtin_memcpy(id->saddr, egress ? p->ip.saddr : p->ip.daddr, 4);
		__builtin_memcpy(id->daddr, egress ? p->ip.daddr : p->ip.saddr, 4);
	}
}

/*
 * The record's common part, and whether the filters let it through:
 * --pid/--comm on the socket's owner, --port on the packet's ports (what
 * they drop is counted here).
 */
static __always_inline bool prepare(struct wl_sp_event *e, struct __sk_buff *skb, const struct bpf_sock *sk,
				    const struct pkt *p, bool egress, __u8 kind)
{
	struct sk_owner *o = bpf_sk_storage_get(&wl_owners, (void *)sk, 0, 0);

	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.type = WL_EV_SOCK_PAYLOAD;
	e->hdr.cpu = bpf_get_smp_processor_id();
	if (o) {
		e->proc.pid = o->tgid;
		e->proc.tid = o->tgid;
		e->proc.uid = o->uid;
		__builtin_memcpy(e->proc.comm, o->comm, sizeof(e->proc.comm));
	} else {
		e->hdr.flags = WL_F_PROC_UNKNOWN;
	}
	e->proc.cgroup_id = bpf_skb_cgroup_id(skb);
	if (!wl_port_allowed(p->sport, p->dport)) {
		wl_stat_inc(WL_STAT_FILTERED);
		sp_stat(WL_SP_STAT_PORT_FILTERED);
		return false;
	}
	if (wl_proc_filter_active() && (!o || !wl_proc_allowed(&e->proc))) {
		wl_stat_inc(WL_STAT_FILTERED);
		sp_stat(WL_SP_STAT_PROC_FILTERED);
		return false;
	}
	fill_sock(&e->sock, p, egress, sk);
	e->conn = bpf_get_socket_cookie(skb);
	e->len = p->len;
	e->kind = kind;
	e->dir = egress ? WL_SP_EGRESS : WL_SP_INGRESS;
	return true;
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

#define CLASS_DEF(size)               \
	struct rec_##size {           \
		struct wl_sp_event e; \
		__u8 data[size];      \
	}
CLASS_DEF(128);
CLASS_DEF(512);
CLASS_DEF(2048);
CLASS_DEF(4096);

/* One record of a size class holding n (1..size) bytes from the payload at `from`. */
#define EMIT_CLASS(size)                                                                 \
	do {                                                                             \
		struct rec_##size *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);   \
		if (!r) {                                                                \
			wl_stat_inc(WL_STAT_RB_LOST);                                    \
			return false;                                                    \
		}                                                                        \
		__u64 k = shown_bound(n, 2 * (size)-1);                                  \
		r->e = m->e;                                                             \
		r->e.off = from - m->payload_off;                                        \
		r->e.cap = k;                                                            \
		if (k == 0 || k > (size) || bpf_skb_load_bytes(skb, from, r->data, k)) { \
			bpf_ringbuf_discard(r, 0);                                       \
			return false;                                                    \
		}                                                                        \
		bpf_ringbuf_submit(r, wl_submit_flags());                                \
		wl_stat_inc(WL_STAT_EMITTED);                                            \
	} while (0)

struct emit_ctx {
	struct wl_sp_event e;
	__u32 payload_off; /* the packet's payload offset from the IP header */
};

static __always_inline bool emit_one(struct __sk_buff *skb, const struct emit_ctx *m, __u32 from, __u32 n)
{
	if (n == 0) {
		struct wl_sp_event *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);

		if (!r) {
			wl_stat_inc(WL_STAT_RB_LOST);
			return false;
		}
		*r = m->e;
		r->off = 0;
		r->cap = 0;
		bpf_ringbuf_submit(r, wl_submit_flags());
		wl_stat_inc(WL_STAT_EMITTED);
		return true;
	}
	if (n == WL_SP_CHUNK) {
		struct rec_4096 *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);

		if (!r) {
			wl_stat_inc(WL_STAT_RB_LOST);
			return false;
		}
		r->e = m->e;
		r->e.off = from - m->payload_off;
		r->e.cap = WL_SP_CHUNK;
		if (bpf_skb_load_bytes(skb, from, r->data, WL_SP_CHUNK)) {
			bpf_ringbuf_discard(r, 0);
			return false;
		}
		bpf_ringbuf_submit(r, wl_submit_flags());
		wl_stat_inc(WL_STAT_EMITTED);
		return true;
	}
	if (n <= 128)
		EMIT_CLASS(128);
	else if (n <= 512)
		EMIT_CLASS(512);
	else if (n <= 2048)
		EMIT_CLASS(2048);
	else
		EMIT_CLASS(4096);
	return true;
}

/*
 * Copies n bytes from m->payload_off on (at most MAX_CHUNKS records' worth):
 * whole WL_SP_CHUNK records first, then the rest in the smallest class that
 * holds it. Each record's `off` counts from m->payload_off.
 */
static __always_inline void emit(struct __sk_buff *skb, struct emit_ctx *m, __u32 n)
{
	__u32 full = n / WL_SP_CHUNK, from = m->payload_off;

	for (int i = 0; i < MAX_CHUNKS; i++) {
		if (i >= full)
			break;
		if (!emit_one(skb, m, from, WL_SP_CHUNK))
			return;
		from += WL_SP_CHUNK;
	}
	if (full < MAX_CHUNKS && (n % WL_SP_CHUNK || n == 0))
		emit_one(skb, m, from, n % WL_SP_CHUNK);
}

/*
 * A UDP datagram: copied when its header could be DNS. A socket that sends a
 * DNS query is marked (kind CONN_DNS in its storage); the first datagram it
 * then receives that is not DNS is copied too, once per mark, so user space
 * counts it and tells the query's timeout that its server answered something
 * else.
 */
static __always_inline void on_udp(struct __sk_buff *skb, const struct bpf_sock *sk, const struct pkt *p,
				   bool egress)
{
	struct emit_ctx m;
	struct conn *c;
	__u8 h[DNS_HEADER + 1] = {};
	bool dns = false;

	if (p->len >= DNS_HEADER &&
	    !bpf_skb_load_bytes(skb, p->off, h, p->len > DNS_HEADER ? DNS_HEADER + 1 : DNS_HEADER))
		dns = dns_header_ok(h, p->len);
	if (!dns) {
		if (egress || p->len == 0)
			return;
		c = bpf_sk_storage_get(&wl_sp_conns, (void *)sk, 0, 0);
		if (!c || c->kind != CONN_DNS)
			return;
		c->kind = CONN_UNKNOWN;
	} else if (egress && !(h[2] & 0x80)) {
		c = bpf_sk_storage_get(&wl_sp_conns, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (c)
			c->kind = CONN_DNS;
	}
	if (!prepare(&m.e, skb, sk, p, egress, WL_SP_DNS))
		return;
	m.payload_off = p->off;
	emit(skb, &m, p->len);
}

/* A TCP connection's first payload: what it is (`by_port`: port 53 makes it DNS whatever its bytes). */
static __always_inline __u8 classify(struct __sk_buff *skb, const struct pkt *p, bool by_port)
{
	__u8 b[2 + DNS_HEADER + 1] = {};
	__u64 n = shown_bound(p->len < sizeof(b) ? p->len : sizeof(b), 15);

	if (n == 0 || bpf_skb_load_bytes(skb, p->off, b, n))
		return CONN_OTHER;
	/* 0x16 then 0x0300..0x0304: a handshake record, or its first byte(s). */
	if (wl_sp_tls && b[0] == 0x16 && (n < 2 || b[1] == 3) && (n < 3 || b[2] <= 4) &&
	    (n < 6 || b[5] == 1 || b[5] == 2))
		return CONN_TLS;
	if (wl_sp_dns) {
		if (by_port && (p->sport == DNS_PORT || p->dport == DNS_PORT))
			return CONN_DNS;
		if (n >= 2 + DNS_HEADER && ((b[0] << 8) | b[1]) >= DNS_HEADER && dns_header_ok(b + 2, n - 2))
			return CONN_DNS;
	}
	return CONN_OTHER;
}

/*
 * How many bytes of a TLS direction to copy, from its first segment: the
 * hello message whole when its length shows and it fits its record; a few
 * bytes when the direction does not start with a handshake; else the bound.
 */
static __always_inline __u32 tls_limit(struct __sk_buff *skb, const struct pkt *p)
{
	__u8 b[9];
	__u32 rec, need;

	if (p->len < sizeof(b) || bpf_skb_load_bytes(skb, p->off, b, sizeof(b)))
		return wl_sp_tls_max;
	if (b[0] != 0x16 || b[1] != 3 || b[2] > 4)
		return NOT_HELLO_BYTES;
	rec = (b[3] << 8) | b[4];
	need = 4 + ((b[6] << 16) | (b[7] << 8) | b[8]);
	if (need > rec || 5 + need > wl_sp_tls_max)
		return wl_sp_tls_max;
	return 5 + need;
}

/* The kernel's own view of a TCP socket (CO-RE reads). */
static __always_inline const struct tcp_sock *ktcp(const struct bpf_sock *sk)
{
	return (const struct tcp_sock *)wl_ptr_id(sk);
}

/* Whether an arriving segment starts at or before what the socket expects next (nothing missing before it). */
static __always_inline bool in_order(struct bpf_sock *sk, __u32 seq)
{
	struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);

	return !tp || (__s32)(seq - tp->rcv_nxt) <= 0;
}

/*
 * Whether an arriving segment starts inside the receive window, as
 * tcp_sequence() checks it after this hook: at most rcv_nxt plus the window
 * offered (rcv_wup + rcv_wnd - rcv_nxt, never below 0).
 */
static __always_inline bool in_window(const struct bpf_sock *sk, __u32 seq)
{
	const struct tcp_sock *tp = ktcp(sk);
	__u32 nxt = BPF_CORE_READ(tp, rcv_nxt);
	__s32 win = (__s32)(BPF_CORE_READ(tp, rcv_wup) + BPF_CORE_READ(tp, rcv_wnd) - nxt);

	if (win < 0)
		win = 0;
	return (__s32)(seq - (nxt + (__u32)win)) <= 0;
}

/*
 * Whether this packet's payload is the first the socket sends or receives:
 * nothing received, and nothing sent but this packet (egress: the hook runs
 * after tcp_transmit_skb counted it in bytes_sent, and before a
 * retransmission is counted in bytes_retrans).
 */
static __always_inline bool fresh(const struct bpf_sock *sk, const struct pkt *p, bool egress)
{
	const struct tcp_sock *tp = ktcp(sk);

	return BPF_CORE_READ(tp, bytes_received) == 0 && wl_tcp_tx_payload(tp) == (egress ? p->len : 0);
}

/* Not inlined: its CO-RE reads' temporaries would take the inlined program past 512 bytes of stack. */
static __noinline void ends_of(struct sp_ends *k, const struct pkt *p, bool egress, const struct bpf_sock *sk)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = wl_sk_netns((const struct sock *)wl_ptr_id(sk));
	k->family = p->ip.family;
	k->lport = egress ? p->sport : p->dport;
	k->rport = egress ? p->dport : p->sport;
	__builtin_memcpy(k->laddr, egress ? p->ip.saddr : p->ip.daddr, 16);
	__builtin_memcpy(k->raddr, egress ? p->ip.daddr : p->ip.saddr, 16);
}

/*
 * Payload arriving at a listener: the segment that completes the handshake
 * (the bare ACK lost, or dropped by TCP_DEFER_ACCEPT) or a TFO SYN's data.
 * The child socket gets it without passing this hook again, so it is judged
 * and copied here, flagged, and the verdict left for the child. Only a
 * connection's first bytes: a SYN's data are; another segment is taken to
 * be when its bytes begin a DNS message or a TLS handshake record (judged
 * by content, not by port 53: one ahead of a gap would have to begin one by
 * chance), else it is left to the child.
 */
static __always_inline void on_listener(struct __sk_buff *skb, struct bpf_sock *sk, const struct pkt *p,
					struct emit_ctx *m, struct sp_ends *k)
{
	struct sp_listened l = {};
	__u32 n;
	__u8 kind = classify(skb, p, p->tcp_flags & TCP_SYN);

	if (kind == CONN_OTHER)
		return;
	if (!prepare(&m->e, skb, sk, p, false, kind))
		return;
	l.ts_ns = bpf_ktime_get_ns();
	l.kind = kind;
	l.limit = kind == CONN_DNS ? wl_sp_dns_tcp_max : tls_limit(skb, p);
	n = p->len;
	m->e.flags = WL_SP_F_LISTENER;
	if (p->tcp_flags & TCP_FIN)
		m->e.flags |= WL_SP_F_FIN;
	if (n > MAX_CHUNKS * WL_SP_CHUNK && l.limit > MAX_CHUNKS * WL_SP_CHUNK) {
		l.limit = MAX_CHUNKS * WL_SP_CHUNK;
		m->e.flags |= WL_SP_F_CUT;
		sp_stat(WL_SP_STAT_CUT);
	}
	if (n >= l.limit) {
		n = l.limit;
		l.done = 1;
		m->e.flags |= WL_SP_F_LIMIT;
	}
	ends_of(k, p, false, sk);
	bpf_map_update_elem(&wl_sp_listened, k, &l, BPF_ANY);
	m->e.stream = 0;
	m->e.len = n;
	m->payload_off = p->off;
	sp_stat(WL_SP_STAT_LISTENER);
	emit(skb, m, n);
}

/* A connection's first payload: its verdict, with what its listener left for it. */
static __always_inline struct conn *judge(struct __sk_buff *skb, struct bpf_sock *sk, const struct pkt *p,
					  bool egress, struct sp_ends *k)
{
	struct sp_listened *l;
	struct conn *c;
	__u8 kind;

	ends_of(k, p, egress, sk);
	l = bpf_map_lookup_elem(&wl_sp_listened, k);
	if (l && bpf_ktime_get_ns() - l->ts_ns > LISTENED_TTL_NS) {
		bpf_map_delete_elem(&wl_sp_listened, k);
		l = 0;
	}
	if (l) {
		struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
		struct conn_dir in = {};

		kind = l->kind;
		in.limit = l->limit;
		in.done = l->done;
		in.started = 1;
		/* The listener's bytes came first: the child counted them as received. */
		in.base = tp ? tp->rcv_nxt - (__u32)tp->bytes_received : 0;
		bpf_map_delete_elem(&wl_sp_listened, k);
		c = bpf_sk_storage_get(&wl_sp_conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!c) {
			wl_stat_inc(WL_STAT_TABLE_FULL);
			return 0;
		}
		c->kind = kind;
		c->dir[1] = in;
		return c;
	}
	kind = classify(skb, p, true);
	if (kind != CONN_OTHER && !wl_port_allowed(p->sport, p->dport)) {
		/* once per connection: never copied */
		wl_stat_inc(WL_STAT_FILTERED);
		sp_stat(WL_SP_STAT_PORT_FILTERED);
		kind = CONN_OTHER;
	}
	if (kind != CONN_OTHER && !fresh(sk, p, egress)) {
		/* Seen mid-stream (made before wirelens started): where its streams begin is unknown. */
		sp_stat(WL_SP_STAT_NOT_FRESH);
		kind = CONN_OTHER;
	}
	c = bpf_sk_storage_get(&wl_sp_conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		wl_stat_inc(WL_STAT_TABLE_FULL);
		return 0;
	}
	c->kind = kind;
	return c;
}

static __always_inline void on_tcp(struct __sk_buff *skb, struct bpf_sock *sk, const struct pkt *p,
				   bool egress)
{
	struct conn *c = bpf_sk_storage_get(&wl_sp_conns, sk, 0, 0);
	struct conn_dir *d;
	struct emit_ctx m;
	struct sp_ends k;
	__u32 off, skip = 0, n;
	__u8 kind, flags = 0;
	bool ordered = true, ends;

	if (c) {
		kind = c->kind;
		if (kind == CONN_OTHER || kind == CONN_DONE)
			return;
	} else {
		if (p->len == 0)
			return;
		if (sk->state == TCP_LISTEN) {
			if (!egress)
				on_listener(skb, sk, p, &m, &k);
			return;
		}
		c = judge(skb, sk, p, egress, &k);
		if (!c)
			return;
		kind = c->kind;
		if (kind == CONN_OTHER)
			return;
	}
	d = &c->dir[egress ? 0 : 1];
	if (d->done)
		return;
	if (!egress) {
		/* Arriving: TCP drops what lies past the window after this hook; its bytes are not the stream's. */
		if (!in_window(sk, p->seq)) {
			sp_stat(WL_SP_STAT_OUT_OF_WINDOW);
			return;
		}
		ordered = in_order(sk, p->seq);
	}
	if (p->tcp_flags & TCP_FIN)
		flags |= WL_SP_F_FIN;
	/* An RST counts only in order (else the socket answers with a challenge ACK and goes on). */
	if ((p->tcp_flags & TCP_RST) && ordered)
		flags |= WL_SP_F_RST;
	/* A FIN ahead of a gap (queued out of order) does not end the direction yet: the gap still comes. */
	ends = flags && ordered;
	if (p->len == 0) {
		/* A FIN or RST: user space learns where the direction ends. */
		if (!flags)
			return;
		if (prepare(&m.e, skb, sk, p, egress, kind)) {
			m.e.stream = d->started ? p->seq - d->base : 0;
			m.e.len = 0;
			m.e.flags = flags;
			m.payload_off = p->off;
			emit(skb, &m, 0);
		}
		if (ends)
			d->done = 1;
		goto check_done;
	}
	if (!d->started) {
		struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);

		/* Egress goes out in order: its first payload is the stream's start. Ingress may
		 * come out of order: the start is what the socket expects next less what it took. */
		if (egress || !tp)
			d->base = p->seq;
		else
			d->base = tp->rcv_nxt - (__u32)tp->bytes_received;
		d->limit = kind == CONN_DNS ? wl_sp_dns_tcp_max
					    : (p->seq == d->base ? tls_limit(skb, p) : wl_sp_tls_max);
		d->started = 1;
	}
	off = p->seq - d->base;
	if ((__s32)off < 0) {
		/* A retransmission reaching back before the start: its bytes from the start on. */
		skip = -off;
		if (skip >= p->len)
			return;
		off = 0;
	}
	if (off >= d->limit) {
		/* Past the bound. Egress is in order, so all before it went; ingress may be ahead of a gap. */
		if (!egress)
			return;
		d->done = 1;
		goto check_done;
	}
	n = p->len - skip;
	if (n > MAX_CHUNKS * WL_SP_CHUNK && d->limit - off > MAX_CHUNKS * WL_SP_CHUNK) {
		/* More than one packet's records hold: the direction stops where they end (a gap would follow). */
		d->limit = off + MAX_CHUNKS * WL_SP_CHUNK;
		flags |= WL_SP_F_CUT;
		sp_stat(WL_SP_STAT_CUT);
	}
	if (n >= d->limit - off) {
		n = d->limit - off;
		flags |= WL_SP_F_LIMIT;
		if (kind == CONN_DNS && !(flags & WL_SP_F_CUT) && !d->limited) {
			d->limited = 1;
			sp_stat(WL_SP_STAT_LIMIT);
		}
	}
	if (!prepare(&m.e, skb, sk, p, egress, kind))
		return;
	m.e.stream = off;
	m.e.len = n;
	m.e.flags = flags;
	m.payload_off = p->off + skip;
	emit(skb, &m, n);
	if ((off + n >= d->limit && ordered) || ends)
		d->done = 1;
check_done:
	if (c->dir[0].done && c->dir[1].done)
		c->kind = CONN_DONE;
}

static __always_inline int on_skb(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;
	struct pkt p;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	if (!parse(skb, &p))
		return 1;
	if (p.ip.proto == WL_IPPROTO_UDP) {
		if (wl_sp_dns)
			on_udp(skb, sk, &p, egress);
	} else {
		on_tcp(skb, sk, &p, egress);
	}
	return 1; /* allow: wirelens only looks */
}

SEC("cgroup_skb/ingress")
int wl_sp_in(struct __sk_buff *skb)
{
	return on_skb(skb, false);
}

SEC("cgroup_skb/egress")
int wl_sp_out(struct __sk_buff *skb)
{
	return on_skb(skb, true);
}
