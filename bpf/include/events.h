/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every record wirelens's BPF programs put on a ring buffer, defined once.
 * src/events/ decodes each struct field by field; test/unit/event-layout
 * checks those decoders against the compiled objects' BTF so the two cannot
 * drift. Fixed-width types only; keep 8-byte alignment explicit.
 */
#ifndef WL_EVENTS_H
#define WL_EVENTS_H

#define WL_COMM_LEN 16
#define WL_MAX_FILTER 8

/* wl_hdr.type */
enum wl_event_type {
	WL_EV_TCP_OPEN = 1,
	WL_EV_TCP_CLOSE = 2,
	WL_EV_HTTP_EXCHANGE = 3, /* struct wl_http_ex: one HTTP exchange seen from one socket */
	WL_EV_HTTP_AHEAD = 4,	 /* struct wl_http_ahead: a pipelined request's head, before its exchange */
	WL_EV_TCP_NOTE = 5,	 /* struct wl_tcp_note: retransmit, reset, drop, RTT sample */
	WL_EV_SOCK_PAYLOAD = 6,	 /* struct wl_sp_event: DNS or TLS bytes of a packet */
	WL_EV_CAPTURE = 7,	 /* struct wl_cap_event: a captured packet */
	WL_EV_CAPTURE_EPB = 8,	 /* struct wl_cap_epb: a captured packet as a pcapng block */
};

/* wl_hdr.flags */
#define WL_F_PROC_UNKNOWN (1 << 0)    /* no process could be attributed */
#define WL_F_START_UNKNOWN (1 << 1)   /* connection predates wirelens */
#define WL_F_NOT_ESTABLISHED (1 << 2) /* closed before it was established */

/* Counters in the per-CPU array wl_stats, one slot each. */
enum wl_stat {
	WL_STAT_RB_LOST = 0,	/* ring buffer full: record dropped */
	WL_STAT_FILTERED = 1,	/* dropped in the kernel by a filter */
	WL_STAT_TABLE_FULL = 2, /* a tracking table refused an insert */
	WL_STAT_EMITTED = 3,	/* records submitted to the ring buffer */
	WL_STAT_NOT_HTTP = 4,	/* connections classified as not HTTP (never copied again) */
	WL_STAT_HTTP_CONNS = 5, /* connections classified as HTTP */
	WL_STAT_MAX = 8,
};

struct wl_hdr {
	__u64 ts_ns; /* CLOCK_MONOTONIC, bpf_ktime_get_ns() */
	__u16 type;  /* enum wl_event_type */
	__u16 flags; /* WL_F_* */
	__u32 cpu;
};

struct wl_proc {
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id;
	char comm[WL_COMM_LEN];
};

struct wl_sock_id {
	__u32 netns;	/* network namespace inode number */
	__u16 family;	/* AF_INET / AF_INET6 */
	__u16 protocol; /* IPPROTO_* */
	__u16 sport;	/* local port, host order */
	__u16 dport;	/* remote port, host order */
	__u32 _pad;
	__u8 saddr[16]; /* local address; IPv4 in the first 4 bytes */
	__u8 daddr[16]; /* remote address */
};

enum wl_tcp_direction {
	WL_DIR_UNKNOWN = 0,
	WL_DIR_ACTIVE = 1,  /* connect() */
	WL_DIR_PASSIVE = 2, /* accept() */
};

/* wirelens tcp --events, as the bits of the .rodata wl_tcp_events:
 * 1 << enum wl_tcp_note_kind for the health events, and these two. */
#define WL_EVENTS_OPEN (1 << 6)
#define WL_EVENTS_CLOSE (1 << 7)

/* A TCP socket's health figures, read from struct tcp_sock. */
struct wl_tcp_health {
	__u32 srtt_us;	  /* smoothed RTT */
	__u32 min_rtt_us; /* lowest RTT seen (windowed) */
	__u32 retrans;	  /* segments retransmitted over the connection's life */
	__u32 lost;	  /* segments marked lost over its life */
	__u32 cwnd;	  /* congestion window, segments */
	__u32 _pad;
};

