/**
 * Interface counters the kernel keeps anyway (/sys/class/net/<dev>/statistics):
 * bytes, packets and drops per device of this network namespace. Used by
 * `wirelens top` for interfaces it has no TC hook on, and for device drops.
 */
import * as fs from 'node:fs';

export interface NetdevStats {
  rxBytes: number;
  rxPkts: number;
  txBytes: number;
  txPkts: number;
  rxDropped: number;
  txDropped: number;
}

const FILES: [keyof NetdevStats, string][] = [
  ['rxBytes', 'rx_bytes'],
  ['rxPkts', 'rx_packets'],
  ['txBytes', 'tx_bytes'],
  ['txPkts', 'tx_packets'],
  ['rxDropped', 'rx_dropped'],
  ['txDropped', 'tx_dropped'],
];

export function readNetdevStats(): Map<string, NetdevStats> {
  const out = new Map<string, NetdevStats>();
  let devs: string[] = [];
  try {
    devs = fs.readdirSync('/sys/class/net');
  } catch {
    return out;
  }
  for (const dev of devs) {
    const s: NetdevStats = { rxBytes: 0, rxPkts: 0, txBytes: 0, txPkts: 0, rxDropped: 0, txDropped: 0 };
    try {
      for (const [k, f] of FILES)
        s[k] = Number(fs.readFileSync(`/sys/class/net/${dev}/statistics/${f}`, 'utf8').trim()) || 0;
    } catch {
      continue; // went away meanwhile
    }
    out.set(dev, s);
  }
  return out;
}
