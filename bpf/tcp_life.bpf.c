// SPDX-License-Identifier: Apache-2.0
/*
 * TCP connection lifecycle: one record when a connection opens (active
 * connect or passive accept, with the owning process) and one when it closes
 * (duration, bytes each way).
 *
 * State changes come from sock:inet_sock_set_state, as tp_btf where the
 * kernel offers it (no trace-event record is built) or as the classic
 * tracepoint. The accepting process is found at accept() return: fexit, else
 * kretprobe, else the accept/accept4 syscall-exit tracepoints with the fd
 * resolved to its socket. User space loads every candidate this kernel
 * supports and attaches the first that attaches, then tells the programs
 * (wl_tcp_cfg) whether an accept hook is in place: without one, a passive
 * open is reported at ESTABLISHED without its process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "fd_sock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Keeps the record types in the object's BTF, where the layout test reads them. */
const struct wl_tcp_event *const wl_btf_tcp_event = 0;
const struct wl_tcp_note *const wl_btf_tcp_note = 0;

/* --events (bits in events.h) */
const volatile __u32 wl_tcp_events = WL_EVENTS_OPEN | WL_EVENTS_CLOSE;

struct sock_info {
	struct wl_proc proc;
	__u64 start_ns; /* 0: connection predates wirelens */
	__u8 direction;
	__u8 has_proc;
	__u8 opened;   /* open record emitted */
	__u8 rejected; /* failed --pid/--comm: stay silent until close */
	__u32 _pad;
};

/* Connections in flight, keyed by struct sock address. LRU: bounded. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_info);
} wl_tcp_socks SEC(".maps");

/* Set by user space after attach. */
struct tcp_cfg {
	__u32 accept_hooked;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_cfg);
} wl_tcp_cfg SEC(".maps");

/*
 * Passive connections waiting for their owner. The sock_recv/send_length
 * hooks do nothing while it is zero, so once every connection is owned they
 * cost a map read per socket call. LRU eviction of an unowned entry only
 * leaves it high (slower, never wrong).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} wl_tcp_unowned SEC(".maps");

static __always_inline void unowned_add(__s64 d)
{
	__u32 zero = 0;
	__s64 *n = bpf_map_lookup_elem(&wl_tcp_unowned, &zero);

	if (n)
		__sync_fetch_and_add(n, d);
}

/* Marks a connection's open record as done; a passive one is owned now. */
static __always_inline void mark_opened(struct sock_info *info)
{
	if (info->opened)
		return;
	info->opened = 1;
	if (info->direction == WL_DIR_PASSIVE)
		unowned_add(-1);
}

static __always_inline bool accept_hooked(void)
{
	__u32 zero = 0;
	struct tcp_cfg *cfg = bpf_map_lookup_elem(&wl_tcp_cfg, &zero);

	return cfg && cfg->accept_hooked;
}

static __always_inline void fill_health(struct wl_tcp_health *h, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	h->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	h->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
	h->retrans = BPF_CORE_READ(tp, total_retrans);
	h->lost = bpf_core_field_exists(tp->lost) ? BPF_CORE_READ(tp, lost) : 0;
	h->cwnd = BPF_CORE_READ(tp, snd_cwnd);
	h->_pad = 0;
}

