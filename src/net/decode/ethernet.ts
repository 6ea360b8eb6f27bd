/** Ethernet II / 802.3 with 802.1Q, 802.1ad (and the old 0x9100) VLAN tags. */
import { macText } from '../../text/address';
import { u16 } from './bytes';
import type { Decoded, Vlan } from './types';

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const ETH_IPV6 = 0x86dd;
export const ETH_8021Q = 0x8100;
export const ETH_8021AD = 0x88a8;
export const ETH_QINQ_OLD = 0x9100;
const MAX_TAGS = 8;

export const isVlanTpid = (t: number): boolean => t === ETH_8021Q || t === ETH_8021AD || t === ETH_QINQ_OLD;

/** Fills d.link, d.netOffset and d.netType; false when the header is cut. */
export function decodeEthernet(b: Uint8Array, d: Decoded): boolean {
  if (b.length < 14) {
    d.link = { kind: 'ethernet', src: '', dst: '', type: 0, outerType: 0, vlans: [], headerLength: 0 };
    d.truncated = 'ethernet';
    return false;
  }
  const outer = u16(b, 12);
  const vlans: Vlan[] = [];
  let type = outer;
  let off = 14;
  // The link as read so far: the tags up to `off`, `type` the last type field.
  const setLink = (): void => {
    d.link = {
      kind: 'ethernet',
      src: macText(b, 6),
      dst: macText(b, 0),
      type,
      outerType: outer,
      vlans,
      headerLength: off,
    };
  };
  while (isVlanTpid(type) && vlans.length < MAX_TAGS) {
    if (off + 4 > b.length) {
      setLink();
      d.truncated = 'vlan';
      return false;
    }
    const tci = u16(b, off);
    vlans.push({ tpid: type, id: tci & 0xfff, pcp: tci >> 13, dei: (tci & 0x1000) !== 0 });
    type = u16(b, off + 2);
    off += 4;
  }
  setLink();
  d.netOffset = off;
  d.netType = type;
  return true;
}
