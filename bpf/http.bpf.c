// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.x exchanges, seen at the socket calls of the processes making them.
 *
 * Hooks: the syscall tracepoints of read/readv/recvfrom/recvmsg and
 * write/writev/sendto/sendmsg/sendfile64, entry and exit (entry keeps the
 * arguments, exit knows how many bytes moved); the fd is resolved to its
 * socket through the task's file table. Cheap by construction:
 *  - non-socket fds and non-TCP sockets are dropped at entry;
 *  - a connection's first bytes classify it; one that is not HTTP is never
 *    looked at again (wl_http_conns remembers);
 *  - chunks that begin a request or response head are copied (up to
 *    WL_HTTP_HEAD_MAX bytes), and so are small chunks (up to
 *    WL_HTTP_PIECE_MAX: heads written or read a few bytes at a time are put
 *    together in user space); other chunks travel as a length and their last
 *    bytes, so bodies are counted, not copied;
 *  - --method and --url-prefix run here, on the request line, and a filtered
 *    request's body and response are dropped here too (counted).
 * User space pairs requests with responses and measures latency.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "fd_sock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const struct wl_http_event *const wl_btf_http_event = 0;

#define URL_PREFIX_MAX 64
#define METHOD_MAX 8

const volatile __u64 wl_http_salt = 0;
const volatile __u32 wl_http_prefix_len = 0;
const volatile char wl_http_prefix[URL_PREFIX_MAX] = {};
const volatile __u32 wl_http_method_len = 0;
const volatile char wl_http_method[METHOD_MAX] = {};
#define CONTAINS_MAX 32
#define HOST_MAX 64
#define URL_SCAN 256   /* --url-contains looks at the first URL_SCAN bytes of the target */
#define HOST_SCAN 1024 /* --host looks for the Host header in the first HOST_SCAN bytes */
const volatile __u32 wl_http_contains_len = 0;
const volatile char wl_http_contains[CONTAINS_MAX] = {};
const volatile __u32 wl_http_host_len = 0;
const volatile char wl_http_host[HOST_MAX] = {}; /* lower case */

enum io_kind { IO_BUF = 1, IO_IOV = 2, IO_MSG = 3, IO_NODATA = 4 };

struct io_args {
	__u64 sk;
	__u64 ptr;
	__u64 ts; /* entry time: a send's first byte leaves when the call starts */
	__u8 kind;
	__u8 dir;
	__u8 _pad[6];
};

#define WL_MSG_PEEK 2
#define WL_MSG_TRUNC 0x20

/* Arguments of the socket call in flight, in the calling thread's own
 * storage: no insert or delete per call, freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct io_args);
} wl_http_args SEC(".maps");

enum { CLS_UNKNOWN = 0, CLS_HTTP = 1, CLS_OTHER = 2 };
/* Chunks a connection may show without a head before it is called not HTTP
 * (a connection that was mid-body when wirelens started, a proxy preamble). */
#define CLASSIFY_TRIES 4

struct http_conn {
	__u8 cls;
	__u8 side;
	__u8 tries;	/* chunks seen while CLS_UNKNOWN */
	__u8 skip_req;	/* the request in progress failed a filter */
	__u8 skip_resp; /* the response in progress answers a filtered request */
	__u8 _pad[3];
	/* Filter verdicts of the last 64 requests, request N's at bit N % 64:
	 * final response N (they are numbered alike) reads its request's. */
	__u64 filtered;
	__u32 req_seq;	/* request heads seen */
	__u32 resp_seq; /* final response heads seen */
	__u32 tuple;	/* ports and peer address: tells a reused socket address apart */
	/* Per direction ([0] requests, [1] responses): bytes of a head still to
	 * be copied from the next chunks. A head read in pieces (nginx reads a
	 * request head 1 KB at a time) is copied up to WL_HTTP_HEAD_MAX bytes in
	 * all, not only its first piece. */
	__u16 head_room[2];
};