struct wl_tcp_event {
	struct wl_hdr hdr;
	struct wl_proc proc;
	struct wl_sock_id sock;
	__u64 duration_ns; /* close: since first state seen; open: handshake */
	__u64 tx_bytes;	   /* close: payload bytes sent (bytes_sent - bytes_retrans) */
	__u64 rx_bytes;	   /* close: payload bytes received (bytes_received, less the FIN) */
	__u8 direction;	   /* enum wl_tcp_direction */
	__u8 oldstate;	   /* TCP_* of the transition that made the record */
	__u8 newstate;
	__u8 _pad[5];
	struct wl_tcp_health health; /* close: the socket's own figures */
};

/* wl_tcp_note.kind */
enum wl_tcp_note_kind {
	WL_NOTE_RETRANSMIT = 1,
	WL_NOTE_RESET_SENT = 2,
	WL_NOTE_RESET_RECV = 3,
	WL_NOTE_DROP = 4,
	WL_NOTE_RTT = 5,
};

/*
 * One TCP health event. sock: the socket's ends (local in saddr/sport), or
 * for a packet without a socket its ends: a drop's saddr/sport is where the
 * packet came from; a reset answering a packet that found no socket goes
 * from saddr/sport (this host) to daddr/dport.
 */
struct wl_tcp_note {
	struct wl_hdr hdr;
	struct wl_proc proc;
	struct wl_sock_id sock;
	struct wl_tcp_health health; /* zero without a TCP socket */
	__u32 reason;		     /* drop: enum skb_drop_reason */
	__u16 segs; /* retransmit: segments retransmitted (one record per packet, which may hold several) */
	__u8 kind;  /* enum wl_tcp_note_kind */
	__u8 state; /* TCP_* of the socket, 0 without one */
	__u8 has_sock; /* 1: sock is a socket's ends; 0: a packet's */
	__u8 _pad[7];
};

/* wl_http_ex.side: which end of the exchange the socket is. */
enum wl_http_side {
	WL_HTTP_CLIENT = 1, /* sends requests */
	WL_HTTP_SERVER = 2, /* receives requests */
};

/* Bytes of a head the kernel copies at most (bpf/http.bpf.c). */
#define WL_HTTP_HEAD_MAX 2048
/* Bytes of a Host or Content-Type value the kernel copies at most. */
#define WL_HTTP_VALUE_MAX 64

/* wl_http_ex.end: what ended the exchange. */
enum wl_http_end {
	WL_HTTP_END_RESPONSE =
		1, /* its final response ended (its length, its last chunk, or the close that ends it) */
	WL_HTTP_END_CLOSED = 2, /* the connection ended first: no final response, or one cut short */
	WL_HTTP_END_TUNNEL = 3, /* 101, or a 2xx to CONNECT: what follows is not HTTP and is not looked at */
};

/* wl_http_ex.flags */
#define WL_HTTP_F_REQ_CUT (1 << 0)  /* the request head is longer than the bytes copied */
#define WL_HTTP_F_RESP_CUT (1 << 1) /* the same for the response head */
#define WL_HTTP_F_LINES \
	(1 << 2) /* only the start lines are copied (no --headers): host/ctype hold those two values */
#define WL_HTTP_F_REQ_AHEAD \
	(1 << 3) /* the request head came before, in a wl_http_ahead record with this `no` */
#define WL_HTTP_F_REQ_LOST \
	(1 << 4) /* the request head was not kept (pipelined behind another, across packets) */
#define WL_HTTP_F_HOST_CUT (1 << 5) /* the Host value is longer than WL_HTTP_VALUE_MAX */

/*
 * One HTTP/1.x exchange seen from one local socket (bpf/http.bpf.c), sent
 * when it ends: the request's head (its first WL_HTTP_HEAD_MAX bytes, or with
 * WL_HTTP_F_LINES only its request line), then at resp_off the response's.
 * Bodies are counted, never copied. proc is the socket's owner.
 */
