// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x exchanges of every local socket, from its packets, for wirelens
 * http: one record per exchange and socket, or (--stats-only) counters per
 * endpoint with latency histograms, and nothing per exchange.
 *
 * cgroup_skb ingress/egress on the root cgroup sees every packet of every
 * socket on the host (all network namespaces); the socket's process comes
 * from socket storage (sk_owner.bpf.h). Per TCP socket:
 *  - a verdict (wl_http_seen): a connection whose packet begins with a
 *    request method is HTTP (the side that sends it is the client); a fresh
 *    connection whose first payload does not is never looked at again; one
 *    seen mid-stream gets a few packets to show a head (keep-alive
 *    connections older than wirelens are picked up at their next request);
 *  - for HTTP, the state of each direction (wl_http_conns): where the next
 *    byte to parse is in the stream, and what it is (a head, a body of known
 *    length, a chunked body, a body that ends at close). Heads are read line
 *    by line from a per-CPU window, a line cut by a packet's end is carried
 *    to the next packet; bodies are counted, never read (chunked bodies: the
 *    chunk-size lines only). So several messages in one packet (pipelining,
 *    GSO/GRO super-packets), a head over several packets, 1xx responses,
 *    HEAD/204/304, Content-Length and chunked bodies all keep their place;
 *    101 and a 2xx to CONNECT end the connection's tracking;
 *  - requests wait in a small queue for their final responses (numbered
 *    alike); --method/--url-prefix/--url-contains/--host are decided on the
 *    head before anything reaches user space, and a filtered request's
 *    response is only counted;
 *  - the first WL_HTTP_HEAD_MAX bytes of the waiting request's head and of
 *    the response's head are kept in socket storage (wl_http_heads), and the
 *    exchange is sent when its response ends: one record with both heads
 *    (only the start lines without --headers), byte counts and latency.
 *    --stats-only keeps no heads: the exchange is counted in wl_http_routes.
 * An arriving segment that leaves a hole (out of order) or one the window
 * cannot hold makes the direction seek the next packet that begins a head;
 * requests waiting then are dropped (counted), and a response with no
 * request waiting is framed but not reported.
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

const struct wl_http_ex *const wl_btf_http_ex = 0;
const struct wl_http_ahead *const wl_btf_http_ahead = 0;
const struct wl_http_route_key *const wl_btf_http_route_key = 0;
const struct wl_http_route_val *const wl_btf_http_route_val = 0;

/* What user space wants: enum http_mode. */
enum http_mode { MODE_LINES = 0, MODE_HEADS = 1, MODE_STATS = 2 };
const volatile __u32 wl_http_mode = MODE_LINES;

#define URL_PREFIX_MAX 64
#define CONTAINS_MAX 32
#define HOST_MAX 64
#define URL_SCAN 256 /* --url-contains looks at the first URL_SCAN bytes of the target */
const volatile __u32 wl_http_prefix_len = 0;
const volatile char wl_http_prefix[URL_PREFIX_MAX] = {};
const volatile __u32 wl_http_method_len = 0;
const volatile char wl_http_method[WL_HTTP_METHOD_MAX] = {};
const volatile __u32 wl_http_contains_len = 0;
const volatile char wl_http_contains[CONTAINS_MAX] = {};
const volatile __u32 wl_http_host_len = 0;
const volatile char wl_http_host[HOST_MAX] = {}; /* lower case */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

/* A connection seen mid-stream gets this many packets to begin a head. */
#define CLASSIFY_TRIES 8

/* Per-CPU window: SCR new bytes after at most CARRY carried ones; indexes masked with WIN_MASK. */
#define SCR 1024
#define CARRY 320
#define WIN_MASK 2047
#define WIN_BYTES (WIN_MASK + 1 + 16)
/* Steps (a head's window, a body, a chunk line...) per packet, lines per window. */
#define MAX_STEPS 512
#define MAX_LINES 512
/* Requests waiting for their responses, per connection. */
#define QN 8
/* Bytes of a kept head (WL_HTTP_HEAD_MAX) plus room for one window's append. */
#define KEEP WL_HTTP_HEAD_MAX
#define SLOT_BYTES (KEEP + SCR)

/* wl_http_seen.kind */
enum { K_NEW = 0, K_HTTP = 1, K_OTHER = 2 };

struct seen {
	__u8 kind;
	__u8 tries;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct seen);
} wl_http_seen SEC(".maps");

/* hreq.flags */
#define RQ_FILTERED (1 << 0) /* failed --method/--url-prefix/--url-contains/--host */
#define RQ_HEAD (1 << 1)     /* method HEAD: the response has no body */
#define RQ_CONNECT (1 << 2)  /* method CONNECT: a 2xx makes a tunnel */
#define RQ_SLOT (1 << 3)     /* its head is in wl_http_heads.req */
#define RQ_HOST_OK (1 << 4)  /* its Host matched --host */
#define RQ_AHEAD (1 << 5)    /* its head is sent ahead of its exchange (wl_http_ahead): the slot is taken */

/* A request waiting for its final response. */
struct hreq {
	__u64 ts;    /* its first byte */
	__u64 bytes; /* head and body so far */
	__u32 no;
	__u8 flags; /* RQ_* */
	__u8 route_len;
	__u8 rk_flags; /* WL_HTTP_RK_CUT */
	__u8 _pad;
	char method[WL_HTTP_METHOD_MAX];
	char route[WL_HTTP_ROUTE_MAX]; /* --stats-only */
};

/* hdir.state */
enum {
	ST_SEEK = 0,	    /* lost: wait for a packet that begins a head */
	ST_HEAD = 1,	    /* at the start of a head's line */
	ST_SKIPLINE = 2,    /* inside a head line too long to read: skip to its end */
	ST_BODY = 3,	    /* `left` bytes of body */
	ST_CHUNK = 4,	    /* a chunked body (sub: where in it) */
	ST_UNTIL_CLOSE = 5, /* a response body that ends at close */
	ST_TUNNEL = 6,	    /* not HTTP any more */
};

/* hdir.sub in ST_CHUNK */
enum {
	CK_SIZE = 0,
	CK_EXT = 1,
	CK_DATA = 2,
	CK_DATA_END = 3,
	CK_TRAILER_START = 4,
	CK_TRAILER = 5,
	CK_TRAILER_CR = 6
};

/* hdir.hflags: what the head being read said */
#define H_CL (1 << 0)
#define H_CHUNKED (1 << 1)
#define H_TE (1 << 2) /* Transfer-Encoding other than chunked last */
#define H_BAD (1 << 3)

struct hdir {
	__u32 next; /* sequence number of the next byte to parse */
	__u32 _pad0;
	__u64 left;   /* body bytes left (ST_BODY), or of the current chunk */
	__u64 cl;     /* the head's Content-Length */
	__u64 ts;     /* the current head's first byte; 0 before it */
	__u64 mbytes; /* bytes of the current message so far */
	__u16 carry;  /* bytes of an unfinished line in cbuf */
	__u16 status; /* of the response head being read */
	__u16 l1;     /* bytes of the head up to its start line's end */
	__u8 state;
	__u8 sub;
	__u8 hflags;
	__u8 lines;	 /* lines of the head read (saturating) */
	__u8 from_start; /* ST_HEAD from the direction's first byte, whose sequence number is not known yet */
	__u8 _pad1[5];
	__u8 cbuf[CARRY];
};

/* Per HTTP socket. d[0] is the request direction, d[1] the response direction. */
struct http_conn {
	__u8 side;
	__u8 done;	/* no longer followed */
	__u8 resp_open; /* a response (maybe interim so far) to the queue's head has begun */
	__u8 resp_cut;
	__u32 req_no;  /* request heads seen */
	__u32 resp_no; /* final response heads seen */
	__u32 qh;      /* queue head (oldest waiting), counting up */
	__u32 qt;      /* queue tail */
	__u32 cur;     /* the request the response being read answers (0: none) */
	__u64 resp_ts; /* the final response's first byte */
	__u64 resp_bytes;
	__u16 resp_status;
	__u8 _pad[6];
	struct hreq nq; /* the request whose head is being read */
	struct hdir d[2];
	struct hreq q[QN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_conn);
} wl_http_conns SEC(".maps");

/* The kept heads of an HTTP socket (not with --stats-only). */
struct http_heads {
	__u32 req_owner; /* number of the request whose head is in req; 0: free */
	__u16 req_len;
	__u16 resp_len;
	__u16 req_l1; /* its request line's bytes */
	__u16 resp_l1;
	__u8 req_cut;
	__u8 resp_cut;
	__u8 host_len;
	__u8 ctype_len;
	__u8 host_cut;
	__u8 _pad[7];
	char host[WL_HTTP_VALUE_MAX];
	char ctype[WL_HTTP_VALUE_MAX];
	__u8 req[SLOT_BYTES];
	__u8 resp[SLOT_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_heads);
} wl_http_heads SEC(".maps");

/* The process and ends an exchange is reported with, made once per packet when needed. */
struct env {
	struct wl_proc proc;
	struct wl_sock_id id;
	__u64 cookie;
	__u8 ready;
	__u8 proc_known;
	__u8 _pad[6];
};