static __always_inline void emit(const struct sock *sk, const struct sock_info *info, __u16 type, __u16 flags,
				 int oldstate, int newstate, __u64 now)
{
	struct wl_tcp_event *e;

	if (!(wl_tcp_events & (type == WL_EV_TCP_OPEN ? WL_EVENTS_OPEN : WL_EVENTS_CLOSE)))
		return;
	e = bpf_ringbuf_reserve(&wl_events, sizeof(*e), 0);
	if (!e) {
		wl_stat_inc(WL_STAT_RB_LOST);
		return;
	}
	e->hdr.ts_ns = now;
	e->hdr.type = type;
	e->hdr.cpu = bpf_get_smp_processor_id();
	wl_fill_sock_id(&e->sock, sk);
	if (info && info->has_proc) {
		e->proc = info->proc;
	} else {
		__builtin_memset(&e->proc, 0, sizeof(e->proc));
		flags |= WL_F_PROC_UNKNOWN;
	}
	if (info && info->start_ns)
		e->duration_ns = now - info->start_ns;
	else {
		e->duration_ns = 0;
		flags |= WL_F_START_UNKNOWN;
	}
	e->hdr.flags = flags;
	e->direction = info ? info->direction : WL_DIR_UNKNOWN;
	e->oldstate = oldstate;
	e->newstate = newstate;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	if (type == WL_EV_TCP_CLOSE) {
		const struct tcp_sock *tp = (const struct tcp_sock *)sk;
		e->tx_bytes = wl_tcp_tx_payload(tp);
		e->rx_bytes = wl_tcp_rx_payload(tp);
		fill_health(&e->health, sk);
	} else {
		e->tx_bytes = 0;
		e->rx_bytes = 0;
		__builtin_memset(&e->health, 0, sizeof(e->health));
	}
	bpf_ringbuf_submit(e, wl_submit_flags());
	wl_stat_inc(WL_STAT_EMITTED);
}

/* The open record of a connection, once: counted as filtered when its
 * process was rejected (or is unknown under a process filter) or its ports are. */
static __always_inline void report_open(const struct sock *sk, struct sock_info *info, bool rejected,
					int oldstate, int newstate, __u64 now)
{
	mark_opened(info);
	if (rejected || !wl_sock_ports_allowed(sk)) {
		wl_stat_inc(WL_STAT_FILTERED);
		return;
	}
	emit(sk, info, WL_EV_TCP_OPEN, 0, oldstate, newstate, now);
}

static __always_inline bool track(__u64 key, const struct sock_info *info)
{
	if (bpf_map_update_elem(&wl_tcp_socks, &key, info, BPF_ANY)) {
		wl_stat_inc(WL_STAT_TABLE_FULL);
		return false;
	}
	return true;
}

/* A connection's events are filtered out: its process failed --pid/--comm
 * (or is unknown while one is set), or its ports failed --port. */
static __always_inline bool sock_filtered(const struct sock *sk, const struct sock_info *info)
{
	return (info && info->rejected) || !wl_sock_ports_allowed(sk) ||
	       ((!info || !info->has_proc) && wl_proc_filter_active());
}

#include "tcp_health.bpf.h"