struct wl_http_ex {
	struct wl_hdr hdr; /* ts_ns: the request's first byte */
	struct wl_proc proc;
	struct wl_sock_id sock; /* local end in saddr/sport */
	__u64 conn;		/* socket cookie */
	__u64 latency_ns;	/* request's first byte to the final response's first byte; 0 without one */
	__u64 req_bytes;	/* the request's head and body, as they crossed the socket */
	__u64 resp_bytes;	/* the response's heads (interim ones too) and body */
	__u32 no;		/* the request's number on the connection, from 1 */
	__u16 status;		/* the final response's status; 0 without one */
	__u16 req_cap;		/* request head bytes at the start of the data */
	__u16 resp_cap;		/* response head bytes at resp_off */
	__u16 resp_off;
	__u8 side;	/* enum wl_http_side */
	__u8 end;	/* enum wl_http_end */
	__u8 flags;	/* WL_HTTP_F_* */
	__u8 host_len;	/* bytes of host */
	__u8 ctype_len; /* bytes of ctype */
	__u8 _pad[3];
	char method[8]; /* the request's method (NUL-padded), whether or not its head was kept */
	char host[WL_HTTP_VALUE_MAX];  /* the request's Host value */
	char ctype[WL_HTTP_VALUE_MAX]; /* the final response's Content-Type value */
				       /* followed by the heads */
};

/*
 * A request head that could not wait in the socket's copy for its exchange
 * (another request was waiting there: pipelining): sent at its end, matched by
 * conn and no to the wl_http_ex that carries WL_HTTP_F_REQ_AHEAD.
 */
struct wl_http_ahead {
	struct wl_hdr hdr;
	__u64 conn;
	__u32 no;
	__u16 cap;  /* head bytes that follow */
	__u8 flags; /* WL_HTTP_F_REQ_CUT, WL_HTTP_F_LINES */
	__u8 _pad;
	/* followed by cap bytes */
};

/* Counters in the per-CPU array wl_http_stats (bpf/http.bpf.c), one slot each. */
enum wl_http_stat {
	WL_HTTP_STAT_LISTENER =
		0, /* payload arriving at a listening socket (TFO, a lost handshake ACK): not followed */
	WL_HTTP_STAT_REQUESTS = 1,	/* request heads seen */
	WL_HTTP_STAT_EXCHANGES = 2,	/* exchanges ended (sent or counted) */
	WL_HTTP_STAT_UNANSWERED = 3,	/* of those, without a final response */
	WL_HTTP_STAT_URL_FILTERED = 4,	/* requests dropped by --method/--url-prefix/--url-contains/--host */
	WL_HTTP_STAT_PROC_FILTERED = 5, /* exchanges dropped by --pid/--comm */
	WL_HTTP_STAT_PORT_FILTERED = 6, /* connections dropped by --port */
	WL_HTTP_STAT_GAPS =
		7, /* a direction lost its place (bytes missing, out of order): heads sought again */
	WL_HTTP_STAT_MALFORMED = 8, /* heads that are not HTTP/1.x: the direction seeks the next head */
	WL_HTTP_STAT_UNPAIRED =
		9, /* final responses with no request waiting (joined mid-stream, or after a gap) */
	WL_HTTP_STAT_DROPPED = 10,     /* requests waiting that a gap or a full queue dropped: not reported */
	WL_HTTP_STAT_TUNNELS = 11,     /* connections no longer followed: 101, CONNECT */
	WL_HTTP_STAT_BUSY = 12,	       /* packets not parsed: both scratch buffers of the CPU in use */
	WL_HTTP_STAT_ROUTES_FULL = 13, /* --stats-only: exchanges counted in the "(other)" row */
	WL_HTTP_STAT_NOT_KEPT = 14,    /* request heads not copied (pipelined, over more than one window) */
	WL_HTTP_STAT_AHEAD = 15,       /* pipelined request heads sent ahead of their exchanges */
	WL_HTTP_STAT_MAX = 16,
};

/* wirelens http --stats-only: per-endpoint counters in wl_http_routes, read once per interval. */
#define WL_HTTP_ROUTE_MAX 64
#define WL_HTTP_METHOD_MAX 8
#define WL_HTTP_LAT_BUCKETS 32

/* wl_http_route_key.flags */
#define WL_HTTP_RK_CUT (1 << 0)	  /* the route is longer than WL_HTTP_ROUTE_MAX */
#define WL_HTTP_RK_OTHER (1 << 1) /* the overflow row: endpoints past the table's size */

struct wl_http_route_key {
	__u8 side;  /* enum wl_http_side */
	__u8 flags; /* WL_HTTP_RK_* */
	__u8 len;   /* bytes of route */
	__u8 _pad;
	char method[WL_HTTP_METHOD_MAX];
	char route[WL_HTTP_ROUTE_MAX]; /* the path up to '?', each all-digit segment as {n}; zero-filled */
};