/* One packet's ends and where its payload is. */
struct pkt {
	struct wl_ip ip;
	__u8 tcp_flags;
	__u8 _pad[3];
	__u16 sport;
	__u16 dport;
	__u32 seq; /* of the first payload byte */
	__u32 off; /* payload offset from the IP header */
	__u32 len; /* payload bytes */
};

/*
 * A packet's scratch: the window heads are read in, the record's env, the
 * --stats-only key. One per nesting level on a CPU (a softirq may interrupt
 * a send), claimed with an atomic exchange.
 */
struct window {
	__u64 busy;
	/* The packet: next byte, end of payload (skb offsets); stop early. */
	__u32 pos;
	__u32 end;
	__u32 stop;
	/* A window of a head: next line, bytes in it, of which carried, where the head ended. */
	__u32 si;
	__u32 sn;
	__u32 sc0;
	__u32 send_at;
	__u32 sbad;
	/* find_lf */
	__u32 fi;
	__u32 fn;
	__u32 ffound;
	/* route_of */
	__u32 rt;
	__u32 rtend;
	__u32 ro;
	__u32 rss;
	__u8 rdigits;
	__u8 rother;
	__u8 rover;
	__u8 cfound; /* --url-contains */
	__u32 cpos;
	__u32 cend;
	__u32 tmp; /* launder() */
	__u32 ahead_len; /* a pipelined request's head ended this long into its first window: it can be sent ahead */
	__u32 ended; /* enum wl_http_end: the response just ended; the exchange is sent by the caller */
	__u64 now;   /* the packet's time */
	struct pkt p;
	struct env env;
	struct wl_http_route_key key;
	__u8 b[WIN_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct window);
} wl_http_win SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WL_HTTP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} wl_http_stats SEC(".maps");

/* --stats-only: per endpoint; user space sizes it and puts the two "(other)" rows in before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1026);
	__type(key, struct wl_http_route_key);
	__type(value, struct wl_http_route_val);
} wl_http_routes SEC(".maps");

/* A new row's first value (too large for the stack). */
const struct wl_http_route_val route_zero = {};

static __always_inline void hstat(__u32 slot)
{
	wl_count(&wl_http_stats, slot);
}

/* n masked in a way the verifier sees (the compiler drops a mask it proves useless). */
static __always_inline __u64 bound(__u64 n, __u64 mask)
{
	asm volatile("" : "+r"(n));
	return n & mask;
}

static __always_inline void tcp_fields(struct pkt *p, const struct tcphdr *th, __u32 skb_len)
{
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	p->seq = bpf_ntohl(th->seq);
	p->tcp_flags = ((const __u8 *)th)[13];
	if (p->tcp_flags & TCP_SYN)
		p->seq += 1;
	p->off = p->ip.l4 + th->doff * 4;
	if (skb_len > p->off)
		p->len = skb_len - p->off;
}

/*
 * The IP and TCP headers. They are in the linear part of every packet a
 * local TCP socket sends or takes, so they are read in place; the copying
 * helper is the fallback (IPv6, or a packet laid out otherwise).
 */
static __always_inline bool parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct tcphdr th;

	__builtin_memset(p, 0, sizeof(*p));
	if (skb->protocol == WL_ETH_P_IP_BE) {
		struct iphdr *ip = data;
		struct tcphdr *t;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			goto copy;
		if (ip->protocol != WL_IPPROTO_TCP || (ip->frag_off & bpf_htons(0x1fff)))
			return false;
		ihl = (ip->ihl & 0xf) * 4;
		t = data + ihl;
		if ((void *)(t + 1) > end)
			goto copy;
		p->ip.family = AF_INET;
		p->ip.proto = WL_IPPROTO_TCP;
		__builtin_memcpy(p->ip.saddr, &ip->saddr, 4);
		__builtin_memcpy(p->ip.daddr, &ip->daddr, 4);
		p->ip.l4 = ihl;
		tcp_fields(p, t, skb->len);
		return true;
	}
copy:
	if (!wl_ip_header(skb, 0, skb->protocol, &p->ip) || p->ip.later_fragment ||
	    p->ip.proto != WL_IPPROTO_TCP)
		return false;
	if (bpf_skb_load_bytes(skb, p->ip.l4, &th, sizeof(th)))
		return false;
	tcp_fields(p, &th, skb->len);
	return true;
}

#define LE4(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)
#define LE8(a, b, c, d, e, f, g, h) ((__u64)LE4(a, b, c, d) | (__u64)LE4(e, f, g, h) << 32)
#define LOWER8 0x2020202020202020ULL

/* Whether 8 bytes begin a request: a known method and a space. */
static __always_inline bool is_request_start(__u64 v)
{
	__u32 lo = (__u32)v;

	if (lo == LE4('G', 'E', 'T', ' ') || lo == LE4('P', 'U', 'T', ' '))
		return true;
	if (lo == LE4('P', 'O', 'S', 'T') || lo == LE4('H', 'E', 'A', 'D'))
		return ((v >> 32) & 0xff) == ' ';
	if (lo == LE4('P', 'A', 'T', 'C') || lo == LE4('T', 'R', 'A', 'C'))
		return ((v >> 32) & 0xffff) == (LE4('H', ' ', 0, 0) & 0xffff) ||
		       ((v >> 32) & 0xffff) == (LE4('E', ' ', 0, 0) & 0xffff);
	if (lo == LE4('D', 'E', 'L', 'E'))
		return ((v >> 32) & 0xffffff) == (LE4('T', 'E', ' ', 0) & 0xffffff);
	if (lo == LE4('O', 'P', 'T', 'I'))
		return v == LE8('O', 'P', 'T', 'I', 'O', 'N', 'S', ' ');
	if (lo == LE4('C', 'O', 'N', 'N'))
		return v == LE8('C', 'O', 'N', 'N', 'E', 'C', 'T', ' ');
	return false;
}

static __always_inline bool is_status_start(__u64 v)
{
	return (v & 0xffffffffffffffULL) == (LE8('H', 'T', 'T', 'P', '/', '1', '.', 0) & 0xffffffffffffffULL);
}

/* The first 8 payload bytes (zero-filled past a shorter payload). */
static __always_inline __u64 first8(struct __sk_buff *skb, const struct pkt *p)
{
	__u64 v = 0;
	__u32 n;

	if (p->len >= 8)
		return bpf_skb_load_bytes(skb, p->off, &v, 8) ? 0 : v;
	n = bound(p->len, 7);
	if (n == 0 || bpf_skb_load_bytes(skb, p->off, &v, n))
		return 0;
	return v;
}

/* The kernel's own view of a TCP socket (CO-RE reads). */
static __always_inline const struct tcp_sock *ktcp(const struct bpf_sock *sk)
{
	return (const struct tcp_sock *)wl_ptr_id(sk);
}

/* Whether this packet's payload is the first the socket sends or receives. */
static __noinline bool fresh(const struct bpf_sock *sk, __u32 len, bool egress)
{
	const struct tcp_sock *tp = ktcp(sk);

	if (!sk)
		return false;
	return BPF_CORE_READ(tp, bytes_received) == 0 && wl_tcp_tx_payload(tp) == (egress ? len : 0);
}

/*
 * Where a direction's stream starts, for a connection seen from its first
 * payload: sent bytes go out in order, so the first sent is the first
 * packet's; received ones may arrive out of order, so it is what the socket
 * expects next less what it took. False when bytes went by unseen.
 */
static __noinline bool stream_start(struct bpf_sock *sk, struct pkt *p, bool egress, __u32 *start)
{
	struct bpf_tcp_sock *tp;

	if (!sk || !p)
		return false;
	if (egress) {
		if (wl_tcp_tx_payload(ktcp(sk)) != p->len)
			return false;
		*start = p->seq;
		return true;
	}
	tp = bpf_tcp_sock(sk);
	if (!tp)
		return false;
	*start = tp->rcv_nxt - (__u32)tp->bytes_received;
	return true;
}

/* --- one packet's work --- */

struct window;
static __always_inline __u64 now_of(struct window *wk);

struct px {
	struct __sk_buff *skb;
	struct http_conn *c;
	struct http_heads *h; /* NULL with --stats-only */
	struct window *win;   /* the packet's claimed scratch: wk->p is the packet */
	__u8 role;	      /* 0: this packet carries requests, 1: responses */
	__u8 egress;
	__u8 _pad[6];
};

/*
 * Everything that changes while a packet is read lives in its claimed window
 * (map memory), not on the stack: the verifier then sees the same stack on
 * every turn of a bpf_loop and settles at once.
 */

static __always_inline struct hdir *dir_of(struct http_conn *c, __u8 role)
{
	return role ? &c->d[1] : &c->d[0];
}

/* --- the end of an exchange: a record, or a count --- */

/* An exchange's record in a size class: R bytes for the request head, S for the response head. */
#define REC_DEF(R, S)                \
	struct rec_##R##_##S {       \
		struct wl_http_ex e; \
		__u8 req[R];         \
		__u8 resp[S];        \
	}
