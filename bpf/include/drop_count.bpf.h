/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packets the kernel dropped, counted per drop reason (enum skb_drop_reason)
 * in a per-CPU map: wirelens tcp's drop events and wirelens top's drop rate
 * share it. Counted before any filter, so the totals are the kernel's.
 */
#ifndef WL_DROP_COUNT_BPF_H
#define WL_DROP_COUNT_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} wl_drop_reasons SEC(".maps");

static __always_inline void wl_count_drop(__u32 reason)
{
	__u64 one = 1, *count = bpf_map_lookup_elem(&wl_drop_reasons, &reason);

	if (count)
		*count += 1;
	else
		bpf_map_update_elem(&wl_drop_reasons, &reason, &one, BPF_NOEXIST);
}

/* skb:kfree_skb before 5.17 has no reason: SKB_DROP_REASON_NOT_SPECIFIED. */
#define WL_DROP_NOT_SPECIFIED 2

#endif /* WL_DROP_COUNT_BPF_H */