/*
 * A syscall may return after its socket closed, and re-create the entry of a
 * dead socket; the memory is then reused by a new connection. The 4-tuple
 * (inet_sport survives the close, skc_num does not) tells them apart.
 */
static __always_inline __u32 conn_tuple(const struct sock *sk)
{
	__u32 t = wl_sk_sport(sk);

	t |= (__u32)BPF_CORE_READ(sk, __sk_common.skc_dport) << 16;
	t ^= BPF_CORE_READ(sk, __sk_common.skc_daddr);
	if (wl_has_ipv6_fields(sk))
		t ^= BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[3]);
	return t;
}

/* What user space knows a connection by: the socket's address, salted. */
static __always_inline __u64 conn_id(__u64 sk)
{
	return sk ^ wl_http_salt;
}

/* Tells connections at one socket address apart (from the 4-tuple stamp). */
static __always_inline __u16 conn_gen(const struct http_conn *c)
{
	return (__u16)(c->tuple ^ (c->tuple >> 16));
}

/* Every TCP connection seen carrying data, by socket. LRU: bounded. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct http_conn);
} wl_http_conns SEC(".maps");

/*
 * Records are reserved in the ring buffer directly, never built in a per-CPU
 * scratch: syscall tracepoints may be preempted (faultable tracepoints), and
 * the close hook runs in softirq, so a shared scratch could be overwritten
 * mid-record. Reserve sizes must be constants: heads use size classes.
 */
#define HEAD_SMALL WL_HTTP_PIECE_MAX
#define HEAD_MEDIUM 1024

struct http_rec_tail {
	struct wl_http_event e;
	__u8 data[WL_HTTP_TAIL_MAX];
};
struct http_rec_small {
	struct wl_http_event e;
	__u8 data[HEAD_SMALL];
};
struct http_rec_medium {
	struct wl_http_event e;
	__u8 data[HEAD_MEDIUM];
};
struct http_rec_large {
	struct wl_http_event e;
	__u8 data[WL_HTTP_HEAD_MAX];
};

/* --- entry: keep the arguments of socket calls worth looking at --- */

static __always_inline int on_enter(long fd, __u64 ptr, __u8 kind, __u8 dir, __u64 flags)
{
	struct sock *sk;
	struct io_args a = {}, *slot;

	/* A peek is read again by the next call: only that one counts. */
	if (flags & (WL_MSG_PEEK | WL_MSG_TRUNC))
		return 0;
	if (wl_proc_filter_active()) {
		struct wl_proc p = {.pid = bpf_get_current_pid_tgid() >> 32};
		bpf_get_current_comm(p.comm, sizeof(p.comm));
		if (!wl_proc_allowed(&p))
			return 0;
	}
	sk = wl_fd_to_sock(fd);
	if (!sk || wl_sk_protocol(sk) != WL_IPPROTO_TCP)
		return 0;
	a.sk = (__u64)sk;
	a.ptr = ptr;
	a.kind = kind;
	a.dir = dir;
	a.ts = bpf_ktime_get_ns();
	slot = bpf_task_storage_get(&wl_http_args, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!slot) {
		wl_stat_inc(WL_STAT_TABLE_FULL);
		return 0;
	}
	*slot = a;
	return 0;
}

/* --- exit: classify, filter, copy --- */

/* First user buffer of the call and its length. */
static __always_inline __u64 first_buffer(const struct io_args *a, __u64 *len)
{
	struct iovec iov = {};
	struct user_msghdr msg = {};
	__u64 iovp = a->ptr;

	if (a->kind == IO_BUF)
		return a->ptr; /* len: the syscall's return value */
	if (a->kind == IO_MSG) {
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a->ptr))
			return 0;
		iovp = (__u64)msg.msg_iov;
	}
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)iovp))
		return 0;
	*len = iov.iov_len;
	return (__u64)iov.iov_base;
}