REC_DEF(256, 256);
REC_DEF(2048, 256);
REC_DEF(256, 2048);
REC_DEF(2048, 2048);

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static __always_inline void count_route(struct wl_http_route_key *k, struct http_conn *c,
					const struct hreq *r, __u16 status, __u64 lat)
{
	struct wl_http_route_val *v;
	__u32 b, cls = status / 100;

	__builtin_memset(k, 0, sizeof(*k));
	k->side = c->side;
	k->len = r->route_len;
	k->flags = r->rk_flags;
	__builtin_memcpy(k->method, r->method, sizeof(k->method));
	__builtin_memcpy(k->route, r->route, sizeof(k->route));
	v = bpf_map_lookup_elem(&wl_http_routes, k);
	if (!v) {
		/* Another CPU may put it in first (EEXIST): either way look it up again. */
		bpf_map_update_elem(&wl_http_routes, k, &route_zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&wl_http_routes, k);
		if (!v) {
			/* The table is full: the overflow row of this side. */
			__builtin_memset(k, 0, sizeof(*k));
			k->side = c->side;
			k->flags = WL_HTTP_RK_OTHER;
			v = bpf_map_lookup_elem(&wl_http_routes, k);
			hstat(WL_HTTP_STAT_ROUTES_FULL);
			if (!v)
				return;
		}
	}
	if (cls > 5)
		cls = 0;
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->status[cls & 7], 1);
	if (status == 0)
		return;
	__sync_fetch_and_add(&v->lat_sum_ns, lat);
	if (lat > v->lat_max_ns)
		v->lat_max_ns = lat;
	b = log2_u64(lat / 1000);
	if (b >= WL_HTTP_LAT_BUCKETS)
		b = WL_HTTP_LAT_BUCKETS - 1;
	__sync_fetch_and_add(&v->lat[b & (WL_HTTP_LAT_BUCKETS - 1)], 1);
}

/* Fills the record's common part. */
static __always_inline void fill_ex(struct wl_http_ex *e, const struct env *v, const struct http_conn *c,
				    const struct hreq *r, __u8 end, __u64 now)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.ts_ns = r->ts;
	e->hdr.type = WL_EV_HTTP_EXCHANGE;
	e->hdr.flags = v->proc_known ? 0 : WL_F_PROC_UNKNOWN;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->proc = v->proc;
	e->sock = v->id;
	e->conn = v->cookie;
	e->req_bytes = r->bytes;
	e->no = r->no;
	__builtin_memcpy(e->method, r->method, sizeof(e->method));
	e->side = c->side;
	e->end = end;
	if (c->cur == r->no && c->resp_status) {
		e->status = c->resp_status;
		e->latency_ns = c->resp_ts > r->ts ? c->resp_ts - r->ts : 1;
		e->resp_bytes = c->resp_bytes;
	}
}

/* Copies n (<= max) bytes of a kept head into a record. */
#define COPY_HEAD(dst, max, src, n)                            \
	do {                                                   \
		__u64 k_ = bound(n, 2 * (max)-1);              \
		if (k_ > (max))                                \
			k_ = (max);                            \
		if (k_ && bpf_probe_read_kernel(dst, k_, src)) \
			k_ = 0;                                \
		n = k_;                                        \
	} while (0)

#define EMIT_CLASS(R, S)                                                                      \
	do {                                                                                  \
		struct rec_##R##_##S *rec = bpf_ringbuf_reserve(&wl_events, sizeof(*rec), 0); \
		if (!rec) {                                                                   \
			wl_stat_inc(WL_STAT_RB_LOST);                                         \
			return;                                                               \
		}                                                                             \
		fill_ex(&rec->e, v, c, r, end, now);                                          \
		COPY_HEAD(rec->req, R, h->req, rq);                                           \
		COPY_HEAD(rec->resp, S, h->resp, rs);                                         \
		rec->e.req_cap = rq;                                                          \
		rec->e.resp_cap = rs;                                                         \
		rec->e.resp_off = R;                                                          \
		rec->e.flags = flags;                                                         \
		rec->e.host_len = hl;                                                         \
		rec->e.ctype_len = cl;                                                        \
		if (hl)                                                                       \
			bpf_probe_read_kernel(rec->e.host, sizeof(rec->e.host), h->host);     \
		if (cl)                                                                       \
			bpf_probe_read_kernel(rec->e.ctype, sizeof(rec->e.ctype), h->ctype);  \
		bpf_ringbuf_submit(rec, wl_submit_flags());                                   \
		wl_stat_inc(WL_STAT_EMITTED);                                                 \
	} while (0)

static __always_inline void emit_ex(const struct env *v, struct http_conn *c, struct http_heads *h,
				    const struct hreq *r, __u8 end, __u64 now)
{
	__u32 rq = 0, rs = 0, hl = 0, cl = 0;
	__u8 flags = 0;
	bool answered = c->cur == r->no && c->resp_status;

	if (!h)
		return;
	if (wl_http_mode == MODE_LINES)
		flags |= WL_HTTP_F_LINES;
	if (r->flags & RQ_SLOT && h->req_owner == r->no) {
		rq = wl_http_mode == MODE_LINES ? h->req_l1 : h->req_len;
		if (rq > h->req_len)
			rq = h->req_len;
		if (h->req_cut)
			flags |= WL_HTTP_F_REQ_CUT;
		hl = h->host_len;
		if (h->host_cut)
			flags |= WL_HTTP_F_HOST_CUT;
	} else if (r->flags & RQ_AHEAD) {
		flags |= WL_HTTP_F_REQ_AHEAD;
	} else {
		flags |= WL_HTTP_F_REQ_LOST;
	}
	if (answered) {
		rs = wl_http_mode == MODE_LINES ? h->resp_l1 : h->resp_len;
		if (rs > h->resp_len)
			rs = h->resp_len;
		if (h->resp_cut)
			flags |= WL_HTTP_F_RESP_CUT;
		cl = h->ctype_len;
	}
	if (rq <= 256 && rs <= 256)
		EMIT_CLASS(256, 256);
	else if (rs <= 256)
		EMIT_CLASS(2048, 256);
	else if (rq <= 256)
		EMIT_CLASS(256, 2048);
	else
		EMIT_CLASS(2048, 2048);
}

/* Whether finishing an exchange reads the packet's env: records carry it; --stats-only only filters by its process. */
static __always_inline bool needs_env(void)
{
	return wl_http_mode != MODE_STATS || wl_proc_filter_active();
}

/* The process and ends an exchange of this packet's socket is reported with. */
static __noinline void packet_env(struct env *v, struct __sk_buff *skb, struct bpf_sock *sk,
				  const struct pkt *p, bool egress)
{
	struct sk_owner *o;
	__u32 n;

	__builtin_memset(v, 0, sizeof(*v));
	v->ready = 1;
	if (!sk)
		return;
	o = bpf_sk_storage_get(&wl_owners, sk, 0, 0);
	if (o) {
		v->proc.pid = o->tgid;
		v->proc.tid = o->tgid;
		v->proc.uid = o->uid;
		__builtin_memcpy(v->proc.comm, o->comm, sizeof(v->proc.comm));
		v->proc_known = 1;
	}
	v->proc.cgroup_id = bpf_skb_cgroup_id(skb);
	v->id.netns = wl_sk_netns((const struct sock *)wl_ptr_id(sk));
	v->id.family = p->ip.family;
	v->id.protocol = WL_IPPROTO_TCP;
	v->id.sport = egress ? p->sport : p->dport;
	v->id.dport = egress ? p->dport : p->sport;
	n = p->ip.family == AF_INET6 ? 16 : 4;
	if (n == 16) {
		__builtin_memcpy(v->id.saddr, egress ? p->ip.saddr : p->ip.daddr, 16);
		__builtin_memcpy(v->id.daddr, egress ? p->ip.daddr : p->ip.saddr, 16);
	} else {
		__builtin_memcpy(v->id.saddr, egress ? p->ip.saddr : p->ip.daddr, 4);
		__builtin_memcpy(v->id.daddr, egress ? p->ip.daddr : p->ip.saddr, 4);
	}
	v->cookie = bpf_get_socket_cookie(skb);
}

/*
 * The exchange of request r ends: sent (or counted), unless a filter drops
 * it. Its kept head is freed, and the connection waits for the next response.
 */
static __always_inline void finish(struct window *wk, struct http_conn *c, struct http_heads *h,
				   const struct hreq *r, __u8 end, __u64 now)
{
	const struct env *v = &wk->env;

	bool answered = c->cur == r->no && c->resp_status;

	hstat(WL_HTTP_STAT_EXCHANGES);
	if (!answered)
		hstat(WL_HTTP_STAT_UNANSWERED);
	if (r->flags & RQ_FILTERED) {
		/* counted when its head was judged */
	} else if (wl_proc_filter_active() && (!v->proc_known || !wl_proc_allowed(&v->proc))) {
		wl_stat_inc(WL_STAT_FILTERED);
		hstat(WL_HTTP_STAT_PROC_FILTERED);
	} else if (wl_http_mode == MODE_STATS) {
		count_route(&wk->key, c, r, answered ? c->resp_status : 0, answered ? c->resp_ts - r->ts : 0);
	} else {
		emit_ex(v, c, h, r, end, now);
	}
	if (h && h->req_owner == r->no)
		h->req_owner = 0;
}

/* --- state changes --- */

static __always_inline void msg_begin(struct hdir *d)
{
	d->state = ST_HEAD;
	d->lines = 0;
	d->carry = 0;
	d->hflags = 0;
	d->cl = 0;
	d->ts = 0;
	d->mbytes = 0;
	d->status = 0;
	d->l1 = 0;
}

