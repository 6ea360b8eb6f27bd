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
 *  - only chunks that begin a request or response head are copied (up to
 *    WL_HTTP_HEAD_MAX bytes); other chunks travel as a length and their last
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

#define WL_IPPROTO_TCP 6
#define URL_PREFIX_MAX 64
#define METHOD_MAX 8
#define SCRATCH_DATA 4096 /* power of two above WL_HTTP_HEAD_MAX, for the verifier */

const volatile __u64 wl_http_salt = 0;
const volatile __u32 wl_http_prefix_len = 0;
const volatile char wl_http_prefix[URL_PREFIX_MAX] = {};
const volatile __u32 wl_http_method_len = 0;
const volatile char wl_http_method[METHOD_MAX] = {};

enum io_kind { IO_BUF = 1, IO_IOV = 2, IO_MSG = 3, IO_NODATA = 4 };

struct io_args {
	__u64 sk;
	__u64 ptr;
	__u8 kind;
	__u8 dir;
	__u8 _pad[6];
};

/* Arguments of socket calls in flight, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct io_args);
} wl_http_args SEC(".maps");

enum { CLS_HTTP = 1, CLS_OTHER = 2 };

struct http_conn {
	__u8 cls;
	__u8 side;
	__u8 skip_req; /* the request in progress failed a filter */
	__u8 skip_resp; /* the response in progress answers a filtered request */
	__u8 q_len; /* requests awaiting a response */
	__u8 _pad[3];
	__u64 q_bits; /* their filter verdicts, oldest in bit 0 */
};

/* Every TCP connection seen carrying data, by socket. LRU: bounded. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct http_conn);
} wl_http_conns SEC(".maps");

struct scratch {
	struct wl_http_event e;
	__u8 data[SCRATCH_DATA];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} wl_http_scratch SEC(".maps");

/* --- entry: keep the arguments of socket calls worth looking at --- */

static __always_inline int on_enter(long fd, __u64 ptr, __u8 kind, __u8 dir)
{
	struct sock *sk;
	struct http_conn *c;
	struct io_args a = {};
	__u64 id, key;

	if (wl_proc_filter_active()) {
		struct wl_proc p = { .pid = bpf_get_current_pid_tgid() >> 32 };
		bpf_get_current_comm(p.comm, sizeof(p.comm));
		if (!wl_proc_allowed(&p))
			return 0;
	}
	sk = wl_fd_to_sock(fd);
	if (!sk || wl_sk_protocol(sk) != WL_IPPROTO_TCP)
		return 0;
	key = (__u64)sk;
	c = bpf_map_lookup_elem(&wl_http_conns, &key);
	if (c && c->cls == CLS_OTHER)
		return 0;
	a.sk = key;
	a.ptr = ptr;
	a.kind = kind;
	a.dir = dir;
	id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&wl_http_args, &id, &a, BPF_ANY);
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
	case 'G': return b[1] == 'E' && b[2] == 'T' && b[3] == ' ';
	case 'P':
		return (b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ') ||
		       (b[1] == 'U' && b[2] == 'T' && b[3] == ' ') ||
		       (b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ');
	case 'H': return b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ';
	case 'D': return b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E' && b[6] == ' ';
	case 'O': return b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N' && b[6] == 'S';
	case 'C': return b[1] == 'O' && b[2] == 'N' && b[3] == 'N' && b[4] == 'E' && b[5] == 'C' && b[6] == 'T';
	case 'T': return b[1] == 'R' && b[2] == 'A' && b[3] == 'C' && b[4] == 'E' && b[5] == ' ';
	}
	return false;
}

static __always_inline bool is_status_line(const __u8 *b)
{
	return b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && b[5] == '1' && b[6] == '.';
}

