/** A duration for human output: "12.345ms" under a second, "1.234s" above; "-" when unknown. */
export function formatDuration(ns: number | bigint | null): string {
  if (ns === null) return '-';
  const ms = Number(ns) / 1e6;
  return ms < 1000 ? `${ms.toFixed(3)}ms` : `${(ms / 1000).toFixed(3)}s`;
}