/* The queue's head (look only when c->qh != c->qt). */
static __always_inline struct hreq *queue_head(struct http_conn *c)
{
	return &c->q[c->qh & (QN - 1)];
}

/* The response in progress ends: its exchange (if it answers a waiting request) is sent. */
static __noinline void response_done(struct px *x, __u8 end)
{
	struct http_conn *c = x->c;

	if (c->cur && c->qh != c->qt) {
		struct hreq *r = queue_head(c);

		if (r->no == c->cur) {
			if (!x->win->env.ready && needs_env()) {
				struct bpf_sock *sk = x->skb->sk;

				if (sk)
					sk = bpf_sk_fullsock(sk);
				packet_env(&x->win->env, x->skb, sk, &x->win->p, x->egress);
			}
			finish(x->win, c, x->h, r, end, 0);
			c->qh++;
		}
	}
	c->cur = 0;
	c->resp_open = 0;
	c->resp_status = 0;
	c->resp_bytes = 0;
}

/* The connection ends (or stops being followed): what waits is sent as it is. */
static __always_inline void conn_end(struct http_conn *c, struct http_heads *h, struct window *wk, __u64 now)
{
	for (int i = 0; i < QN; i++) {
		struct hreq *r;

		if (c->qh == c->qt)
			break;
		r = queue_head(c);
		finish(wk, c, h, r, WL_HTTP_END_CLOSED, now);
		c->qh++;
		c->cur = 0;
	}
	c->done = 1;
}

/* A direction lost its place: it seeks the next head; requests waiting cannot be paired now. */
static __always_inline void lose(struct http_conn *c, struct http_heads *h, __u8 role, __u32 why)
{
	struct hdir *d = dir_of(c, role);

	hstat(why);
	d->state = ST_SEEK;
	d->carry = 0;
	if (c->qt != c->qh) {
		__u64 *n;
		__u32 slot = WL_HTTP_STAT_DROPPED;

		n = bpf_map_lookup_elem(&wl_http_stats, &slot);
		if (n)
			*n += (c->qt - c->qh) & 0xff;
		c->qh = c->qt;
	}
	c->cur = 0;
	c->resp_open = 0;
	c->resp_status = 0;
	c->resp_bytes = 0;
	if (h)
		h->req_owner = 0;
}

/* Bytes of the current message went by. */
static __always_inline void count(struct px *x, struct hdir *d, __u64 n)
{
	struct http_conn *c = x->c;

	d->mbytes += n;
	if (x->role) {
		c->resp_bytes += n;
	} else if (d->state != ST_HEAD && d->state != ST_SKIPLINE && c->qt != c->qh) {
		struct hreq *r = &c->q[(c->qt - 1) & (QN - 1)];

		if (r->no == c->req_no)
			r->bytes += n;
	}
}

/* --- reading heads --- */

/*
 * A value passed through map memory: the verifier no longer knows it, so
 * paths that computed it differently merge (their states compare equal)
 * instead of multiplying. Callers bound what they use it for.
 */
static __always_inline __u32 launder(struct window *wk, __u32 v)
{
	*(volatile __u32 *)&wk->tmp = v;
	return *(volatile __u32 *)&wk->tmp;
}

static __always_inline __u8 B(const __u8 *w, __u32 i)
{
	return w[i & WIN_MASK];
}

static __always_inline __u64 W8(const __u8 *w, __u32 i)
{
	return *(const __u64 *)(w + (i & WIN_MASK));
}

/* Byte index (0..7) of the lowest flagged byte of a has-zero mask. */
static __always_inline __u32 first_flag(__u64 t)
{
	__u32 b = 0;

	if (!(t & 0xffffffffULL)) {
		b += 4;
		t >>= 32;
	}
	if (!(t & 0xffffULL)) {
		b += 2;
		t >>= 16;
	}
	if (!(t & 0xffULL))
		b += 1;
	return b;
}

static long lf_step(__u32 k, struct px *x)
{
	struct window *wk = x->win;
	__u32 i = wk->fi;
	__u64 v, t;

	if (i >= wk->fn)
		return 1;
	v = W8(wk->b, i) ^ 0x0a0a0a0a0a0a0a0aULL;
	t = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
	if (t) {
		__u32 at = i + first_flag(t);

		wk->ffound = at < wk->fn ? at : wk->fn;
		return 1;
	}
	wk->fi = i + 8;
	return 0;
}

/* Index of the first '\n' in the window's [i, n), or n. */
static __always_inline __u32 find_lf(struct px *x, __u32 i, __u32 n)
{
	struct window *wk = x->win;

	wk->fi = i;
	wk->fn = n;
	wk->ffound = n;
	bpf_loop((WIN_MASK + 1) / 8, lf_step, x, 0);
	return wk->ffound;
}

static long contains_step(__u32 i, struct px *x)
{
	struct window *wk = x->win;
	__u32 p = wk->cpos + i;

	if (p + wl_http_contains_len > wk->cend)
		return 1;
	for (__u32 j = 0; j < CONTAINS_MAX && j < wl_http_contains_len; j++) {
		if (B(wk->b, p + j) != wl_http_contains[j])
			return 0;
	}
	wk->cfound = 1;
	return 1;
}

/* The target's route for --stats-only: the path up to '?', each all-digit segment as {n}. */
static long route_step(__u32 k, struct px *x)
{
	struct window *wk = x->win;
	struct hreq *q = &x->c->nq;
	__u32 p = wk->rt + k, o = wk->ro;
	__u8 ch = p < wk->rtend ? B(wk->b, p) : '?';

	if (ch == '/' || ch == '?' || ch == ' ' || ch == '#') {
		if (wk->rdigits && !wk->rother && wk->rss + 3 <= WL_HTTP_ROUTE_MAX) {
			o = wk->rss;
			q->route[o & (WL_HTTP_ROUTE_MAX - 1)] = '{';
			q->route[(o + 1) & (WL_HTTP_ROUTE_MAX - 1)] = 'n';
			q->route[(o + 2) & (WL_HTTP_ROUTE_MAX - 1)] = '}';
			o += 3;
			wk->rover = 0;
		}
		wk->ro = o;
		if (wk->rover || (ch == '/' && o >= WL_HTTP_ROUTE_MAX)) {
			q->rk_flags |= WL_HTTP_RK_CUT;
			return 1;
		}
		if (ch != '/')
			return 1;
		q->route[o & (WL_HTTP_ROUTE_MAX - 1)] = '/';
		wk->ro = o + 1;
		wk->rss = o + 1;
		wk->rdigits = 0;
		wk->rother = 0;
		return 0;
	}
	if (ch >= '0' && ch <= '9')
		wk->rdigits = 1;
	else
		wk->rother = 1;
	if (o < WL_HTTP_ROUTE_MAX) {
		q->route[o & (WL_HTTP_ROUTE_MAX - 1)] = ch;
		wk->ro = o + 1;
	} else {
		wk->rover = 1;
		if (wk->rother) {
			q->rk_flags |= WL_HTTP_RK_CUT;
			return 1;
		}
	}
	return 0;
}

static __always_inline void route_of(struct px *x, __u32 t, __u32 tend)
{
	struct window *wk = x->win;

	wk->rt = t;
	wk->rtend = tend;
	wk->ro = 0;
	wk->rss = 0;
	wk->rdigits = 0;
	wk->rother = 0;
	wk->rover = 0;
	bpf_loop(WIN_MASK + 1, route_step, x, 0);
	x->c->nq.route_len = wk->ro > WL_HTTP_ROUTE_MAX ? WL_HTTP_ROUTE_MAX : wk->ro;
}

/*
 * The request line w[i..le) (at = i | le << 16; cut: longer than the window
 * holds): method, --method/--url-prefix/--url-contains, the route. A global
 * function: verified once. 1 when it is one.
 */
__noinline int request_line_g(struct http_conn *c, struct window *wk, __u32 at, __u32 cut)
{
	struct px y = {};
	struct px *x = &y;
	struct hreq *q;
	__u32 i = at & 0xffff, le = at >> 16;

	if (!c || !wk)
		return 0;
	y.c = c;
	y.win = wk;
	q = &c->nq;
	const __u8 *w = wk->b;
	__u32 sp = 0, t, tend;
	bool pass = true;

	for (int k = 0; k < WL_HTTP_METHOD_MAX + 1; k++) {
		__u8 ch = B(w, i + k);

		if (i + k >= le)
			return 0;
		if (ch == ' ') {
			sp = k;
			break;
		}
		if ((ch < 'A' || ch > 'Z') && ch != '-' && ch != '_')
			return 0;
		if (k < WL_HTTP_METHOD_MAX)
			q->method[k & (WL_HTTP_METHOD_MAX - 1)] = ch;
	}
	if (sp < 3)
		return 0;
	sp = launder(wk, sp);
	/* HTTP/1.x, not HTTP/2's preface (PRI * HTTP/2.0). */
	if (!cut &&
	    (le < i + sp + 10 || (W8(w, le - 8) & 0xffffffffffffffULL) !=
					 (LE8('H', 'T', 'T', 'P', '/', '1', '.', 0) & 0xffffffffffffffULL)))
		return 0;
	if (sp == 4 && (__u32)W8(w, i) == LE4('H', 'E', 'A', 'D'))
		q->flags |= RQ_HEAD;
	if (sp == 7 && (W8(w, i) & 0xffffffffffffffULL) ==
			       (LE8('C', 'O', 'N', 'N', 'E', 'C', 'T', 0) & 0xffffffffffffffULL))
		q->flags |= RQ_CONNECT;
	t = i + sp + 1;
	tend = cut ? le : le - 9;
	if (wl_http_method_len > 0) {
		if (sp != wl_http_method_len)
			pass = false;
		for (int k = 0; k < WL_HTTP_METHOD_MAX; k++) {
			if (k < wl_http_method_len && B(w, i + k) != wl_http_method[k])
				pass = false;
		}
	}
	if (pass && wl_http_prefix_len > 0) {
		if (t + wl_http_prefix_len > tend)
			pass = false;
		for (int k = 0; k < URL_PREFIX_MAX; k++) {
			if (k < wl_http_prefix_len && B(w, t + k) != wl_http_prefix[k])
				pass = false;
		}
	}
	if (pass && wl_http_contains_len > 0) {
		wk->cpos = t;
		wk->cend = tend < t + URL_SCAN ? tend : t + URL_SCAN;
		wk->cfound = 0;
		bpf_loop(URL_SCAN, contains_step, x, 0);
		pass = wk->cfound;
	}
	if (!pass)
		q->flags |= RQ_FILTERED;
	if (wl_http_mode == MODE_STATS)
		route_of(x, t, tend);
	return 1;
}

