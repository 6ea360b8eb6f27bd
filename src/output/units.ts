/** Short human numbers for tables: rates in bit/s, sizes in bytes, counts. */
const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

function scaled(n: number, base: number): [string, string] {
  let i = 0;
  while (Math.abs(n) >= base * 0.9995 && i < PREFIXES.length - 1) {
    n /= base;
    i++;
  }
  const text = i === 0 ? String(Math.round(n)) : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  return [text, PREFIXES[i]!];
}

/** 1.23 Mbit/s (SI, as network rates are). */
export function formatBitRate(bitsPerS: number): string {
  const [t, p] = scaled(bitsPerS, 1000);
  return `${t} ${p}bit/s`;
}

/** 4.50 MiB (binary, as memory and files are). */
export function formatBytes(bytes: number): string {
  const [t, p] = scaled(bytes, 1024);
  return p === '' ? `${t} B` : `${t} ${p === 'k' ? 'K' : p}iB`;
}

/** 12.3k. */
export function formatCount(n: number): string {
  const [t, p] = scaled(n, 1000);
  return `${t}${p}`;
}

/** At most four characters: 123, 5.0k, 12k, 1.2M (SI). */
export function shortCount(n: number): string {
  if (n < 999.5) return String(Math.round(n));
  let i = 0;
  while (n >= 999.5 && i < PREFIXES.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n < 9.95 ? n.toFixed(1) : n.toFixed(0)}${PREFIXES[i]}`;
}
