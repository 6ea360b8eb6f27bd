/** A duration for human output: "12.345ms" under a second, "1.234s" above; "-" when unknown. */
export function formatDuration(ns: number | null): string {
  if (ns === null) return '-';
  const ms = ns / 1e6;
  return ms < 1000 ? `${ms.toFixed(3)}ms` : `${(ms / 1000).toFixed(3)}s`;
}

/** A duration in at most six characters, three digits: "65us", "1.34ms", "11.8ms", "118ms", "1.23s", "2.1h"; "-" when unknown. */
export function formatShortDuration(ns: number | null): string {
  if (ns === null) return '-';
  const n = ns;
  const three = (v: number, unit: string): string =>
    `${v < 9.995 ? v.toFixed(2) : v < 99.95 ? v.toFixed(1) : v.toFixed(0)}${unit}`;
  if (n < 999.5) return `${Math.round(n)}ns`;
  if (n < 999_500) return `${Math.round(n / 1000)}us`;
  if (n < 999_500_000) return three(n / 1e6, 'ms');
  if (n < 599.5e9) return three(n / 1e9, 's');
  if (n < 35_970e9) return three(n / 60e9, 'm');
  return three(n / 3600e9, 'h');
}