/* "HTTP/1.x NNN" at w[i..le). */
static __always_inline bool status_line(struct px *x, struct hdir *d, __u32 i, __u32 le)
{
	const __u8 *w = x->win->b;
	__u8 a = B(w, i + 9), b = B(w, i + 10), c = B(w, i + 11);

	if (le < i + 12 || !is_status_start(W8(w, i)) || B(w, i + 8) != ' ')
		return false;
	if (a < '1' || a > '9' || b < '0' || b > '9' || c < '0' || c > '9')
		return false;
	d->status = (a - '0') * 100 + (b - '0') * 10 + (c - '0');
	return true;
}

/* The white space around a header value. */
static __always_inline __u32 value_start(const __u8 *w, __u32 colon, __u32 le)
{
	__u32 v = colon + 1;

#pragma unroll
	for (int k = 0; k < 4; k++) {
		if (v < le && (B(w, v) == ' ' || B(w, v) == '\t'))
			v++;
	}
	return v;
}

static __always_inline __u32 value_end(const __u8 *w, __u32 v, __u32 le)
{
#pragma unroll
	for (int k = 0; k < 4; k++) {
		if (le > v && (B(w, le - 1) == ' ' || B(w, le - 1) == '\t'))
			le--;
	}
	return le;
}

/* A value into a kept field (host, ctype). */
static __always_inline __u8 keep_value(char *dst, const __u8 *w, __u32 v, __u32 ve, __u8 *cut)
{
	__u32 n = ve > v ? ve - v : 0;

	if (n > WL_HTTP_VALUE_MAX) {
		n = WL_HTTP_VALUE_MAX;
		*cut = 1;
	}
	if (n &&
	    bpf_probe_read_kernel(dst, bound(n, 127) > WL_HTTP_VALUE_MAX ? WL_HTTP_VALUE_MAX : bound(n, 127),
				  w + (v & WIN_MASK)))
		n = 0;
	return n;
}

/* --host: the Host value, case-insensitively, with or without a port. */
static __always_inline bool host_matches(const __u8 *w, __u32 v, __u32 ve)
{
	__u32 e = v + wl_http_host_len;

	if (e > ve)
		return false;
	for (int k = 0; k < HOST_MAX; k++) {
		__u8 ch = B(w, v + k);

		if (k >= wl_http_host_len)
			break;
		if (ch >= 'A' && ch <= 'Z')
			ch |= 0x20;
		if (ch != wl_http_host[k])
			return false;
	}
	return e == ve || B(w, e) == ':';
}

/* Content-Length's value: the first number of a list; H_BAD when it is none. */
static __noinline void content_length(struct px *x, struct hdir *d, __u32 v, __u32 ve)
{
	const __u8 *w = x->win->b;
	__u64 cl = 0;
	int digits = 0;

	for (int k = 0; k < 16; k++) {
		__u8 ch = B(w, v + k);

		if (v + k >= ve || ch == ',')
			break;
		if (ch < '0' || ch > '9' || k == 15) {
			d->hflags |= H_BAD;
			return;
		}
		cl = cl * 10 + (ch - '0');
		digits++;
	}
	if (!digits) {
		d->hflags |= H_BAD;
		return;
	}
	d->cl = cl;
	d->hflags |= H_CL;
}

/*
 * A header line w[i..le) (at = i | le << 16; how: role | cut << 1): the
 * fields framing and the record need. A global function: verified once.
 */
__noinline int header_line_g(struct http_conn *c, struct http_heads *h, struct window *wk, __u32 at,
			     __u32 how)
{
	struct px y = {};
	struct px *x = &y;
	struct hdir *d;
	const __u8 *w;
	__u32 i = at & 0xffff, le = at >> 16;
	bool cut = how & 2;

	if (!c || !wk)
		return 0;
	y.c = c;
	y.h = h;
	y.win = wk;
	y.role = how & 1;
	d = dir_of(c, y.role);
	w = wk->b;
	__u64 n0 = W8(w, i) | LOWER8, n1 = W8(w, i + 8) | LOWER8;
	__u32 colon = 0, v, ve;
	__u8 kind = 0; /* 1 content-length, 2 transfer-encoding, 3 host, 4 content-type */

	if (n0 == LE8('c', 'o', 'n', 't', 'e', 'n', 't', '-')) {
		if ((n1 & 0xffffffffffffffULL) ==
		    (LE8('l', 'e', 'n', 'g', 't', 'h', ':', 0) & 0xffffffffffffffULL)) {
			kind = 1;
			colon = i + 14;
		} else if ((n1 & 0xffffffffffULL) ==
			   (LE8('t', 'y', 'p', 'e', ':', 0, 0, 0) & 0xffffffffffULL)) {
			kind = 4;
			colon = i + 12;
		}
	} else if (n0 == LE8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r') &&
		   n1 == LE8('-', 'e', 'n', 'c', 'o', 'd', 'i', 'n') && (B(w, i + 16) | 0x20) == 'g' &&
		   B(w, i + 17) == ':') {
		kind = 2;
		colon = i + 17;
	} else if ((n0 & 0xffffffffffULL) == (LE8('h', 'o', 's', 't', ':', 0, 0, 0) & 0xffffffffffULL)) {
		kind = 3;
		colon = i + 4;
	}
	if (!kind || colon >= le)
		return 0;
	v = launder(x->win, value_start(w, colon, le));
	ve = launder(x->win, value_end(w, v, le));
	if (kind == 1) {
		if (!(d->hflags & H_CL)) /* the first one counts */
			content_length(x, d, v, ve);
	} else if (kind == 2) {
		/* chunked when it is the last coding */
		if (ve >= v + 7 &&
		    (W8(w, ve - 7) | LOWER8) << 8 == LE8(0, 'c', 'h', 'u', 'n', 'k', 'e', 'd') &&
		    (ve == v + 7 || B(w, ve - 8) == ',' || B(w, ve - 8) == ' ' || B(w, ve - 8) == '\t'))
			d->hflags |= H_CHUNKED;
		else
			d->hflags |= H_TE;
	} else if (kind == 3 && x->role == 0) {
		struct http_conn *c = x->c;
		struct http_heads *h = x->h;

		if (wl_http_host_len > 0 && host_matches(w, v, ve))
			c->nq.flags |= RQ_HOST_OK;
		if (h && (c->nq.flags & RQ_SLOT) && !h->host_len) {
			__u8 hc = cut;

			h->host_len = keep_value(h->host, w, v, ve, &hc);
			h->host_cut = hc;
		}
	} else if (kind == 4 && x->role == 1 && x->h && !x->h->ctype_len) {
		__u8 cc = 0;

		x->h->ctype_len = keep_value(x->h->ctype, w, v, ve, &cc);
	}
	return 0;
}

/* Whether a header line starting with this byte may be one header_line_g reads (Content-*, Transfer-Encoding, Host). */
static __always_inline bool interesting(__u8 ch)
{
	ch |= 0x20;
	return ch == 'c' || ch == 't' || ch == 'h';
}

/* One line of the window; 1 to stop (the head ended, it is bad, or no whole line is left). */
static long line_step(__u32 k, struct px *x)
{
	struct window *wk = x->win;
	struct hdir *d = dir_of(x->c, x->role);
	const __u8 *w = wk->b;
	__u32 i = wk->si, n = wk->sn, e, le;

	if (i >= n)
		return 1;
	e = find_lf(x, i, n);
	if (e >= n)
		return 1;
	le = e;
	if (le > i && B(w, le - 1) == '\r')
		le--;
	le = launder(wk, le);
	wk->si = e + 1;
	if (d->lines == 0) {
		bool ok;

		if (le == i)
			return 0; /* empty lines before a start line are allowed */
		ok = x->role == 0 ? request_line_g(x->c, wk, i | le << 16, 0) : status_line(x, d, i, le);
		if (!ok) {
			wk->sbad = 1;
			return 1;
		}
		/* Where the start line ends in the head: the window's start is mbytes - c0 into it. */
		d->l1 = d->mbytes - wk->sc0 + e + 1;
	} else if (le == i) {
		wk->send_at = e + 1;
		return 1;
	} else if (interesting(B(w, i))) {
		header_line_g(x->c, x->h, wk, i | le << 16, x->role);
	}
	if (d->lines < 255)
		d->lines++;
	return 0;
}