/* --method and --url-prefix on the head's first bytes (in scratch). */
static __always_inline bool request_passes(const __u8 *d, __u32 cap)
{
	__u32 sp = 0;

	if (wl_http_method_len > 0) {
#pragma unroll
		for (int i = 0; i < METHOD_MAX; i++) {
			if (i < wl_http_method_len && d[i] != wl_http_method[i])
				return false;
		}
		if (d[wl_http_method_len & (METHOD_MAX - 1)] != ' ')
			return false;
	}
	if (wl_http_prefix_len == 0)
		return true;
#pragma unroll
	for (int i = 3; i < 9; i++) {
		if (!sp && d[i] == ' ')
			sp = i + 1;
	}
	if (!sp || sp + wl_http_prefix_len > cap)
		return false;
#pragma unroll
	for (int i = 0; i < URL_PREFIX_MAX; i++) {
		if (i < wl_http_prefix_len && d[(sp + i) & (SCRATCH_DATA - 1)] != wl_http_prefix[i])
			return false;
	}
	return true;
}

static __always_inline int on_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct io_args *ap = bpf_map_lookup_elem(&wl_http_args, &id);
	struct io_args a;
	const struct sock *sk;
	struct http_conn *c, fresh = {};
	struct scratch *s;
	__u32 zero = 0, n;
	__u64 src, buf_len;
	bool start = false, is_req_dir, is_req = false, is_resp = false;

	if (!ap)
		return 0;
	a = *ap;
	sk = (const struct sock *)a.sk;
	bpf_map_delete_elem(&wl_http_args, &id);
	if (ret <= 0)
		return 0;
	s = bpf_map_lookup_elem(&wl_http_scratch, &zero);
	if (!s)
		return 0;
	buf_len = ret;
	src = a.kind == IO_NODATA ? 0 : first_buffer(&a, &buf_len);
	if (buf_len > (__u64)ret)
		buf_len = ret;
	if (src && buf_len >= 8 && bpf_probe_read_user(s->data, 16, (void *)src) == 0) {
		is_req = is_method(s->data);
		is_resp = !is_req && is_status_line(s->data);
	}

	c = bpf_map_lookup_elem(&wl_http_conns, &a.sk);
	if (!c) {
		if (!is_req && !is_resp) {
			fresh.cls = CLS_OTHER;
			bpf_map_update_elem(&wl_http_conns, &a.sk, &fresh, BPF_ANY);
			wl_stat_inc(WL_STAT_NOT_HTTP);
			return 0;
		}
		fresh.cls = CLS_HTTP;
		/* Whoever sends requests is the client; a response first means we joined mid-stream. */
		if (is_req)
			fresh.side = a.dir == WL_HTTP_SEND ? WL_HTTP_CLIENT : WL_HTTP_SERVER;
		else
			fresh.side = a.dir == WL_HTTP_SEND ? WL_HTTP_SERVER : WL_HTTP_CLIENT;
		bpf_map_update_elem(&wl_http_conns, &a.sk, &fresh, BPF_ANY);
		c = bpf_map_lookup_elem(&wl_http_conns, &a.sk);
		if (!c)
			return 0;
		wl_stat_inc(WL_STAT_HTTP_CONNS);
	}
	if (c->cls != CLS_HTTP)
		return 0;

	is_req_dir = (c->side == WL_HTTP_CLIENT) == (a.dir == WL_HTTP_SEND);
	start = is_req_dir ? is_req : is_resp;

	n = 0;
	if (start) {
		n = buf_len > WL_HTTP_HEAD_MAX ? WL_HTTP_HEAD_MAX : buf_len;
		n &= SCRATCH_DATA - 1;
		if (bpf_probe_read_user(s->data, n, (void *)src))
			n = 0;
	}

	if (is_req_dir) {
		if (start) {
			bool pass = request_passes(s->data, n);
			c->skip_req = !pass;
			if (c->q_len < 64) {
				if (!pass)
					c->q_bits |= 1ULL << c->q_len;
				else
					c->q_bits &= ~(1ULL << c->q_len);
				c->q_len++;
			}
		}
		if (c->skip_req) {
			if (start)
				wl_stat_inc(WL_STAT_FILTERED);
			return 0;
		}
	} else {
		/* 1xx interim responses do not answer the request. */
		if (start && s->data[9] != '1') {
			c->skip_resp = c->q_len > 0 ? (c->q_bits & 1) : 0;
			if (c->q_len > 0) {
				c->q_bits >>= 1;
				c->q_len--;
			}
		}
		if (c->skip_resp)
			return 0;
	}

	if (!wl_port_allowed(wl_sk_sport(sk), bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)))) {
		if (start)
			wl_stat_inc(WL_STAT_FILTERED);
		return 0;
	}

	s->e.tail = 0;
	if (!start && src && a.kind == IO_BUF && ret >= WL_HTTP_TAIL_MAX) {
		/* The last bytes show where chunked bodies end. */
		if (bpf_probe_read_user(s->data, WL_HTTP_TAIL_MAX, (void *)(src + ret - WL_HTTP_TAIL_MAX)) == 0) {
			n = WL_HTTP_TAIL_MAX;
			s->e.tail = 1;
		}
	}
	s->e.hdr.ts_ns = bpf_ktime_get_ns();
	s->e.hdr.type = WL_EV_HTTP_DATA;
	s->e.hdr.flags = 0;
	s->e.hdr.cpu = bpf_get_smp_processor_id();
	wl_fill_proc(&s->e.proc);
	wl_fill_sock_id(&s->e.sock, sk);
	s->e.conn = a.sk ^ wl_http_salt;
	s->e.len = ret;
	s->e.cap = n;
	s->e.dir = a.dir;
	s->e.side = c->side;
	s->e.start = start;
	if (bpf_ringbuf_output(&wl_events, s, sizeof(s->e) + (n & (SCRATCH_DATA - 1)), 0)) {
		wl_stat_inc(WL_STAT_RB_LOST);
		return 0;
	}
	wl_stat_inc(WL_STAT_EMITTED);
	return 0;
}