static __always_inline bool is_method(const __u8 *b)
{
	switch (b[0]) {
	case 'G':
		return b[1] == 'E' && b[2] == 'T' && b[3] == ' ';
	case 'P':
		return (b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ') ||
		       (b[1] == 'U' && b[2] == 'T' && b[3] == ' ') ||
		       (b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ');
	case 'H':
		return b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ';
	case 'D':
		return b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E' && b[6] == ' ';
	case 'O':
		return b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N' && b[6] == 'S';
	case 'C':
		return b[1] == 'O' && b[2] == 'N' && b[3] == 'N' && b[4] == 'E' && b[5] == 'C' && b[6] == 'T';
	case 'T':
		return b[1] == 'R' && b[2] == 'A' && b[3] == 'C' && b[4] == 'E' && b[5] == ' ';
	}
	return false;
}

static __always_inline bool is_status_line(const __u8 *b)
{
	return b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && b[5] == '1' &&
	       b[6] == '.';
}

/* --method and --url-prefix on the request line, read from the caller's buffer. */
static __always_inline bool request_passes(__u64 src, __u64 len)
{
	__u8 line[128] = {}; /* method, space, prefix: at most 73 bytes; a power of two for masking */
	__u32 sp = 0;

	__u32 want = len > sizeof(line) - 1 ? sizeof(line) - 1 : len;

	if (wl_http_method_len == 0 && wl_http_prefix_len == 0)
		return true;
	/* Never read past the caller's buffer: it may end at a page boundary. */
	if (bpf_probe_read_user(line, want & (sizeof(line) - 1), (void *)src))
		return false;
	if (wl_http_method_len > 0) {
		/* Constant indexes only: a masked variable index into an aligned
		 * stack buffer compiles to arithmetic the verifier refuses. */
#pragma unroll
		for (int i = 0; i < METHOD_MAX; i++) {
			if (i < wl_http_method_len && line[i] != wl_http_method[i])
				return false;
			if (i == wl_http_method_len && line[i] != ' ')
				return false;
		}
	}
	if (wl_http_prefix_len == 0)
		return true;
#pragma unroll
	for (int i = 3; i < 9; i++) {
		if (!sp && line[i] == ' ')
			sp = i + 1;
	}
	if (!sp || sp + wl_http_prefix_len > len)
		return false;
#pragma unroll
	for (int i = 0; i < URL_PREFIX_MAX; i++) {
		if (i < wl_http_prefix_len && line[(sp + i) & (sizeof(line) - 1)] != wl_http_prefix[i])
			return false;
	}
	return true;
}

#define AT(d, i) ((d)[(i) & (WL_HTTP_HEAD_MAX - 1)])

/*
 * --url-contains and --host scan the copied head with bpf_loop (v5.17):
 * one verified callback instead of nested loops in every exit program. When
 * neither filter is set, frozen .rodata makes these calls dead code, so
 * kernels without bpf_loop only lose these two filters.
 */
struct scan_ctx {
	const __u8 *d;
	__u32 n;
	__u32 pos;
	bool found;
};

static long contains_step(__u32 i, void *vctx)
{
	struct scan_ctx *x = vctx;
	__u32 p = x->pos + i;

	if (p + wl_http_contains_len > x->n || AT(x->d, p) == ' ')
		return 1; /* end of the target: not found */
	for (__u32 j = 0; j < CONTAINS_MAX && j < wl_http_contains_len; j++) {
		if (AT(x->d, p + j) != wl_http_contains[j])
			return 0;
	}
	x->found = true;
	return 1;
}

static __always_inline bool url_contains(const __u8 *d, __u32 n)
{
	struct scan_ctx x = {.d = d, .n = n};

	for (int i = 3; i < 9; i++) {
		if (!x.pos && AT(d, i) == ' ')
			x.pos = i + 1;
	}
	if (!x.pos)
		return false;
	bpf_loop(URL_SCAN, contains_step, &x, 0);
	return x.found;
}

static long host_step(__u32 i, void *vctx)
{
	struct scan_ctx *x = vctx;
	const __u8 *d = x->d;
	__u32 p;

	if (i + 6 >= x->n)
		return 1;
	if (AT(d, i) != '\n' || (AT(d, i + 1) | 0x20) != 'h' || (AT(d, i + 2) | 0x20) != 'o' ||
	    (AT(d, i + 3) | 0x20) != 's' || (AT(d, i + 4) | 0x20) != 't' || AT(d, i + 5) != ':')
		return 0;
	p = i + 6;
	if (AT(d, p) == ' ')
		p++;
	if (p + wl_http_host_len >= x->n)
		return 1;
	for (__u32 j = 0; j < HOST_MAX && j < wl_http_host_len; j++) {
		__u8 c = AT(d, p + j);

		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != wl_http_host[j])
			return 1; /* the Host header, but another host */
	}
	p += wl_http_host_len;
	x->found = AT(d, p) == '\r' || AT(d, p) == ':' || AT(d, p) == ' ' || AT(d, p) == '\n';
	return 1;
}

/* --host against the Host header (case-insensitive, port ignored). */
static __always_inline bool host_matches(const __u8 *d, __u32 n)
{
	struct scan_ctx x = {.d = d, .n = n};

	bpf_loop(HOST_SCAN, host_step, &x, 0);
	return x.found;
}

static __always_inline void fill(struct wl_http_event *e, const struct sock *sk, const struct io_args *a,
				 long ret, const struct http_conn *c, __u8 start, __u32 seq)
{
	__u64 conn = a->sk;
	__u8 dir = a->dir;
	__u8 side = c->side;

	/* Sends: when the first byte was handed over; receives: when it arrived. */
	e->hdr.ts_ns = dir == WL_HTTP_SEND ? a->ts : bpf_ktime_get_ns();
	e->hdr.type = WL_EV_HTTP_DATA;
	e->hdr.cpu = bpf_get_smp_processor_id();
	/* Who and where matter for request heads only (they name the exchange):
	 * the rest of the stream is not charged for reading them. */
	if (start && ((side == WL_HTTP_CLIENT) == (dir == WL_HTTP_SEND))) {
		e->hdr.flags = 0;
		wl_fill_proc(&e->proc);
		wl_fill_sock_id(&e->sock, sk);
	} else {
		e->hdr.flags = WL_F_PROC_UNKNOWN;
		__builtin_memset(&e->proc, 0, sizeof(e->proc));
		__builtin_memset(&e->sock, 0, sizeof(e->sock));
	}
	e->conn = conn_id(conn);
	e->len = ret;
	e->dir = dir;
	e->side = side;
	e->start = start;
	e->tail = 0;
	e->gen = conn_gen(c);
	e->seq = seq;
}

/* Copies a chunk's first bytes into a record of the smallest class that holds them. */
#define EMIT_HEAD(type, size, is_start)                                          \
	do {                                                                     \
		struct type *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0); \
		if (!r) {                                                        \
			wl_stat_inc(WL_STAT_RB_LOST);                            \
			return 0;                                                \
		}                                                                \
		fill(&r->e, sk, &a, ret, c, is_start, seq);                      \
		n = head_len > (size) ? (size) : head_len;                       \
		if (bpf_probe_read_user(r->data, n, (void *)src))                \
			n = 0;                                                   \
		r->e.cap = n;                                                    \
		bpf_ringbuf_submit(r, wl_submit_flags());                        \
	} while (0)