/* A line too long for the window: judged by its first bytes, the rest skipped. */
static __always_inline bool long_line(struct px *x, struct hdir *d, __u32 i, __u32 n)
{
	bool ok = true;

	if (d->lines == 0) {
		ok = x->role == 0 ? request_line_g(x->c, x->win, (i & 0xffff) | (n & 0xffff) << 16, 1)
				  : false;
		d->l1 = KEEP; /* the kept bytes, all of them the start line */
	} else {
		header_line_g(x->c, x->h, x->win, (i & 0xffff) | (n & 0xffff) << 16, x->role | 2);
	}
	if (d->lines < 255)
		d->lines++;
	d->state = ST_SKIPLINE;
	d->carry = 0;
	return ok;
}

static __always_inline struct window *claim(void)
{
	for (__u32 k = 0; k < 2; k++) {
		struct window *w = bpf_map_lookup_elem(&wl_http_win, &k);

		if (w && __sync_val_compare_and_swap(&w->busy, 0, 1) == 0)
			return w;
	}
	return 0;
}

/* A pipelined request's whole head, from the window it began and ended in, ahead of its exchange. */
#define AHEAD_CLASS(size)                                                       \
	do {                                                                    \
		struct {                                                        \
			struct wl_http_ahead a;                                 \
			__u8 data[size];                                        \
		} *rec = bpf_ringbuf_reserve(&wl_events, sizeof(*rec), 0);      \
		if (!rec) {                                                     \
			wl_stat_inc(WL_STAT_RB_LOST);                           \
			return 0;                                               \
		}                                                               \
		__builtin_memset(&rec->a, 0, sizeof(rec->a));                   \
		rec->a.hdr.ts_ns = now_of(x->win);                              \
		rec->a.hdr.type = WL_EV_HTTP_AHEAD;                             \
		rec->a.hdr.cpu = bpf_get_smp_processor_id();                    \
		rec->a.conn = bpf_get_socket_cookie(x->skb);                    \
		rec->a.no = no;                                                 \
		rec->a.flags = n > (size) ? WL_HTTP_F_REQ_CUT : 0;              \
		n = bound(n, 2 * (size)-1);                                     \
		if (n > (size))                                                 \
			n = (size);                                             \
		if (n == 0 || bpf_probe_read_kernel(rec->data, n, x->win->b)) { \
			bpf_ringbuf_discard(rec, 0);                            \
			return 0;                                               \
		}                                                               \
		rec->a.cap = n;                                                 \
		bpf_ringbuf_submit(rec, wl_submit_flags());                     \
		wl_stat_inc(WL_STAT_EMITTED);                                   \
	} while (0)

__noinline int send_ahead_g(struct __sk_buff *skb, struct window *wk, __u32 no)
{
	struct px y = {.skb = skb, .win = wk};
	struct px *x = &y;
	__u32 n;

	if (!skb || !wk)
		return 0;
	n = wk->ahead_len;

	if (n <= 256)
		AHEAD_CLASS(256);
	else
		AHEAD_CLASS(KEEP);
	return 1;
}

/* The packet's time, taken once and only when something needs it. */
static __always_inline __u64 now_of(struct window *wk)
{
	if (!wk->now)
		wk->now = bpf_ktime_get_ns();
	return wk->now;
}

static __always_inline void head_ended(struct px *x, struct hdir *d);

/* The head's first byte: its time, and where its copy goes. */
static __always_inline void head_begins(struct px *x, struct hdir *d)
{
	struct http_conn *c = x->c;
	struct http_heads *h = x->h;

	d->ts = now_of(x->win);
	if (x->role == 0) {
		__builtin_memset(&c->nq, 0, sizeof(c->nq));
		if (h && h->req_owner == 0) {
			h->req_owner = c->req_no + 1;
			h->req_len = 0;
			h->req_cut = 0;
			h->host_len = 0;
			h->host_cut = 0;
			c->nq.flags |= RQ_SLOT;
		} else if (h) {
			c->nq.flags |= RQ_AHEAD;
		}
	} else {
		if (!c->resp_open) {
			c->resp_open = 1;
			c->resp_bytes = 0;
		}
		if (h) {
			h->resp_len = 0;
			h->resp_cut = 0;
			h->ctype_len = 0;
		}
	}
}

/* The kept copy of a head grows by what is new in this window (cut to size at the head's end). */
static __always_inline void keep_head(struct px *x, __u32 c0, __u32 n)
{
	struct http_heads *h = x->h;
	__u8 *w = x->win->b;
	__u32 have, m = n;

	if (!h)
		return;
	if (x->role == 0) {
		if (!(x->c->nq.flags & RQ_SLOT))
			return;
		have = h->req_len;
		if (have >= KEEP)
			return;
		if (m > KEEP - have)
			m = KEEP - have;
		m = bound(m, SCR * 2 - 1);
		if (m > SCR)
			m = SCR;
		if (m && bpf_probe_read_kernel(h->req + (have & (KEEP - 1)), m, w + (c0 & 511)) == 0)
			h->req_len = have + m;
	} else {
		have = h->resp_len;
		if (have >= KEEP)
			return;
		if (m > KEEP - have)
			m = KEEP - have;
		m = bound(m, SCR * 2 - 1);
		if (m > SCR)
			m = SCR;
		if (m && bpf_probe_read_kernel(h->resp + (have & (KEEP - 1)), m, w + (c0 & 511)) == 0)
			h->resp_len = have + m;
	}
}

/* A head's bytes from the window's pos: one window. */
static __always_inline void head_step(struct px *x)
{
	struct http_conn *c = x->c;
	struct hdir *d = dir_of(c, x->role);
	struct window *wk = x->win;
	__u32 c0 = d->carry, n = wk->end - wk->pos, total, used, si;
	__u8 *w = wk->b;
	bool exhausted;

	if (d->ts == 0 && c0 == 0)
		head_begins(x, d);
	if (c0 > CARRY)
		c0 = CARRY;
	if (n > SCR)
		n = SCR;
	if (c0 && bpf_probe_read_kernel(w, c0, d->cbuf))
		c0 = 0;
	if (n == 0 || bpf_skb_load_bytes(x->skb, wk->pos, w + c0, n)) {
		lose(c, x->h, x->role, WL_HTTP_STAT_GAPS);
		wk->stop = 1;
		return;
	}
	total = c0 + n;
	exhausted = wk->pos + n >= wk->end;
	wk->si = 0;
	wk->sn = total;
	wk->sc0 = c0;
	wk->send_at = 0;
	wk->sbad = 0;
	bpf_loop(MAX_LINES, line_step, x, 0);
	if (wk->sbad) {
		lose(c, x->h, x->role, WL_HTTP_STAT_MALFORMED);
		wk->stop = 1;
		return;
	}
	if (wk->send_at) {
		used = wk->send_at > c0 ? wk->send_at - c0 : 0;
		if (used > n)
			used = n;
		/* A head that began and ended in this window can be sent from it. */
		wk->ahead_len = c0 == 0 && d->mbytes == 0 ? used : 0;
		keep_head(x, c0, used);
		count(x, d, used);
		wk->pos += used;
		d->carry = 0;
		head_ended(x, d);
		return;
	}
	si = wk->si;
	if (si > total)
		si = total;
	if (exhausted && total - si <= CARRY) {
		/* An unfinished line waits for the next packet. */
		__u32 rest = total - si;

		if (rest > CARRY)
			rest = CARRY;
		if (rest && bpf_probe_read_kernel(d->cbuf, rest, w + (si & WIN_MASK)))
			rest = 0;
		d->carry = rest;
		keep_head(x, c0, n);
		count(x, d, n);
		wk->pos = wk->end;
		return;
	}
	if (!exhausted && si > c0) {
		/* The next window starts at the unfinished line. */
		used = si - c0;
		keep_head(x, c0, used);
		count(x, d, used);
		wk->pos += used;
		d->carry = 0;
		return;
	}
	/* A line longer than the window. */
	if (!long_line(x, d, si, total)) {
		lose(c, x->h, x->role, WL_HTTP_STAT_MALFORMED);
		wk->stop = 1;
		return;
	}
	keep_head(x, c0, n);
	count(x, d, n);
	wk->pos += n;
}

/* ST_SKIPLINE: to the end of the line. */
static __always_inline void skip_step(struct px *x)
{
	struct hdir *d = dir_of(x->c, x->role);
	struct window *wk = x->win;
	__u32 n = wk->end - wk->pos, e;

	if (n > SCR)
		n = SCR;
	if (n == 0 || bpf_skb_load_bytes(x->skb, wk->pos, wk->b, n)) {
		lose(x->c, x->h, x->role, WL_HTTP_STAT_GAPS);
		wk->stop = 1;
		return;
	}
	e = find_lf(x, 0, n);
	if (e < n) {
		n = e + 1;
		d->state = ST_HEAD;
		d->carry = 0;
	}
	keep_head(x, 0, n);
	count(x, d, n);
	wk->pos += n;
}