struct wl_http_route_val {
	__u64 count;
	__u64 status[6]; /* [0] no final response, [1..5] 1xx..5xx */
	__u64 lat_max_ns;
	__u64 lat_sum_ns;
	__u64 lat[WL_HTTP_LAT_BUCKETS]; /* [i]: latency in [2^i, 2^(i+1)) us ([0] below 2 us) */
};

/* wl_sp_event.kind: what the bytes were recognised as (bpf/sock_payload.bpf.c). */
enum wl_sp_kind {
	WL_SP_DNS = 1,
	WL_SP_TLS = 2,
};

/* wl_sp_event.dir */
enum wl_sp_dir {
	WL_SP_EGRESS = 1,  /* sent by this host's socket */
	WL_SP_INGRESS = 2, /* received by it */
};

/* wl_sp_event.flags */
#define WL_SP_F_FIN (1 << 0)   /* the TCP segment carries FIN */
#define WL_SP_F_RST (1 << 1)   /* the TCP segment carries an RST the socket takes (in order) */
#define WL_SP_F_LIMIT (1 << 2) /* nothing of this direction past stream + len is copied */
#define WL_SP_F_CUT (1 << 3)   /* with LIMIT: the packet went on past what one packet's records hold */
#define WL_SP_F_LISTENER \
	(1               \
	 << 4) /* seen on the listener (it completed the handshake, or a TFO SYN): conn is the listener's, the child has the same netns and ends */

/* Counters in the per-CPU array wl_sp_stats (bpf/sock_payload.bpf.c), one slot each. */
enum wl_sp_stat {
	WL_SP_STAT_PORT_FILTERED = 0, /* UDP records and TCP connections dropped by --port */
	WL_SP_STAT_PROC_FILTERED = 1, /* records dropped by --pid/--comm */
	WL_SP_STAT_LISTENER = 2,      /* segments copied from a listener for the connection it made */
	WL_SP_STAT_NOT_FRESH = 3,     /* TCP connections first seen mid-stream: not copied */
	WL_SP_STAT_OUT_OF_WINDOW = 4, /* arriving segments past the receive window: not copied */
	WL_SP_STAT_LIMIT = 5,	      /* DNS-over-TCP directions that reached the copy limit */
	WL_SP_STAT_CUT = 6, /* TCP packets longer than one packet's records: direction stopped there */
	WL_SP_STAT_MAX = 8,
};

/* Payload bytes one record carries at most; longer packets take several records. */
#define WL_SP_CHUNK 4096

/*
 * Bytes of one packet of a local socket, seen by cgroup_skb: a UDP datagram
 * that looks like DNS, or a TCP segment of a connection recognised as DNS or
 * TLS by its first payload. proc is the socket's owner (pid = tid = its
 * process); sock is the packet's ends, local end in saddr/sport.
 */
struct wl_sp_event {
	struct wl_hdr hdr;
	struct wl_proc proc;
	struct wl_sock_id sock;
	__u64 conn; /* socket cookie: unique per socket for the boot */
	__u32 len; /* UDP: the datagram's bytes; TCP: the packet's bytes from `stream` on that the kernel copies */
	__u32 off; /* where this record's bytes start: in the datagram, or from `stream` */
	__u32 stream; /* TCP: the place of the packet's first copied byte, counted from the direction's first; UDP: 0 */
	__u16 cap;  /* payload bytes that follow the struct */
	__u8 kind;  /* enum wl_sp_kind */
	__u8 dir;   /* enum wl_sp_dir */
	__u8 flags; /* WL_SP_F_* */
	__u8 _pad[7];
	/* followed by cap bytes */
};

/*
 * wirelens capture (bpf/capture.bpf.c): a packet that passed the filter,
 * copied up to the snap length. Socket hooks (cgroup_skb) copy from the IP
 * header; TC hooks from the link-layer header. The process is the socket's
 * owner where the packet has a local socket (hdr.flags WL_F_PROC_UNKNOWN
 * otherwise).
 */
enum wl_cap_hook {
	WL_CAP_HOOK_SOCK = 1, /* cgroup_skb on the root cgroup: every local socket */
	WL_CAP_HOOK_TC = 2,   /* tcx / classic TC on an interface */
};