/*
 * What of a head may still come in the next chunk of its direction, after
 * `n` of a `ret`-byte chunk were copied (`room` allowed at most): nothing
 * unless the chunk was copied whole and does not end with the blank line
 * that ends a head (a head ending mid-chunk, with a body after it, is
 * complete in the copy already).
 */
static __always_inline __u16 room_after(__u64 src, __u32 n, long ret, __u32 room)
{
	__u8 b[4] = {};

	if (n == 0 || n != ret || n >= room || n < 4)
		return 0;
	if (bpf_probe_read_user(b, sizeof(b), (void *)(src + n - 4)))
		return 0;
	if (b[3] == '\n' && (b[2] == '\n' || (b[2] == '\r' && b[1] == '\n')))
		return 0;
	return room - n;
}

/* Records the verdict of the request just numbered (c->req_seq). */
static __always_inline void push_verdict(struct http_conn *c, bool pass)
{
	__u64 bit = 1ULL << (c->req_seq & 63);

	c->skip_req = !pass;
	if (pass)
		c->filtered &= ~bit;
	else
		c->filtered |= bit;
}

/*
 * --url-contains / --host need the whole head: copy it into a large record,
 * decide on the copy, then submit or discard it.
 */
static __always_inline int emit_filtered_request(struct http_conn *c, const struct sock *sk,
						 const struct io_args *a, long ret, __u64 src, __u64 len)
{
	struct http_rec_large *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);
	__u32 n = len > WL_HTTP_HEAD_MAX ? WL_HTTP_HEAD_MAX : len;
	bool pass;

	if (!r) {
		wl_stat_inc(WL_STAT_RB_LOST);
		push_verdict(c, true); /* its response still pairs with it */
		return 0;
	}
	if (bpf_probe_read_user(r->data, n, (void *)src))
		n = 0;
	pass = (wl_http_contains_len == 0 || url_contains(r->data, n)) &&
	       (wl_http_host_len == 0 || host_matches(r->data, n));
	push_verdict(c, pass);
	if (!pass) {
		bpf_ringbuf_discard(r, 0);
		wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}
	fill(&r->e, sk, a, ret, c, 1, c->req_seq);
	r->e.cap = n;
	bpf_ringbuf_submit(r, wl_submit_flags());
	wl_stat_inc(WL_STAT_EMITTED);
	return 0;
}

