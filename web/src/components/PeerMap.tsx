/**
 * A device's communication map: the device in the middle, its peers around it (the busiest
 * nearest the top, external addresses marked), each edge as thick as the traffic on it. Peers
 * that are devices in the inventory link to their page. Hand-written SVG: a radial layout is
 * all a single device's neighbourhood needs.
 */
import type { Peer } from '../api.ts';
import { fmtBytes, fmtInt } from '../format.ts';
import { devicePath, navigate } from '../router.tsx';

/** One node per peer address, its services and traffic summed. */
export interface PeerNode {
  peer: string;
  name: string;
  deviceId: string | null;
  external: boolean;
  services: string[];
  bytes: number;
  packets: number;
  flows: number;
}

export function peerNodes(peers: readonly Peer[]): PeerNode[] {
  const byPeer = new Map<string, PeerNode>();
  for (const p of peers) {
    let n = byPeer.get(p.peer);
    if (n === undefined) {
      n = { peer: p.peer, name: p.peerName ?? p.peer, deviceId: p.peerDeviceId, external: p.external, services: [], bytes: 0, packets: 0, flows: 0 };
      byPeer.set(p.peer, n);
    }
    if (!n.services.includes(p.service)) n.services.push(p.service);
    n.bytes += p.bytes;
    n.packets += p.packets;
    n.flows += p.flows;
  }
  return [...byPeer.values()].sort((a, b) => b.bytes - a.bytes || a.peer.localeCompare(b.peer));
}

const MAX_NODES = 24;

export function PeerMap({ self, peers }: { self: string; peers: readonly Peer[] }) {
  const nodes = peerNodes(peers);
  const shown = nodes.slice(0, MAX_NODES);
  const W = 640;
  const H = 420;
  const cx = W / 2;
  const cy = H / 2;
  const R = Math.min(W, H) / 2 - 60;
  const maxBytes = Math.max(1, ...shown.map((n) => n.bytes));
  const width = (b: number) => 1 + 5 * (Math.log1p(b) / Math.log1p(maxBytes));
  const at = (i: number) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, shown.length);
    return { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a), a };
  };
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart peer-map" viewBox={`0 0 ${W} ${H}`} role="group" aria-label={`Communication map: ${self} and ${nodes.length} peers${nodes.length > shown.length ? ` (the ${shown.length} busiest drawn)` : ''}`}>
        {shown.map((n, i) => {
          const p = at(i);
          return <line key={`e-${n.peer}`} className={`edge${n.external ? ' external' : ''}`} x1={cx} y1={cy} x2={p.x} y2={p.y} strokeWidth={width(n.bytes)} />;
        })}
        <circle className="node self" cx={cx} cy={cy} r={16} />
        <text x={cx} y={cy + 30} textAnchor="middle" style={{ fontWeight: 700 }}>
          {self}
        </text>
        {shown.map((n, i) => {
          const p = at(i);
          const right = Math.cos(p.a) >= 0;
          const label = `${n.name}${n.external ? ' (external)' : ''}: ${n.services.join(', ')}, ${fmtBytes(n.bytes)}, ${fmtInt(n.flows)} flows`;
          const body = (
            <>
              <circle className={`node${n.external ? ' external' : ''}`} cx={p.x} cy={p.y} r={9}>
                <title>{label}</title>
              </circle>
              <text x={p.x + (right ? 13 : -13)} y={p.y + 4} textAnchor={right ? 'start' : 'end'}>
                {n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name}
              </text>
            </>
          );
          return n.deviceId !== null ? (
            <a
              key={n.peer}
              href={devicePath(n.deviceId)}
              aria-label={label}
              onClick={(e) => {
                e.preventDefault();
                navigate(devicePath(n.deviceId as string));
              }}
            >
              {body}
            </a>
          ) : (
            <g key={n.peer} role="img" aria-label={label}>
              {body}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        <span>
          <span className="swatch" style={{ background: 'var(--accent)' }} aria-hidden="true" />
          internal peer
        </span>
        <span>
          <span className="swatch" style={{ background: 'var(--external)' }} aria-hidden="true" />
          external (Internet)
        </span>
        <span className="muted">edge width: bytes exchanged</span>
      </figcaption>
    </figure>
  );
}