/* Counters in the per-CPU array wl_cap_stats. */
enum wl_cap_stat {
	WL_CAP_STAT_SEEN = 0,	       /* packets the hooks saw ("received by filter") */
	WL_CAP_STAT_PROC_FILTERED = 1, /* rejected by --pid/--comm/--uid */
	WL_CAP_STAT_MATCHED = 2,       /* passed the expression */
	WL_CAP_STAT_TAIL_FAILED = 3,   /* the filter's tail call failed (no program in the slot) */
	WL_CAP_STAT_MAX = 4,
};

struct wl_cap_event {
	struct wl_hdr hdr;
	__u32 pid; /* the socket owner's process, 0 if unknown */
	__u32 uid;
	char comm[WL_COMM_LEN];
	__u32 netns;	/* the socket's network namespace inode (socket hooks), else 0 */
	__u32 ifindex;	/* skb->ifindex: the interface (TC), the arriving device (socket ingress) */
	__u32 len;	/* the packet's length (skb->len) */
	__u32 caplen;	/* bytes that follow */
	__u16 protocol; /* skb->protocol, network order (ETH_P_IP, ETH_P_IPV6, ...) */
	__u8 hook;	/* enum wl_cap_hook */
	__u8 egress;	/* 1: leaving, 0: arriving */
	__u8 pkt_type;	/* skb->pkt_type (PACKET_HOST, _BROADCAST, _MULTICAST, _OTHERHOST, ...) */
	__u8 _pad[3];
	/* followed by caplen bytes */
};

/*
 * capture -w FILE (wl_cap_epb set): a captured packet as the pcapng Enhanced
 * Packet Block user space writes to the file as it is, with no work per
 * packet: the block (little-endian, time stamps in ns of wall time, the
 * interface id user space gave the ifindex in wl_cap_idb) starts at
 * `block_type` and is `epb_len` bytes long: the header, the packet padded
 * to 4 bytes, the process's opt_comment ("PID: n\nCmd: comm\nUID: n", plus
 * "\nNetNS: n" for another namespace than the capture's; "NetNS: n" alone
 * without a process), epb_flags (1 in, 2 out), opt_endofopt and the length
 * again. Packets this form cannot describe exactly (a comm that is not
 * printable ASCII, an interface with no id) come as wl_cap_event.
 */
struct wl_cap_epb {
	struct wl_hdr hdr;
	__u32 epb_len;	  /* bytes of the block, from block_type */
	__u32 _pad[2];	  /* the packet (after the block's 28-byte header) starts 8-byte aligned */
	__u32 block_type; /* 6 */
	__u32 block_len;  /* = epb_len */
	__u32 if_id;
	__u32 ts_high; /* wall time in ns, high and low 32 bits */
	__u32 ts_low;
	__u32 caplen;
	__u32 origlen;
	/* followed by the packet, padded to 4 bytes, the options and the length */
};

/* capture -w FILE: the process comment of the last packet, per CPU (wl_cap_epb). */
#define WL_CAP_COMMENT_MAX 80 /* the opt_comment option: 4-byte header and up to 76 bytes of text */
struct wl_cap_comment {
	__u32 pid;
	__u32 uid;
	__u32 netns; /* 0 when not written */
	__u32 have;  /* 1: PID, Cmd and UID written */
	__u64 comm0; /* the comm's 16 bytes as two words */
	__u64 comm1;
	__u32 opt_len; /* bytes of opt: 0 (no comment), else 4 + the text padded to 4 */
	__u32 ok;      /* 0: not filled yet, 1: filled, 2: the comm needs the full record */
	__u8 opt[WL_CAP_COMMENT_MAX + 48];
};

/*
 * wl_cap_ifs value (TC capture of interfaces with different link-layer
 * headers, written as LINUX_SLL2): set by user space for each hooked
 * interface, keyed by ifindex.
 */
struct wl_cap_ifcfg {
	__u32 slot;   /* the prog array slot of the filter compiled for this interface's header */
	__u16 l2_len; /* bytes before the IP header (14 Ethernet, 0 for L3 devices) */
	__u16 _pad;
	__u32 snaplen; /* frame bytes copied at most: the SLL2 snap length less 20 plus l2_len */
};

/*
 * wirelens top: traffic counted in maps (bpf/traffic.bpf.c), read by user
 * space once per interval; no record per packet. Bytes are the IP packet
 * (cgroup hooks) or the frame (TC hooks); packets count segments of a GSO/GRO
 * packet one by one.
 */