static __always_inline int on_exit(long ret)
{
	struct io_args *ap = bpf_task_storage_get(&wl_http_args, bpf_get_current_task_btf(), 0, 0);
	struct io_args a;
	const struct sock *sk;
	struct http_conn *c, fresh = {};
	__u8 peek[16] = {};
	__u32 n = 0, seq = 0, tuple, room, dx;
	__u64 src, buf_len, head_len;
	bool start, final_resp, is_req_dir, is_req = false, is_resp = false;

	if (!ap || !ap->sk)
		return 0;
	a = *ap;
	ap->sk = 0; /* consumed */
	sk = (const struct sock *)a.sk;
	if (ret <= 0)
		return 0;
	buf_len = ret;
	src = a.kind == IO_NODATA ? 0 : first_buffer(&a, &buf_len);
	if (buf_len > (__u64)ret)
		buf_len = ret;

	tuple = conn_tuple(sk);
	c = bpf_map_lookup_elem(&wl_http_conns, &a.sk);
	if (!c) {
		fresh.tuple = tuple;
		bpf_map_update_elem(&wl_http_conns, &a.sk, &fresh, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&wl_http_conns, &a.sk);
		if (!c)
			return 0;
	} else if (c->tuple != tuple) {
		/* Another connection at this socket address: start afresh. */
		fresh.tuple = tuple;
		*c = fresh;
	}
	/* Judged not HTTP: its bytes are never read again. */
	if (c->cls == CLS_OTHER)
		return 0;
	if (src && buf_len >= 4 && /* "GET " */
	    bpf_probe_read_user(peek,
				(buf_len > sizeof(peek) ? sizeof(peek) : buf_len) & (sizeof(peek) * 2 - 1),
				(void *)src) == 0) {
		is_req = is_method(peek);
		is_resp = !is_req && is_status_line(peek);
	}
	if (c->cls == CLS_UNKNOWN) {
		if (!is_req && !is_resp) {
			if (++c->tries >= CLASSIFY_TRIES) {
				c->cls = CLS_OTHER;
				wl_stat_inc(WL_STAT_NOT_HTTP);
			}
			return 0;
		}
		c->cls = CLS_HTTP;
		/* Whoever sends requests is the client; a response first means we joined mid-stream. */
		if (is_req)
			c->side = a.dir == WL_HTTP_SEND ? WL_HTTP_CLIENT : WL_HTTP_SERVER;
		else
			c->side = a.dir == WL_HTTP_SEND ? WL_HTTP_SERVER : WL_HTTP_CLIENT;
		wl_stat_inc(WL_STAT_HTTP_CONNS);
	}
	if (c->cls != CLS_HTTP)
		return 0;

	is_req_dir = (c->side == WL_HTTP_CLIENT) == (a.dir == WL_HTTP_SEND);
	start = is_req_dir ? is_req : is_resp;
	/* 1xx interim responses do not answer the request; 101 does. */
	final_resp = start && !is_req_dir && (peek[9] != '1' || (peek[10] == '0' && peek[11] == '1'));
	/* Numbered before any filter, so a filtered head is a known gap too. */
	if (start && is_req_dir)
		seq = ++c->req_seq;
	else if (final_resp)
		seq = ++c->resp_seq;

	if (!wl_sock_ports_allowed(sk)) {
		if (start)
			wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}

	if (is_req_dir) {
		if (start) {
			bool pass = request_passes(src, buf_len);

			if (pass && (wl_http_contains_len > 0 || wl_http_host_len > 0))
				return emit_filtered_request(c, sk, &a, ret, src, buf_len);
			push_verdict(c, pass);
		}
		if (c->skip_req) {
			if (start)
				wl_stat_inc(WL_STAT_FILTERED);
			return 0;
		}
	} else {
		/* Response N answers request N: it is dropped if that one was. */
		if (final_resp)
			c->skip_resp = seq <= c->req_seq && ((c->filtered >> (seq & 63)) & 1);
		if (c->skip_resp)
			return 0;
	}

	dx = is_req_dir ? 0 : 1;
	room = c->head_room[dx & 1];
	if (start) {
		head_len = buf_len;
		if (head_len <= HEAD_SMALL)
			EMIT_HEAD(http_rec_small, HEAD_SMALL, 1);
		else if (head_len <= HEAD_MEDIUM)
			EMIT_HEAD(http_rec_medium, HEAD_MEDIUM, 1);
		else
			EMIT_HEAD(http_rec_large, WL_HTTP_HEAD_MAX, 1);
		c->head_room[dx & 1] = room_after(src, n, ret, WL_HTTP_HEAD_MAX);
		if (!is_req_dir)
			c->head_room[0] = 0; /* a response: the request's head is over */
	} else if (src && (ret <= WL_HTTP_PIECE_MAX || (room > 0 && (is_req_dir || ret <= room)))) {
		/* A small piece travels whole: it may be part of a head written or
		 * read a few bytes at a time, or a chunked body's last chunk. So
		 * does the next piece of a head in progress, up to the head's
		 * bound (a response's only when it fits: a larger chunk keeps its
		 * tail, where a chunked body may end). */
		head_len = ret <= WL_HTTP_PIECE_MAX || buf_len <= room ? buf_len : room;
		if (head_len <= HEAD_SMALL)
			EMIT_HEAD(http_rec_small, HEAD_SMALL, 0);
		else if (head_len <= HEAD_MEDIUM)
			EMIT_HEAD(http_rec_medium, HEAD_MEDIUM, 0);
		else
			EMIT_HEAD(http_rec_large, WL_HTTP_HEAD_MAX, 0);
		c->head_room[dx & 1] = room > 0 ? room_after(src, n, ret, room) : 0;
	} else {
		struct http_rec_tail *r = bpf_ringbuf_reserve(&wl_events, sizeof(*r), 0);

		c->head_room[dx & 1] = 0;
		if (!r) {
			wl_stat_inc(WL_STAT_RB_LOST);
			return 0;
		}
		fill(&r->e, sk, &a, ret, c, 0, 0);
		r->e.cap = 0;
		__builtin_memset(r->data, 0, sizeof(r->data));
		/* The last bytes show where chunked bodies end. */
		if (src && a.kind == IO_BUF && ret >= WL_HTTP_TAIL_MAX &&
		    bpf_probe_read_user(r->data, WL_HTTP_TAIL_MAX, (void *)(src + ret - WL_HTTP_TAIL_MAX)) ==
			    0) {
			r->e.cap = WL_HTTP_TAIL_MAX;
			r->e.tail = 1;
		}
		bpf_ringbuf_submit(r, wl_submit_flags());
	}
	wl_stat_inc(WL_STAT_EMITTED);
	return 0;
}

