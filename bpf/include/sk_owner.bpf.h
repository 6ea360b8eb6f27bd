/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which process a socket belongs to, kept in socket storage so that hooks
 * running without a process (packets in softirq, cgroup_skb) can name it:
 * written at socket() (cgroup/sock_create, in the caller's context), copied
 * into accepted sockets from their listener (BPF_F_CLONE), and moved to
 * whichever process reads or writes the socket later (sock_send_length /
 * sock_recv_length, or fentry on sock_sendmsg/sock_recvmsg before 6.3).
 * src/probes/owner-slots.ts attaches these programs.
 */
#ifndef WL_SK_OWNER_BPF_H
#define WL_SK_OWNER_BPF_H

/* A socket's process. Freed with the socket; cloned into accepted sockets. */
struct sk_owner {
	__u32 tgid;
	__u32 uid;
	char comm[WL_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sk_owner);
} wl_owners SEC(".maps");

/*
 * The calling process becomes the socket's owner, named as /proc/PID/comm
 * names it: its main thread's name. A worker thread's own name (dig makes
 * its sockets on "isc-net-0000") does not name the process.
 */
static __always_inline void own(struct sk_owner *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	o->tgid = pid_tgid >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	if (!leader || bpf_core_read_str(o->comm, sizeof(o->comm), &leader->comm) <= 0)
		bpf_get_current_comm(o->comm, sizeof(o->comm));
}

SEC("cgroup/sock_create")
int wl_owner_create(struct bpf_sock *sk)
{
	struct sk_owner *o;

	if (sk->family != AF_INET && sk->family != AF_INET6)
		return 1;
	o = bpf_sk_storage_get(&wl_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		own(o);
	return 1; /* allow */
}

/*
 * The last socket each CPU saw read or written, and by whom: a process
 * streaming through one socket skips the storage lookup on every call after
 * the first (the check runs on every send and receive on the host). Known by
 * its cookie, not its address: a socket freed and another made at the same
 * address (a server's next connection) must not pass for the one seen.
 */
struct owner_seen {
	__u64 cookie;
	__u32 tgid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct owner_seen);
} wl_owner_seen SEC(".maps");

/* A process read or wrote the socket: it owns it from now on. */
static __always_inline int on_sock_io(struct sock *sk)
{
	struct sk_owner *o;
	struct owner_seen *seen;
	__u32 zero = 0, tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 cookie;
	__u16 family;

	if (!sk)
		return 0;
	cookie = bpf_get_socket_cookie(sk);
	seen = bpf_map_lookup_elem(&wl_owner_seen, &zero);
	if (seen && seen->cookie == cookie && seen->tgid == tgid)
		return 0;
	/* A BTF pointer in every caller: read directly (CO-RE relocated), no helper call. */
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	o = bpf_sk_storage_get(&wl_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o && o->tgid != tgid)
		own(o);
	if (seen) {
		seen->cookie = cookie;
		seen->tgid = tgid;
	}
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(wl_owner_send, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(wl_owner_recv, struct sock *sk, int ret, int flags)
{
	return on_sock_io(sk);
}

/* Kernels before sock_*_length (6.3): the same at sock_sendmsg/sock_recvmsg entry. */
SEC("fentry/sock_sendmsg")
int BPF_PROG(wl_owner_send_fentry, struct socket *sock)
{
	return on_sock_io(sock->sk); /* a BTF pointer, as socket storage needs */
}

SEC("fentry/sock_recvmsg")
int BPF_PROG(wl_owner_recv_fentry, struct socket *sock)
{
	return on_sock_io(sock->sk); /* a BTF pointer, as socket storage needs */
}

#endif /* WL_SK_OWNER_BPF_H */
