/** Protocol version numbers as names, and the GREASE values (RFC 8701) that stand for none. */
import { hex16 } from './text';

const NAMES: Record<number, string> = {
  0x0002: 'SSL 2.0',
  0x0300: 'SSL 3.0',
  0x0301: 'TLS 1.0',
  0x0302: 'TLS 1.1',
  0x0303: 'TLS 1.2',
  0x0304: 'TLS 1.3',
};

/** "TLS 1.0" .. "TLS 1.3", "SSL 3.0"; anything else 0xNNNN. */
export function versionName(v: number): string {
  return NAMES[v] ?? hex16(v);
}

/** 0x0a0a, 0x1a1a, .. 0xfafa: values clients send so that servers learn to ignore unknown ones. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}