static __always_inline int on_state(const struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	struct sock_info *info, fresh = {};

	if (wl_sk_protocol(sk) != WL_IPPROTO_TCP)
		return 0;

	switch (newstate) {
	case TCP_SYN_SENT:
		/* connect(): process context, the caller owns the socket. */
		wl_fill_proc(&fresh.proc);
		fresh.has_proc = 1;
		fresh.rejected = !wl_proc_allowed(&fresh.proc);
		fresh.start_ns = now;
		fresh.direction = WL_DIR_ACTIVE;
		track(key, &fresh);
		return 0;
	case TCP_SYN_RECV:
		/* Child of a listener, softirq: owner known at accept(). From
		 * SYN_SENT it is a simultaneous open: the entry stays active. */
		if (oldstate != TCP_LISTEN)
			return 0;
		fresh.start_ns = now;
		fresh.direction = WL_DIR_PASSIVE;
		if (track(key, &fresh))
			unowned_add(1);
		return 0;
	case TCP_ESTABLISHED:
		info = bpf_map_lookup_elem(&wl_tcp_socks, &key);
		if (!info) {
			/* Handshake began before we attached: start unknown. */
			fresh.direction = oldstate == TCP_SYN_RECV ? WL_DIR_PASSIVE : WL_DIR_ACTIVE;
			if (track(key, &fresh) && fresh.direction == WL_DIR_PASSIVE)
				unowned_add(1);
			return 0;
		}
		if (info->opened)
			return 0;
		if (info->direction == WL_DIR_PASSIVE) {
			if (accept_hooked())
				return 0; /* on_accept() reports it with its owner */
			report_open(sk, info, wl_proc_filter_active(), oldstate, newstate, now);
			return 0;
		}
		report_open(sk, info, info->rejected, oldstate, newstate, now);
		return 0;
	case TCP_FIN_WAIT1:
	case TCP_LAST_ACK:
		/* close()/shutdown() run in the owner's process context. */
		info = bpf_map_lookup_elem(&wl_tcp_socks, &key);
		if (!info) {
			wl_fill_proc(&fresh.proc);
			fresh.has_proc = 1;
			fresh.rejected = !wl_proc_allowed(&fresh.proc);
			track(key, &fresh);
			return 0;
		}
		if (info->has_proc)
			return 0;
		/* Owner not seen at accept (io_uring, no accept hook): it is now. */
		wl_fill_proc(&info->proc);
		info->has_proc = 1;
		info->rejected = !wl_proc_allowed(&info->proc);
		if (info->direction == WL_DIR_PASSIVE && !info->opened)
			report_open(sk, info, info->rejected, TCP_SYN_RECV, TCP_ESTABLISHED, now);
		return 0;
	case TCP_CLOSE: {
		__u16 flags = 0;

		if (oldstate == TCP_LISTEN || oldstate == TCP_CLOSE)
			return 0;
		info = bpf_map_lookup_elem(&wl_tcp_socks, &key);
		if (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)
			flags |= WL_F_NOT_ESTABLISHED;
		if (sock_filtered(sk, info)) {
			wl_stat_inc(WL_STAT_FILTERED);
		} else {
			emit(sk, info, WL_EV_TCP_CLOSE, flags, oldstate, newstate, now);
		}
		if (info) {
			if (info->direction == WL_DIR_PASSIVE && !info->opened)
				unowned_add(-1); /* never owned */
			bpf_map_delete_elem(&wl_tcp_socks, &key);
		}
		if (wl_tcp_events & (1 << WL_NOTE_RTT))
			bpf_map_delete_elem(&wl_rtt_last, &key);
		return 0;
	}
	default:
		return 0;
	}
}

/* The accepting process takes ownership of a passive connection. */
static __always_inline int on_accept(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct sock_info *info;

	if (!sk)
		return 0;
	/* The map answers for nearly every socket (the socket-I/O hook calls
	 * this for any socket while one is unowned): ask it first. */
	info = bpf_map_lookup_elem(&wl_tcp_socks, &key);
	if (!info || info->direction != WL_DIR_PASSIVE || info->opened)
		return 0;
	/* A reset handled on another CPU may have closed it already. */
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)
		return 0;
	wl_fill_proc(&info->proc);
	info->has_proc = 1;
	info->rejected = !wl_proc_allowed(&info->proc);
	report_open(sk, info, info->rejected, TCP_SYN_RECV, TCP_ESTABLISHED, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(wl_tcp_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	return on_state(sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int wl_tcp_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != WL_IPPROTO_TCP)
		return 0;
	return on_state((const struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate);
}

SEC("fexit/inet_csk_accept")
int wl_tcp_accept_fexit(__u64 *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	return on_accept((const struct sock *)ret);
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(wl_tcp_accept_kret, struct sock *sk)
{
	return on_accept(sk);
}

static __always_inline int on_accept_syscall(long ret)
{
	if (ret < 0)
		return 0;
	return on_accept(wl_fd_to_sock(ret));
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int wl_tcp_accept4_tp(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_syscall(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int wl_tcp_accept_tp(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_syscall(ctx->ret);
}

/*
 * Linux 6.5+: sock_recvmsg/sock_sendmsg report the socket in the caller's
 * context. The first process to read or write an accepted connection owns
 * it (nearly always the one that accepted it), with no syscall tracepoint.
 */
static __always_inline int on_sock_io(const struct sock *sk)
{
	__u32 zero = 0;
	__s64 *n = bpf_map_lookup_elem(&wl_tcp_unowned, &zero);

	if (!n || *n <= 0)
		return 0;
	return on_accept(sk);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(wl_tcp_owner_recv, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(wl_tcp_owner_send, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}