/* After a message: the next one's head. */
static __always_inline void message_done(struct px *x, struct hdir *d)
{
	if (x->role)
		x->win->ended = WL_HTTP_END_RESPONSE;
	msg_begin(d);
}

/* The head ended at the window's pos: what it was, and what follows it. */
static __always_inline void head_ended(struct px *x, struct hdir *d)
{
	struct http_conn *c = x->c;
	struct http_heads *h = x->h;

	if (x->role == 0) {
		struct hreq *q = &c->nq;

		c->req_no++;
		hstat(WL_HTTP_STAT_REQUESTS);
		q->no = c->req_no;
		q->ts = d->ts;
		q->bytes = d->mbytes;
		if (wl_http_host_len > 0 && !(q->flags & RQ_HOST_OK))
			q->flags |= RQ_FILTERED;
		if (q->flags & RQ_FILTERED) {
			wl_stat_inc(WL_STAT_FILTERED);
			hstat(WL_HTTP_STAT_URL_FILTERED);
		}
		if (h && (q->flags & RQ_SLOT) && h->req_owner == q->no) {
			if (d->mbytes > KEEP)
				h->req_cut = 1;
			else if (h->req_len > d->mbytes)
				h->req_len = d->mbytes;
			h->req_l1 = d->l1;
		}
		if (q->flags & RQ_AHEAD) {
			if (!(q->flags & RQ_FILTERED) && !wl_proc_filter_active() && x->win->ahead_len &&
			    send_ahead_g(x->skb, x->win, q->no))
				hstat(WL_HTTP_STAT_AHEAD);
			else
				q->flags &= ~RQ_AHEAD;
			if (!(q->flags & (RQ_AHEAD | RQ_FILTERED)))
				hstat(WL_HTTP_STAT_NOT_KEPT);
		}
		if (c->qt - c->qh >= QN) {
			hstat(WL_HTTP_STAT_DROPPED);
			if (h && h->req_owner == q->no)
				h->req_owner = 0;
		} else {
			c->q[c->qt & (QN - 1)] = *q;
			c->qt++;
		}
		if (q->flags & RQ_CONNECT) {
			d->state = ST_TUNNEL;
		} else if (d->hflags & H_CHUNKED) {
			d->state = ST_CHUNK;
			d->sub = CK_SIZE;
			d->left = 0;
		} else if ((d->hflags & H_CL) && d->cl > 0) {
			d->state = ST_BODY;
			d->left = d->cl;
		} else {
			msg_begin(d);
		}
		return;
	}
	/* A response head. */
	if (h) {
		if (d->mbytes > KEEP)
			h->resp_cut = 1;
		else if (h->resp_len > d->mbytes)
			h->resp_len = d->mbytes;
		h->resp_l1 = d->l1;
	}
	if (d->status < 200 && d->status != 101) {
		/* Interim (100 Continue, 103): the final response is still to come. */
		msg_begin(d);
		return;
	}
	c->resp_no++;
	{
		__u8 rf = 0;

		/* Responses are numbered like requests: older requests lost theirs (a full queue). */
		for (int k = 0; k < QN; k++) {
			struct hreq *r;

			if (c->qh == c->qt)
				break;
			r = queue_head(c);
			if (r->no >= c->resp_no)
				break;
			hstat(WL_HTTP_STAT_DROPPED);
			c->qh++;
			if (h && h->req_owner == r->no)
				h->req_owner = 0;
		}
		if (c->qh != c->qt && queue_head(c)->no == c->resp_no) {
			c->cur = c->resp_no;
			rf = queue_head(c)->flags;
		} else {
			c->cur = 0;
			hstat(WL_HTTP_STAT_UNPAIRED);
		}
		c->resp_ts = d->ts;
		c->resp_status = d->status;
		if (d->status == 101 || ((rf & RQ_CONNECT) && d->status < 300)) {
			hstat(WL_HTTP_STAT_TUNNELS);
			x->win->ended = WL_HTTP_END_TUNNEL;
			d->state = ST_TUNNEL;
			c->d[0].state = ST_TUNNEL;
			c->done = 1;
			x->win->stop = 1;
			return;
		}
		if (rf & RQ_CONNECT)
			c->d[0].state = ST_SEEK; /* refused: the client may go on with requests */
		if ((rf & RQ_HEAD) || d->status == 204 || d->status == 304) {
			message_done(x, d);
		} else if (d->hflags & H_CHUNKED) {
			d->state = ST_CHUNK;
			d->sub = CK_SIZE;
			d->left = 0;
		} else if (d->hflags & (H_TE | H_BAD)) {
			d->state = ST_UNTIL_CLOSE;
		} else if (d->hflags & H_CL) {
			if (d->cl > 0) {
				d->state = ST_BODY;
				d->left = d->cl;
			} else {
				message_done(x, d);
			}
		} else {
			d->state = ST_UNTIL_CLOSE;
		}
	}
}