/* --- the syscalls --- */

/* flagarg: index of the flags argument (MSG_PEEK), or 6 for none. */
#define ENTER(name, kind, dir, fdarg, ptrarg, flagarg)                                        \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                           \
	int wl_http_in_##name(struct trace_event_raw_sys_enter *ctx)                          \
	{                                                                                     \
		__u64 flags = (flagarg) < 6 ? ctx->args[(flagarg) % 6] : 0;                   \
		return on_enter((long)ctx->args[fdarg], ctx->args[ptrarg], kind, dir, flags); \
	}                                                                                     \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                            \
	int wl_http_out_##name(struct trace_event_raw_sys_exit *ctx)                          \
	{                                                                                     \
		return on_exit(ctx->ret);                                                     \
	}

ENTER(read, IO_BUF, WL_HTTP_RECV, 0, 1, 6)
ENTER(recvfrom, IO_BUF, WL_HTTP_RECV, 0, 1, 3)
ENTER(readv, IO_IOV, WL_HTTP_RECV, 0, 1, 6)
ENTER(recvmsg, IO_MSG, WL_HTTP_RECV, 0, 1, 2)
ENTER(write, IO_BUF, WL_HTTP_SEND, 0, 1, 6)
ENTER(sendto, IO_BUF, WL_HTTP_SEND, 0, 1, 6)
ENTER(writev, IO_IOV, WL_HTTP_SEND, 0, 1, 6)
ENTER(sendmsg, IO_MSG, WL_HTTP_SEND, 0, 1, 6)
ENTER(sendfile64, IO_NODATA, WL_HTTP_SEND, 0, 2, 6)

