/**
 * Byte layouts of the records in bpf/include/events.h. Decoders read through
 * these tables only; test/unit/event-layout.test.ts checks each one against
 * the compiled objects' BTF (size and every field offset).
 */
export interface StructLayout {
  /** BTF struct name in bpf/include/events.h */
  readonly struct: string;
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

export const WL_HDR = {
  struct: 'wl_hdr',
  size: 16,
  fields: { ts_ns: 0, type: 8, flags: 10, cpu: 12 },
} as const satisfies StructLayout;

export const WL_PROC = {
  struct: 'wl_proc',
  size: 40,
  fields: { pid: 0, tid: 4, uid: 8, gid: 12, cgroup_id: 16, comm: 24 },
} as const satisfies StructLayout;

export const WL_SOCK_ID = {
  struct: 'wl_sock_id',
  size: 48,
  fields: { netns: 0, family: 4, protocol: 6, sport: 8, dport: 10, _pad: 12, saddr: 16, daddr: 32 },
} as const satisfies StructLayout;

export const WL_TCP_HEALTH = {
  struct: 'wl_tcp_health',
  size: 24,
  fields: { srtt_us: 0, min_rtt_us: 4, retrans: 8, lost: 12, cwnd: 16, _pad: 20 },
} as const satisfies StructLayout;

export const WL_TCP_EVENT = {
  struct: 'wl_tcp_event',
  size: 160,
  fields: {
    hdr: 0,
    proc: 16,
    sock: 56,
    duration_ns: 104,
    tx_bytes: 112,
    rx_bytes: 120,
    direction: 128,
    oldstate: 129,
    newstate: 130,
    _pad: 131,
    health: 136,
  },
} as const satisfies StructLayout;

export const WL_TCP_NOTE = {
  struct: 'wl_tcp_note',
  size: 144,
  fields: {
    hdr: 0,
    proc: 16,
    sock: 56,
    health: 104,
    reason: 128,
    segs: 132,
    kind: 134,
    state: 135,
    has_sock: 136,
    _pad: 137,
  },
} as const satisfies StructLayout;

export const WL_HTTP_EX = {
  struct: 'wl_http_ex',
  size: 296,
  fields: {
    hdr: 0,
    proc: 16,
    sock: 56,
    conn: 104,
    latency_ns: 112,
    req_bytes: 120,
    resp_bytes: 128,
    no: 136,
    status: 140,
    req_cap: 142,
    resp_cap: 144,
    resp_off: 146,
    side: 148,
    end: 149,
    flags: 150,
    host_len: 151,
    ctype_len: 152,
    _pad: 153,
    method: 156,
    host: 164,
    ctype: 228,
  },
} as const satisfies StructLayout;

export const WL_HTTP_AHEAD = {
  struct: 'wl_http_ahead',
  size: 32,
  fields: { hdr: 0, conn: 16, no: 24, cap: 28, flags: 30, _pad: 31 },
} as const satisfies StructLayout;

export const WL_HTTP_ROUTE_KEY = {
  struct: 'wl_http_route_key',
  size: 76,
  fields: { side: 0, flags: 1, len: 2, _pad: 3, method: 4, route: 12 },
} as const satisfies StructLayout;

export const WL_HTTP_ROUTE_VAL = {
  struct: 'wl_http_route_val',
  size: 328,
  fields: { count: 0, status: 8, lat_max_ns: 56, lat_sum_ns: 64, lat: 72 },
} as const satisfies StructLayout;

/** wl_http_ex's enums and flags, the route key's flags and sizes (bpf/include/events.h). */
export const HTTP = {
  CLIENT: 1,
  SERVER: 2,
  END_RESPONSE: 1,
  END_CLOSED: 2,
  END_TUNNEL: 3,
  F_REQ_CUT: 1,
  F_RESP_CUT: 2,
  F_LINES: 4,
  F_REQ_AHEAD: 8,
  F_REQ_LOST: 16,
  F_HOST_CUT: 32,
  HEAD_MAX: 2048,
  VALUE_MAX: 64,
  ROUTE_MAX: 64,
  METHOD_MAX: 8,
  LAT_BUCKETS: 32,
  RK_CUT: 1,
  RK_OTHER: 2,
} as const;

/** Slots of the per-CPU wl_http_stats array (enum wl_http_stat). */
export const HTTP_STAT = {
  LISTENER: 0,
  REQUESTS: 1,
  EXCHANGES: 2,
  UNANSWERED: 3,
  URL_FILTERED: 4,
  PROC_FILTERED: 5,
  PORT_FILTERED: 6,
  GAPS: 7,
  MALFORMED: 8,
  UNPAIRED: 9,
  DROPPED: 10,
  TUNNELS: 11,
  BUSY: 12,
  ROUTES_FULL: 13,
  NOT_KEPT: 14,
} as const;

export const WL_SP_EVENT = {
  struct: 'wl_sp_event',
  size: 136,
  fields: {
    hdr: 0,
    proc: 16,
    sock: 56,
    conn: 104,
    len: 112,
    off: 116,
    stream: 120,
    cap: 124,
    kind: 126,
    dir: 127,
    flags: 128,
    _pad: 129,
  },
} as const satisfies StructLayout;

/** wl_sp_event.kind, .dir and .flags values (bpf/include/events.h). */
export const SP = {
  DNS: 1,
  TLS: 2,
  EGRESS: 1,
  INGRESS: 2,
  F_FIN: 1,
  F_RST: 2,
  F_LIMIT: 4,
  F_CUT: 8,
  F_LISTENER: 16,
} as const;

/** Slots of the per-CPU wl_sp_stats array (enum wl_sp_stat). */
export const SP_STAT = {
  PORT_FILTERED: 0,
  PROC_FILTERED: 1,
  LISTENER: 2,
  NOT_FRESH: 3,
  OUT_OF_WINDOW: 4,
  LIMIT: 5,
  CUT: 6,
} as const;

export const WL_CAP_EVENT = {
  struct: 'wl_cap_event',
  size: 64,
  fields: {
    hdr: 0,
    pid: 16,
    uid: 20,
    comm: 24,
    netns: 40,
    ifindex: 44,
    len: 48,
    caplen: 52,
    protocol: 56,
    hook: 58,
    egress: 59,
    pkt_type: 60,
    _pad: 61,
  },
} as const satisfies StructLayout;

/** capture -w FILE: a captured packet as a pcapng Enhanced Packet Block (starting at block_type, epb_len bytes). */
export const WL_CAP_EPB = {
  struct: 'wl_cap_epb',
  size: 56,
  fields: {
    hdr: 0,
    epb_len: 16,
    _pad: 20,
    block_type: 28,
    block_len: 32,
    if_id: 36,
    ts_high: 40,
    ts_low: 44,
    caplen: 48,
    origlen: 52,
  },
} as const satisfies StructLayout;

/** The per-CPU process comment cache of capture -w FILE (wl_cap_comments). */
export const WL_CAP_COMMENT = {
  struct: 'wl_cap_comment',
  size: 168,
  fields: { pid: 0, uid: 4, netns: 8, have: 12, comm0: 16, comm1: 24, opt_len: 32, ok: 36, opt: 40 },
} as const satisfies StructLayout;

/** wl_cap_ifs value: the filter slot, header length and frame snap length of one interface (SLL2 captures). */
export const WL_CAP_IFCFG = {
  struct: 'wl_cap_ifcfg',
  size: 12,
  fields: { slot: 0, l2_len: 4, _pad: 6, snaplen: 8 },
} as const satisfies StructLayout;

/** enum wl_cap_hook and the slots of the per-CPU wl_cap_stats array (enum wl_cap_stat). */
export const CAP = { HOOK_SOCK: 1, HOOK_TC: 2 } as const;
export const CAP_STAT = { SEEN: 0, PROC_FILTERED: 1, MATCHED: 2, TAIL_FAILED: 3 } as const;

/** Every layout and the object file whose BTF must agree with it. */
export const WL_TOP_COUNTS = {
  struct: 'wl_top_counts',
  size: 48,
  fields: { rx_bytes: 0, rx_pkts: 8, tx_bytes: 16, tx_pkts: 24, conns: 32, retrans: 40 },
} as const satisfies StructLayout;

export const WL_TOP_PROC = {
  struct: 'wl_top_proc',
  size: 72,
  fields: { c: 0, uid: 48, _pad: 52, comm: 56 },
} as const satisfies StructLayout;

export const WL_TOP_ADDR = {
  struct: 'wl_top_addr',
  size: 20,
  fields: { family: 0, _pad: 1, addr: 4 },
} as const satisfies StructLayout;

export const WL_TOP_IFCFG = {
  struct: 'wl_top_ifcfg',
  size: 4,
  fields: { l2_len: 0, _pad: 2 },
} as const satisfies StructLayout;

/** wirelens guard's map layouts (bpf/guard.bpf.c). */
export const WL_GUARD_COUNTS = {
  struct: 'wl_guard_counts',
  size: 88,
  fields: {
    pkts: 0,
    bytes: 8,
    syn: 16,
    synack: 24,
    rst_in: 32,
    rst_out: 40,
    unreach_out: 48,
    udp: 56,
    icmp: 64,
    est: 72,
    blocked: 80,
  },
} as const satisfies StructLayout;

export const WL_GUARD_PORT = {
  struct: 'wl_guard_port',
  size: 112,
  fields: { c: 0, daddr: 88, family: 104, _pad: 105 },
} as const satisfies StructLayout;

export const WL_GUARD_ADDR = {
  struct: 'wl_guard_addr',
  size: 20,
  fields: { family: 0, _pad: 1, addr: 4 },
} as const satisfies StructLayout;

export const WL_GUARD_SCAN_KEY = {
  struct: 'wl_guard_scan_key',
  size: 24,
  fields: { src: 0, bucket: 20 },
} as const satisfies StructLayout;

export const WL_GUARD_SCAN = {
  struct: 'wl_guard_scan',
  size: 512,
  fields: { bits: 0 },
} as const satisfies StructLayout;

export const WL_GUARD_LISTEN_KEY = {
  struct: 'wl_guard_listen_key',
  size: 8,
  fields: { netns: 0, port: 4, _pad: 6 },
} as const satisfies StructLayout;

export const WL_GUARD_QUEUE = {
  struct: 'wl_guard_queue',
  size: 20,
  fields: { netns: 0, port: 4, family: 6, _pad: 7, syn_queue: 8, accept_queue: 12, backlog: 16 },
} as const satisfies StructLayout;

export const WL_GUARD_LISTEN = {
  struct: 'wl_guard_listen',
  size: 24,
  fields: { est: 0, synack_retrans: 8, rst_sent: 16 },
} as const satisfies StructLayout;

export const WL_GUARD_HLL = {
  struct: 'wl_guard_hll',
  size: 1032,
  fields: { gen: 0, _pad: 4, reg: 8 },
} as const satisfies StructLayout;

export const WL_GUARD_CLOCK = {
  struct: 'wl_guard_clock',
  size: 8,
  fields: { gen: 0, bucket: 4 },
} as const satisfies StructLayout;

export const WL_GUARD_CELL = {
  struct: 'wl_guard_cell',
  size: 8,
  fields: { epoch: 0, count: 4 },
} as const satisfies StructLayout;

export const WL_GUARD_IFCFG = {
  struct: 'wl_guard_ifcfg',
  size: 4,
  fields: { l2_len: 0, loopback: 2, _pad: 3 },
} as const satisfies StructLayout;

export const WL_GUARD_DROP_KEY = {
  struct: 'wl_guard_drop_key',
  size: 8,
  fields: { netns: 0, reason: 4 },
} as const satisfies StructLayout;

export const WL_GUARD_BLOCK = {
  struct: 'wl_guard_block',
  size: 8,
  fields: { until_ns: 0 },
} as const satisfies StructLayout;

/** enum wl_guard_proto (wl_guard_protos index, high half of a wl_guard_ports key), enum wl_guard_hll_kind, enum wl_guard_stat. */
export const GUARD_PROTO = { TCP: 0, UDP: 1, ICMP: 2, ICMPV6: 3, OTHER: 4 } as const;
export const GUARD_HLL = { ALL: 0, SYN: 1, UDP: 2, ICMP: 3 } as const;
export const GUARD_STAT = {
  SOURCES_ENTERED: 0,
  PORTS_ENTERED: 1,
  SCANS_ENTERED: 2,
  NOT_IP: 3,
  BLOCKED: 4,
  UNANSWERED: 5,
} as const;
/** WL_GUARD_HLL_BITS, WL_GUARD_SCAN_WORDS in events.h. */
export const GUARD_HLL_BITS = 10;
export const GUARD_SCAN_WORDS = 64;

/** enum wl_top_proto: wl_top_protos index, and the high half of a wl_top_ports key. */
export const TOP_PROTOS = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;

export const LAYOUTS_BY_OBJECT: Readonly<Record<string, readonly StructLayout[]>> = {
  tcp_life: [WL_HDR, WL_PROC, WL_SOCK_ID, WL_TCP_HEALTH, WL_TCP_EVENT, WL_TCP_NOTE],
  traffic: [WL_TOP_COUNTS, WL_TOP_PROC, WL_TOP_ADDR, WL_TOP_IFCFG],
  http: [WL_HDR, WL_PROC, WL_SOCK_ID, WL_HTTP_EX, WL_HTTP_AHEAD, WL_HTTP_ROUTE_KEY, WL_HTTP_ROUTE_VAL],
  sock_payload: [WL_HDR, WL_PROC, WL_SOCK_ID, WL_SP_EVENT],
  capture: [WL_HDR, WL_CAP_EVENT, WL_CAP_IFCFG, WL_CAP_EPB, WL_CAP_COMMENT],
  guard: [
    WL_GUARD_COUNTS,
    WL_GUARD_PORT,
    WL_GUARD_ADDR,
    WL_GUARD_SCAN_KEY,
    WL_GUARD_SCAN,
    WL_GUARD_LISTEN_KEY,
    WL_GUARD_LISTEN,
    WL_GUARD_QUEUE,
    WL_GUARD_HLL,
    WL_GUARD_CLOCK,
    WL_GUARD_CELL,
    WL_GUARD_IFCFG,
    WL_GUARD_BLOCK,
    WL_GUARD_DROP_KEY,
  ],
};

/** wl_hdr.type values (enum wl_event_type). */
export const EV = {
  TCP_OPEN: 1,
  TCP_CLOSE: 2,
  HTTP_EXCHANGE: 3,
  HTTP_AHEAD: 4,
  TCP_NOTE: 5,
  SOCK_PAYLOAD: 6,
  CAPTURE: 7,
  CAPTURE_EPB: 8,
} as const;

/** wl_tcp_note.kind values (enum wl_tcp_note_kind). */
export const NOTE = { RETRANSMIT: 1, RESET_SENT: 2, RESET_RECV: 3, DROP: 4, RTT: 5 } as const;

/** Bits of wl_tcp_events beside 1 << NOTE.* (WL_EVENTS_OPEN/CLOSE in events.h). */
export const EVENTS_OPEN = 1 << 6;
export const EVENTS_CLOSE = 1 << 7;

/** wl_hdr.flags bits. */
export const FLAG = { PROC_UNKNOWN: 1, START_UNKNOWN: 2, NOT_ESTABLISHED: 4 } as const;

/** Slots of the per-CPU wl_stats array (enum wl_stat). */
export const STAT = { RB_LOST: 0, FILTERED: 1, TABLE_FULL: 2, EMITTED: 3, NOT_HTTP: 4, HTTP_CONNS: 5 } as const;

export const WL_MAX_FILTER = 8;
export const WL_COMM_LEN = 16;
