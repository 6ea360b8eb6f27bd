/**
 * `wirelens tls` handshakes as human lines (fitted to the output width, see
 * columns.ts) and as JSON lines. SNI and ALPN names are text already (the
 * parser's one wireText step): printed as they are.
 *
 * Widths: under 170 columns TIME, SIDE (cli/srv), COMM, REMOTE, SNI,
 * VERSION and the cipher without its TLS_ prefix (or the status); from 120 on, time to the
 * microsecond, PID and whole task names. From 170 on, the wide table adds
 * the ALPN offered and chosen.
 */
import { TlsHandshake } from '../analysis/tls/handshakes';
import { formatEndpoint } from '../text/address';
import { Clock } from './clock';
import { commonJsonPrefix, leadingColumns } from './common-fields';
import { Column, TextTable } from './columns';

const MORE = 120;
const WIDE = 170;

function cipherColumn(h: TlsHandshake): string {
  if (h.status === 'ok') return h.server?.cipher ?? '';
  if (h.status === 'malformed') return `malformed: ${h.error ?? ''}`;
  return h.status.replace(/_/g, ' ');
}

const remote = (h: TlsHandshake): string => formatEndpoint(h.sock.daddr, h.sock.dport);
const sni = (h: TlsHandshake): string => h.client?.sni ?? '-';
const version = (h: TlsHandshake): string => h.server?.version ?? '-';

/** The human lines of `wirelens tls` for an output `width` columns wide. */
export function tlsTable(width: number): TextTable<TlsHandshake> {
  const narrow: Column<TlsHandshake>[] = [
    ...leadingColumns<TlsHandshake>('narrow', MORE),
    { title: 'REMOTE', width: 15, below: MORE, cut: 'middle', cell: remote },
    { title: 'REMOTE', width: 21, from: MORE, cut: 'middle', cell: remote },
    { title: 'SNI', width: 14, below: MORE, cut: 'middle', cell: sni },
    { title: 'SNI', width: 24, from: MORE, cut: 'middle', cell: sni },
    { title: 'VERSION', width: 7, cell: version },
    { title: 'CIPHER', width: 8, cell: (h) => cipherColumn(h).replace(/^TLS_/, '') },
  ];
  const wide: Column<TlsHandshake>[] = [
    ...leadingColumns<TlsHandshake>('wide', MORE),
    { title: 'REMOTE', width: 24, cut: 'middle', cell: remote },
    { title: 'SNI', width: 24, cut: 'middle', cell: sni },
    {
      title: 'OFFERED',
      width: 18,
      cell: (h) => (h.client && h.client.alpn.length > 0 ? h.client.alpn.join(',') : '-'),
    },
    { title: 'VERSION', width: 8, cell: version },
    { title: 'ALPN', width: 8, cell: (h) => h.server?.alpn ?? '-' },
    { title: 'CIPHER', width: 8, cell: cipherColumn },
  ];
  return new TextTable(width >= WIDE ? wide : narrow, width);
}

const str = (v: string | null | undefined): string => (v === null || v === undefined ? 'null' : JSON.stringify(v));

function offeredVersions(h: TlsHandshake): string[] {
  if (!h.client) return [];
  return h.client.versions.length > 0 ? h.client.versions : [h.client.legacyVersion];
}

/** One --json line (without the newline). */
export function tlsJson(h: TlsHandshake, clock: Clock): string {
  return (
    `${commonJsonPrefix(clock, h.tsNs, h.proc, h.sock)},"side":"${h.side}","status":"${h.status}",` +
    `"sni":${str(h.client?.sni)},"alpn_offered":${JSON.stringify(h.client?.alpn ?? [])},` +
    `"versions_offered":${JSON.stringify(offeredVersions(h))},"version":${str(h.server?.version)},` +
    `"cipher":${str(h.server?.cipher)},"alpn":${str(h.server?.alpn)},"hello_retry":${h.server?.helloRetry ?? false},` +
    `"hello_ms":${h.helloNs === null ? 'null' : h.helloNs / 1e6},"error":${str(h.error)}}`
  );
}