/* --- the syscalls --- */

#define ENTER(name, kind, dir, fdarg, ptrarg)                                         \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                      \
	int wl_http_in_##name(struct trace_event_raw_sys_enter *ctx)                     \
	{                                                                                \
		return on_enter((long)ctx->args[fdarg], ctx->args[ptrarg], kind, dir);  \
	}                                                                                \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                       \
	int wl_http_out_##name(struct trace_event_raw_sys_exit *ctx)                     \
	{                                                                                \
		return on_exit(ctx->ret);                                               \
	}

ENTER(read, IO_BUF, WL_HTTP_RECV, 0, 1)
ENTER(recvfrom, IO_BUF, WL_HTTP_RECV, 0, 1)
ENTER(readv, IO_IOV, WL_HTTP_RECV, 0, 1)
ENTER(recvmsg, IO_MSG, WL_HTTP_RECV, 0, 1)
ENTER(write, IO_BUF, WL_HTTP_SEND, 0, 1)
ENTER(sendto, IO_BUF, WL_HTTP_SEND, 0, 1)
ENTER(writev, IO_IOV, WL_HTTP_SEND, 0, 1)
ENTER(sendmsg, IO_MSG, WL_HTTP_SEND, 0, 1)
ENTER(sendfile64, IO_NODATA, WL_HTTP_SEND, 0, 2)

/* --- connection end: tell user space, forget the socket --- */

static __always_inline int on_state(const struct sock *sk, int newstate)
{
	__u64 key = (__u64)sk;
	struct http_conn *c;
	struct scratch *s;
	__u32 zero = 0;

	if (newstate != TCP_CLOSE)
		return 0;
	c = bpf_map_lookup_elem(&wl_http_conns, &key);
	if (!c)
		return 0;
	if (c->cls == CLS_HTTP && (s = bpf_map_lookup_elem(&wl_http_scratch, &zero))) {
		__builtin_memset(&s->e, 0, sizeof(s->e));
		s->e.hdr.ts_ns = bpf_ktime_get_ns();
		s->e.hdr.type = WL_EV_HTTP_CLOSE;
		s->e.hdr.flags = WL_F_PROC_UNKNOWN;
		wl_fill_sock_id(&s->e.sock, sk);
		s->e.conn = wl_ptr_id(sk) ^ wl_http_salt;
		s->e.side = c->side;
		if (bpf_ringbuf_output(&wl_events, &s->e, sizeof(s->e), 0))
			wl_stat_inc(WL_STAT_RB_LOST);
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