struct wl_top_counts {
	__u64 rx_bytes;
	__u64 rx_pkts;
	__u64 tx_bytes;
	__u64 tx_pkts;
	__u64 conns;   /* connections (sockets, or TCP SYNs on an interface) first seen */
	__u64 retrans; /* TCP segments retransmitted */
};

/* wl_top_procs value, per CPU, keyed by process id (tgid; 0: no process known). */
struct wl_top_proc {
	struct wl_top_counts c;
	__u32 uid;
	__u32 _pad;
	char comm[WL_COMM_LEN];
};

/* wl_top_remotes key. */
struct wl_top_addr {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 _pad[3];
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};

/* wl_top_ports key: (WL_TOP_* << 16) | local port. wl_top_protos index. */
enum wl_top_proto {
	WL_TOP_TCP = 0,
	WL_TOP_UDP = 1,
	WL_TOP_ICMP = 2,
	WL_TOP_ICMPV6 = 3,
	WL_TOP_OTHER = 4,
	WL_TOP_PROTO_MAX = 5,
};

/* wl_top_ifcfg value: set by user space for each interface it hooks. */
struct wl_top_ifcfg {
	__u16 l2_len; /* bytes before the IP header (14 Ethernet, 0 for L3 devices) */
	__u16 _pad;
};

/*
 * wirelens guard (bpf/guard.bpf.c): attack signs counted in maps, read by
 * user space once per second; no record per packet. TC ingress counts what
 * arrives (per protocol, per destination port and per source once either is
 * above a floor), TC egress what this host answers (SYN-ACK, RST, ICMP
 * unreachable), tp_btf handshakes completed, SYN-ACK retransmits, resets
 * sent and drops by reason.
 */
struct wl_guard_counts {
	__u64 pkts;	   /* packets received (TC ingress) */
	__u64 bytes;	   /* their bytes (frames) */
	__u64 syn;	   /* TCP SYN without ACK received */
	__u64 synack;	   /* TCP SYN-ACK sent (TC egress) */
	__u64 rst_in;	   /* TCP RST received */
	__u64 rst_out;	   /* TCP RST|ACK sent: a segment without ACK (a SYN) refused */
	__u64 unreach_out; /* ICMP/ICMPv6 destination unreachable sent */
	__u64 udp;	   /* UDP packets received */
	__u64 icmp;	   /* ICMP/ICMPv6 packets received */
	__u64 est;	   /* handshakes completed: a listener made a child socket (tp_btf) */
	__u64 blocked;	   /* packets dropped by --block */
};

/* wl_guard_ports and wl_guard_protos value, per CPU. */
struct wl_guard_port {
	struct wl_guard_counts c;
	__u8 daddr[16]; /* the last destination address seen (IPv4 in the first 4 bytes) */
	__u8 family;	/* its family, 0: none yet */
	__u8 _pad[7];
};

/* wl_guard_sources and wl_guard_blocks key; with a bucket, wl_guard_scans key. */
struct wl_guard_addr {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 _pad[3];
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};

/* wl_guard_ports key: (enum wl_guard_proto << 16) | port; wl_guard_protos index. */
enum wl_guard_proto {
	WL_GUARD_TCP = 0,
	WL_GUARD_UDP = 1,
	WL_GUARD_ICMP = 2,
	WL_GUARD_ICMPV6 = 3,
	WL_GUARD_OTHER = 4,
	WL_GUARD_PROTO_MAX = 5,
};

/*
 * Per remote and time bucket, a bitmap of ports: in wl_guard_scans those it
 * was refused at (RST or ICMP unreachable sent to it); in
 * wl_guard_unanswered the TCP ports it sent a SYN to that have had no answer
 * yet (a SYN-ACK, RST or ICMP unreachable sent back clears the bit).
 */
/*
 * 4096 bits; a port's bit is a hash of (proto, port) seeded at random per run
 * (so a remote cannot pick ports that share a bit), and user space estimates
 * the distinct ports from the bits set (linear counting).
 */
#define WL_GUARD_SCAN_WORDS 64
struct wl_guard_scan_key {
	struct wl_guard_addr src;
	__u32 bucket; /* wl_guard_clock.bucket when the refusals happened */
};