/* --- connection end: tell user space, forget the socket --- */

static __always_inline int on_state(const struct sock *sk, int newstate)
{
	__u64 key = (__u64)sk;
	struct http_conn *c;
	struct wl_http_event *e;

	if (newstate != TCP_CLOSE)
		return 0;
	c = bpf_map_lookup_elem(&wl_http_conns, &key);
	if (!c)
		return 0;
	if (c->cls == CLS_HTTP) {
		e = bpf_ringbuf_reserve(&wl_events, sizeof(*e), 0);
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->hdr.ts_ns = bpf_ktime_get_ns();
			e->hdr.type = WL_EV_HTTP_CLOSE;
			e->hdr.flags = WL_F_PROC_UNKNOWN;
			wl_fill_sock_id(&e->sock, sk);
			e->conn = conn_id(wl_ptr_id(sk));
			e->side = c->side;
			e->gen = conn_gen(c);
			bpf_ringbuf_submit(e, wl_submit_flags());
		} else {
			wl_stat_inc(WL_STAT_RB_LOST);
		}
	}
	bpf_map_delete_elem(&wl_http_conns, &key);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wl_http_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int wl_http_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != WL_IPPROTO_TCP)
		return 0;
	return on_state((const struct sock *)ctx->skaddr, ctx->newstate);
}
