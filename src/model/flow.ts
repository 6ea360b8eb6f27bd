/**
 * A connection's identity as every source gives it: its two ends, named by
 * role (the client connected, the server accepted), and how those roles were
 * known. One FlowKey object per connection, shared by all its segments.
 */

export type Family = 'ipv4' | 'ipv6';
export type Transport = 'tcp' | 'udp';

/**
 * Who saw the bytes: a local socket (kernel records: the bytes that socket
 * sent or received, with its process) or the wire (packets of a capture:
 * what passed a point of the network, whoever owns it).
 */
export type Observer = 'socket' | 'wire';

/** Which way bytes go, relative to the connection's initiator. */
export type StreamDir = 'c2s' | 's2c';

/**
 * How the client end was told:
 *  - 'handshake': a SYN (its sender connected) or a SYN-ACK (its receiver did);
 *  - 'socket': the kernel knew which end called connect() and which accept();
 *  - 'ports': guessed, no handshake seen (a capture that starts mid-connection,
 *    UDP): the end on the well-known or lower port is taken for the server.
 */
export type RolesFrom = 'handshake' | 'socket' | 'ports';

export interface FlowKey {
  family: Family;
  protocol: Transport;
  /** Addresses as text (src/text/address: dotted IPv4, RFC 5952 IPv6). */
  clientAddr: string;
  clientPort: number;
  serverAddr: string;
  serverPort: number;
  /** Network namespace inode, where the source knows it: the same ends in two namespaces are two flows. */
  netns?: number;
}

/** Ports from here up are taken for clients' (Linux's default ephemeral range starts here). */
const EPHEMERAL_LOW = 32768;

/**
 * Whether, of a connection between ports a and b seen without its
 * handshake, a is the server's: a well-known port (below 1024) over one that
 * is not; a port below the ephemeral range over one in it; else the lower.
 */
export function looksLikeServerPort(a: number, b: number): boolean {
  if (a === b) return false;
  if (a < 1024 !== b < 1024) return a < 1024;
  if (a < EPHEMERAL_LOW !== b < EPHEMERAL_LOW) return a < EPHEMERAL_LOW;
  return a < b;
}
