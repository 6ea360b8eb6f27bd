/**
 * Numbers as text for values wirelens has no name for. (Peer-chosen bytes,
 * SNI and ALPN, become text through text/sanitize's wireText, once.)
 */

/** 0xNNNN, four lower-case hex digits. */
export function hex16(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}