static __always_inline __s32 hexval(__u8 ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* One byte of chunked framing outside chunk data; 1: the message ended, 2: bad. */
static __always_inline int chunk_byte(struct hdir *d, __u8 ch)
{
	__s32 hv;

	switch (d->sub) {
	case CK_SIZE:
		hv = hexval(ch);
		if (hv >= 0) {
			if (d->left >> 56)
				return 2;
			d->left = d->left * 16 + hv;
		} else if (ch == '\n') {
			d->sub = d->left ? CK_DATA : CK_TRAILER_START;
		} else {
			d->sub = CK_EXT;
		}
		return 0;
	case CK_EXT:
		if (ch == '\n')
			d->sub = d->left ? CK_DATA : CK_TRAILER_START;
		return 0;
	case CK_DATA_END:
		if (ch == '\n') {
			d->sub = CK_SIZE;
			d->left = 0;
		}
		return 0;
	case CK_TRAILER_START:
		if (ch == '\n')
			return 1;
		d->sub = ch == '\r' ? CK_TRAILER_CR : CK_TRAILER;
		return 0;
	case CK_TRAILER_CR:
		if (ch == '\n')
			return 1;
		d->sub = CK_TRAILER;
		return 0;
	default: /* CK_TRAILER */
		if (ch == '\n')
			d->sub = CK_TRAILER_START;
		return 0;
	}
}

/* ST_CHUNK: chunk-size lines, the CRLF after data, trailers; data skipped whole. */
static __always_inline void chunk_step(struct px *x)
{
	struct hdir *d = dir_of(x->c, x->role);
	struct window *wk = x->win;
	__u8 *b = wk->b;
	__u32 n = wk->end - wk->pos, j, used = 0;
	int r = 0;

	if (d->sub == CK_DATA) {
		__u64 k = d->left < n ? d->left : n;

		d->left -= k;
		count(x, d, k);
		wk->pos += k;
		if (d->left == 0)
			d->sub = CK_DATA_END;
		return;
	}
	if (n > 32)
		n = 32;
	if (n == 0 || bpf_skb_load_bytes(x->skb, wk->pos, b, n)) {
		lose(x->c, x->h, x->role, WL_HTTP_STAT_GAPS);
		wk->stop = 1;
		return;
	}
	for (j = 0; j < 32; j++) {
		if (j >= n)
			break;
		r = chunk_byte(d, b[j]);
		used = j + 1;
		if (r || d->sub == CK_DATA)
			break;
	}
	if (r == 2) {
		lose(x->c, x->h, x->role, WL_HTTP_STAT_MALFORMED);
		wk->stop = 1;
		return;
	}
	count(x, d, used);
	wk->pos += used;
	if (r == 1)
		message_done(x, d);
}

static __always_inline void body_step(struct px *x)
{
	struct hdir *d = dir_of(x->c, x->role);
	struct window *wk = x->win;
	__u64 n = wk->end - wk->pos;

	if (d->state == ST_UNTIL_CLOSE) {
		count(x, d, n);
		wk->pos = wk->end;
		return;
	}
	if (d->left < n)
		n = d->left;
	d->left -= n;
	count(x, d, n);
	wk->pos += n;
	if (d->left == 0)
		message_done(x, d);
}

/*
 * One step of reading a packet: a window of a head, a body's bytes, chunk
 * framing. A global function, so the verifier checks it once on its own;
 * whatever ends an exchange is left in the window (ended) for the caller.
 * 1: the packet is done.
 */
__noinline int parse_one(struct __sk_buff *skb, struct http_conn *c, struct http_heads *h, struct window *wk,
			 __u32 role)
{
	struct px y = {};
	__u8 state;

	if (!skb || !c || !wk)
		return 1;
	y.skb = skb;
	y.c = c;
	y.h = h;
	y.win = wk;
	y.role = role ? 1 : 0;
	if (wk->pos >= wk->end || wk->stop)
		return 1;
	state = dir_of(c, y.role)->state;
	if (state == ST_HEAD)
		head_step(&y);
	else if (state == ST_SKIPLINE)
		skip_step(&y);
	else if (state == ST_BODY || state == ST_UNTIL_CLOSE)
		body_step(&y);
	else if (state == ST_CHUNK)
		chunk_step(&y);
	else
		return 1;
	return wk->pos >= wk->end || wk->stop;
}

static long step(__u32 i, struct px *x)
{
	struct window *wk = x->win;
	int done = parse_one(x->skb, x->c, x->h, wk, x->role);

	if (wk->ended) {
		response_done(x, wk->ended);
		wk->ended = 0;
	}
	return done ? 1 : 0;
}

/* --- per packet --- */

/*
 * Whether a TCP packet has payload, a FIN or an RST: a bare ACK (half the
 * packets of a request-response exchange) is let go after two small loads.
 */
static __always_inline bool carries_news(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *t;
	__u32 l4;

	if (skb->protocol == WL_ETH_P_IP_BE) {
		__u8 *vihl = data;

		if ((void *)(vihl + 1) > end)
			return true;
		l4 = (*vihl & 0x0f) * 4;
	} else {
		l4 = 40; /* extension headers: the full parse decides */
	}
	t = data + l4;
	if ((void *)(t + 14) > end)
		return true;
	return (t[13] & (TCP_FIN | TCP_RST)) || skb->len > l4 + (t[12] >> 4) * 4;
}

/* A connection's verdict from a packet that carries payload; NULL: not HTTP (or not yet). */
static __always_inline struct http_conn *judge(struct __sk_buff *skb, struct bpf_sock *sk,
					       const struct pkt *p, bool egress, struct seen *sn)
{
	struct http_conn *c;
	__u64 first = first8(skb, p);
	bool req = is_request_start(first), resp = !req && is_status_start(first);

	if (!req && !resp) {
		if (sn->tries == 0 && fresh(sk, p->len, egress)) {
			sn->kind = K_OTHER;
			wl_stat_inc(WL_STAT_NOT_HTTP);
		} else if (++sn->tries >= CLASSIFY_TRIES) {
			sn->kind = K_OTHER;
			wl_stat_inc(WL_STAT_NOT_HTTP);
		}
		return 0;
	}
	if (!wl_port_allowed(p->sport, p->dport)) {
		/* Counted apart from "filtered": others' HTTP on other ports is not what was asked for. */
		sn->kind = K_OTHER;
		hstat(WL_HTTP_STAT_PORT_FILTERED);
		return 0;
	}
	c = bpf_sk_storage_get(&wl_http_conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!c) {
		wl_stat_inc(WL_STAT_TABLE_FULL);
		return 0;
	}
	if (wl_http_mode != MODE_STATS &&
	    !bpf_sk_storage_get(&wl_http_heads, sk, 0, BPF_SK_STORAGE_GET_F_CREATE)) {
		wl_stat_inc(WL_STAT_TABLE_FULL);
		bpf_sk_storage_delete(&wl_http_conns, sk);
		return 0;
	}
	sn->kind = K_HTTP;
	wl_stat_inc(WL_STAT_HTTP_CONNS);
	/* Whoever sends requests is the client. Both directions seek their first head, unless the
	 * connection is seen from its first byte: then the other direction reads from its own first
	 * byte too (a response may come in pieces too short to recognise). */
	c->side = (req == egress) ? WL_HTTP_CLIENT : WL_HTTP_SERVER;
	if (req && fresh(sk, p->len, egress)) {
		msg_begin(&c->d[1]);
		c->d[1].from_start = 1;
	}
	return c;
}

static __always_inline void on_tcp(struct __sk_buff *skb, struct bpf_sock *sk, bool egress)
{
	struct seen *sn;
	struct http_conn *c = 0;
	struct window *wk;
	struct pkt *p;
	struct hdir *d;
	struct px x = {};
	__u8 role;
	bool ordered = true;

	/* A bare ACK first, from the packet's own bytes: half the packets never touch the socket's storage. */
	if (!carries_news(skb))
		return;
	sn = bpf_sk_storage_get(&wl_http_seen, sk, 0, 0);
	if (sn && sn->kind == K_OTHER)
		return;
	wk = claim();
	if (!wk) {
		hstat(WL_HTTP_STAT_BUSY);
		return;
	}
	p = &wk->p;
	if (!parse_pkt(skb, p))
		goto out;
	if (!sn) {
		if (p->len == 0)
			goto out;
		if (sk->state == BPF_TCP_LISTEN) {
			hstat(WL_HTTP_STAT_LISTENER);
			goto out;
		}
		sn = bpf_sk_storage_get(&wl_http_seen, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!sn) {
			wl_stat_inc(WL_STAT_TABLE_FULL);
			goto out;
		}
	}
	if (sn->kind == K_NEW) {
		if (p->len == 0)
			goto out;
		c = judge(skb, sk, p, egress, sn);
	} else {
		c = bpf_sk_storage_get(&wl_http_conns, sk, 0, 0);
	}
	if (!c || c->done)
		goto out;
	if (p->len == 0 && !(p->tcp_flags & (TCP_FIN | TCP_RST)))
		goto out;
	role = (c->side == WL_HTTP_CLIENT) == egress ? 0 : 1;
	d = dir_of(c, role);
	if (wl_http_mode != MODE_STATS) {
		x.h = bpf_sk_storage_get(&wl_http_heads, sk, 0, 0);
		if (!x.h)
			goto out; /* made with the connection's state: cannot be missing */
	}
	wk->env.ready = 0;
	wk->now = 0; /* taken when a head begins or an exchange ends (now_of) */
	x.win = wk;
	x.skb = skb;
	x.c = c;
	x.role = role;
	x.egress = egress;
	if (p->len > 0) {
		if (d->from_start) {
			__u32 start = 0;

			d->from_start = 0;
			if (stream_start(sk, p, egress, &start))
				d->next = start;
			else
				d->state = ST_SEEK;
		}
		if (d->state == ST_SEEK) {
			__u64 first = first8(skb, p);

			if (role == 0 ? is_request_start(first) : is_status_start(first)) {
				msg_begin(d);
				d->next = p->seq;
			}
		}
		if (d->state != ST_SEEK && d->state != ST_TUNNEL) {
			__s32 ahead = (__s32)(p->seq - d->next);

			if (ahead > 0) {
				/* Bytes before this packet never passed here (out of order, or missed). */
				ordered = false;
				lose(c, x.h, role, WL_HTTP_STAT_GAPS);
			} else if ((__u32)-ahead < p->len) {
				wk->pos = p->off - ahead;
				wk->end = p->off + p->len;
				wk->stop = 0;
				wk->ended = 0;
				d->next = p->seq + p->len;
				bpf_loop(MAX_STEPS, step, &x, 0);
				if (wk->pos < wk->end && !wk->stop)
					lose(c, x.h, role, WL_HTTP_STAT_GAPS);
			}
		}
	}
	if (!(p->tcp_flags & (TCP_FIN | TCP_RST)) || c->done)
		goto out;
	if (!egress && !ordered && !(p->tcp_flags & TCP_RST))
		goto out; /* a FIN ahead of a hole: the hole comes first */
	if (!wk->env.ready && needs_env())
		packet_env(&wk->env, skb, sk, p, egress);
	if (p->tcp_flags & TCP_RST) {
		conn_end(c, x.h, wk, 0);
	} else if (role == 1) {
		/* No response comes after the server's FIN: one that ends at close ends here. */
		if (d->state == ST_UNTIL_CLOSE)
			response_done(&x, WL_HTTP_END_RESPONSE);
		conn_end(c, x.h, wk, 0);
	}
out:
	wk->busy = 0;
}

static __always_inline int on_skb(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != WL_IPPROTO_TCP)
		return 1;
	on_tcp(skb, sk, egress);
	return 1; /* allow: wirelens only looks */
}

SEC("cgroup_skb/ingress")
int wl_http_in(struct __sk_buff *skb)
{
	return on_skb(skb, false);
}

SEC("cgroup_skb/egress")
int wl_http_out(struct __sk_buff *skb)
{
	return on_skb(skb, true);
}

/*
 * A TCP socket closing without a FIN or RST these hooks saw (a timeout, an
 * abort): what waits on it is sent as it is.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wl_http_state_btf, struct sock *sk, int oldstate, int newstate)
{
	struct http_conn *c;
	struct http_heads *h = 0;
	struct sk_owner *o;
	struct window *wk;
	struct env *v;

	if (newstate != TCP_CLOSE || sk->sk_protocol != WL_IPPROTO_TCP)
		return 0;
	c = bpf_sk_storage_get(&wl_http_conns, sk, 0, 0);
	if (!c || c->done)
		return 0;
	if (wl_http_mode != MODE_STATS) {
		h = bpf_sk_storage_get(&wl_http_heads, sk, 0, 0);
		if (!h)
			return 0;
	}
	wk = claim();
	if (!wk) {
		hstat(WL_HTTP_STAT_BUSY);
		return 0;
	}
	v = &wk->env;
	__builtin_memset(v, 0, sizeof(*v));
	v->ready = 1;
	o = bpf_sk_storage_get(&wl_owners, sk, 0, 0);
	if (o) {
		v->proc.pid = o->tgid;
		v->proc.tid = o->tgid;
		v->proc.uid = o->uid;
		__builtin_memcpy(v->proc.comm, o->comm, sizeof(v->proc.comm));
		v->proc_known = 1;
	}
	wl_fill_sock_id(&v->id, sk);
	v->cookie = bpf_get_socket_cookie(sk);
	conn_end(c, h, wk, bpf_ktime_get_ns());
	wk->busy = 0;
	return 0;
}