struct wl_guard_scan {
	__u64 bits[WL_GUARD_SCAN_WORDS];
};

/* wl_guard_listen key: a listening port in a network namespace (port 0: resets sent with no socket). */
struct wl_guard_listen_key {
	__u32 netns;
	__u16 port;
	__u16 _pad;
};

/* wl_guard_listen value, per CPU (tp_btf or tracepoints). */
struct wl_guard_listen {
	__u64 est;	      /* handshakes completed */
	__u64 synack_retrans; /* SYN-ACKs retransmitted (a SYN whose handshake does not complete) */
	__u64 rst_sent;	      /* resets sent */
};

/*
 * One listening TCP socket with a queue, as the iterator wl_guard_queues
 * writes it (bpf_seq_write), once per interval in each watched namespace.
 */
struct wl_guard_queue {
	__u32 netns;
	__u16 port;  /* local port */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 _pad;
	__u32 syn_queue;    /* half-open: request socks, inet_csk(sk)->icsk_accept_queue.qlen */
	__u32 accept_queue; /* established, not yet accepted: sk_ack_backlog */
	__u32 backlog; /* the limit of both: sk_max_ack_backlog (listen()'s backlog, capped by somaxconn) */
};

/* Distinct sources per read interval: HyperLogLog registers, per CPU, two generations. */
#define WL_GUARD_HLL_BITS 10
#define WL_GUARD_HLL_REGS (1 << WL_GUARD_HLL_BITS)
enum wl_guard_hll_kind {
	WL_GUARD_HLL_ALL = 0,  /* every packet's source */
	WL_GUARD_HLL_SYN = 1,  /* sources of SYNs */
	WL_GUARD_HLL_UDP = 2,  /* sources of UDP */
	WL_GUARD_HLL_ICMP = 3, /* sources of ICMP/ICMPv6 */
	WL_GUARD_HLL_MAX = 4,
};

/* wl_guard_hll value: index kind * 2 + (gen & 1). */
struct wl_guard_hll {
	__u32 gen; /* generation these registers are for (a CPU resets them at its first packet of a new one) */
	__u32 _pad;
	__u8 reg[WL_GUARD_HLL_REGS];
};

/* wl_guard_drops key: packets the kernel dropped (kfree_skb) in a network namespace, by reason. */
struct wl_guard_drop_key {
	__u32 netns;  /* the namespace of skb->dev, else of skb->sk; 0: neither */
	__u32 reason; /* enum skb_drop_reason */
};

/* wl_guard_clock[0]: written by user space at each read. */
struct wl_guard_clock {
	__u32 gen;    /* read intervals since start: rate sketch epoch, HLL generation */
	__u32 bucket; /* scan bucket (a minute by default): refusal sketch epoch, scan table key */
};

/* One count-min sketch cell; a cell of another epoch counts as zero. */
struct wl_guard_cell {
	__u32 epoch;
	__u32 count;
};

/* wl_guard_ifcfg value: set by user space for each interface it hooks. */
struct wl_guard_ifcfg {
	__u16 l2_len; /* bytes before the IP header (14 Ethernet, 0 for L3 devices) */
	__u8 loopback; /* 1: a loopback device (every packet on it is this host's, seen leaving and arriving) */
	__u8 _pad;
};

/* wl_guard_blocks value (--block). */
struct wl_guard_block {
	__u64 until_ns; /* CLOCK_MONOTONIC: dropped until then (the program checks, so a block ends even without user space) */
};

/* Counters in the per-CPU array wl_guard_stats. */
enum wl_guard_stat {
	WL_GUARD_STAT_SOURCES_ENTERED = 0, /* sources that passed the floor into wl_guard_sources */
	WL_GUARD_STAT_PORTS_ENTERED = 1,   /* ports that passed the floor into wl_guard_ports */
	WL_GUARD_STAT_SCANS_ENTERED = 2,   /* scan entries made */
	WL_GUARD_STAT_NOT_IP = 3,	   /* frames that were not IP (or cut short) */
	WL_GUARD_STAT_BLOCKED = 4,	   /* packets dropped by --block */
	WL_GUARD_STAT_UNANSWERED = 5,	   /* remotes whose SYNs passed the floor into wl_guard_unanswered */
	WL_GUARD_STAT_MAX = 8,
};

#endif /* WL_EVENTS_H */
