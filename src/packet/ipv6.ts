/** IPv6 (RFC 8200) with its extension header chain; a Fragment header hands the packet to reassembly. */
import type { Packet } from './packet.ts';

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const ESP = 50;
const AH = 51;
const NO_NEXT = 59;
const DEST_OPTS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;
/** A longer chain than this is an evasion attempt or garbage, not a real packet. */
const MAX_EXT_HEADERS = 16;

export type Ipv6Result = 'ok' | 'fragment' | 'malformed';

/** Offset of the fragment header's fields when decodeIpv6 returned 'fragment'. */
export interface Ipv6FragmentInfo {
  offset: number; // fragment offset in bytes
  more: boolean;
  id: number;
  nextHeader: number;
  /** Offset in buf where the unfragmentable part ends (the fragment header's start). */
  headerEnd: number;
}

export const lastFragment: Ipv6FragmentInfo = { offset: 0, more: false, id: 0, nextHeader: 0, headerEnd: 0 };

export function decodeIpv6(pkt: Packet, buf: Buffer, off: number, frameEnd: number): Ipv6Result {
  if (frameEnd - off < 40) return 'malformed';
  if ((buf[off] as number) >> 4 !== 6) return 'malformed';
  const payloadLen = buf.readUInt16BE(off + 4);
  pkt.ipVersion = 6;
  pkt.netOffset = off;
  pkt.ttl = buf[off + 7] as number;
  pkt.src6 = off + 8;
  pkt.dst6 = off + 24;
  pkt.ipId = 0;
  let end = off + 40 + payloadLen;
  // payload length 0 with a hop-by-hop header means a jumbogram; the capture bounds it anyway.
  if (payloadLen === 0 || end > frameEnd) {
    if (payloadLen !== 0) pkt.truncated = true;
    end = frameEnd;
  }
  let next = buf[off + 6] as number;
  let p = off + 40;
  for (let n = 0; n < MAX_EXT_HEADERS; n++) {
    switch (next) {
      case HOP_BY_HOP:
      case ROUTING:
      case DEST_OPTS:
      case MOBILITY:
      case HIP:
      case SHIM6: {
        if (end - p < 8) return 'malformed';
        const len = ((buf[p + 1] as number) + 1) * 8;
        if (end - p < len) return 'malformed';
        next = buf[p] as number;
        p += len;
        continue;
      }
      case AH: {
        if (end - p < 8) return 'malformed';
        const len = ((buf[p + 1] as number) + 2) * 4;
        if (end - p < len) return 'malformed';
        next = buf[p] as number;
        p += len;
        continue;
      }
      case FRAGMENT: {
        if (end - p < 8) return 'malformed';
        const fo = buf.readUInt16BE(p + 2);
        lastFragment.nextHeader = buf[p] as number;
        lastFragment.offset = fo & 0xfff8;
        lastFragment.more = (fo & 1) === 1;
        lastFragment.id = buf.readUInt32BE(p + 4);
        lastFragment.headerEnd = p;
        pkt.proto = lastFragment.nextHeader;
        pkt.ipId = lastFragment.id;
        pkt.ipHeaderLen = p + 8 - off;
        pkt.payloadOffset = p + 8;
        pkt.payloadLength = end - (p + 8);
        // An atomic fragment (offset 0, no more) is a whole packet (RFC 6946).
        if (lastFragment.offset === 0 && !lastFragment.more) {
          next = lastFragment.nextHeader;
          p += 8;
          continue;
        }
        return 'fragment';
      }
      case ESP:
      case NO_NEXT:
      default:
        break;
    }
    break;
  }
  pkt.proto = next === NO_NEXT ? -1 : next;
  pkt.ipHeaderLen = p - off;
  pkt.payloadOffset = p;
  pkt.payloadLength = end - p;
  return 'ok';
}
