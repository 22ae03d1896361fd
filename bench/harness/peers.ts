/**
 * Every peer the bench compares, described once: a client, the server it talks to, and the label
 * a table row shows. The configs are what `workers/clients.mjs` (`openClient(kind, url, hooks)`)
 * and `workers/server.mjs` take; a scenario adds only what is its own (`echo: false`, a room, a
 * heartbeat interval).
 *
 * Adding a library is one entry here: echo throughput takes every peer, and the reopen after a
 * crash takes every one that reconnects. The scenarios that compare particular rows (latency,
 * fan-out, idle, detection, storm) name the ids they use.
 */

export type Mode = 'plain' | 'session';

export interface ClientConfig {
  /** 'ws' (raw), 'heartline', 'rws' (reconnecting-websocket), 'partysocket', 'socketio'. */
  readonly kind: 'ws' | 'heartline' | 'rws' | 'partysocket' | 'socketio';
  /** Heartline: plain mode (`session: false`) or session mode (`session: 'auto'`). */
  readonly mode?: Mode;
  /** Raw `ws`: the writes of one event-loop turn corked into one (the ceiling, issue 13). */
  readonly cork?: boolean;
  /** Extra options for the library's constructor. */
  readonly options?: object;
}

export interface ServerConfig {
  readonly kind: 'ws' | 'heartline' | 'socketio';
  readonly mode?: Mode;
  readonly cork?: boolean;
  /** Extra HeartlineServer options. */
  readonly options?: object;
  /** Extra socket.io `Server` options. */
  readonly sio?: object;
}

export interface Peer {
  readonly id: string;
  readonly label: string;
  readonly client: ClientConfig;
  readonly server: ServerConfig;
  /** Heartline session mode: the row checks that its links really ran in session mode. */
  readonly session?: boolean;
  /** One Heartline end against a raw `ws` end, to tell client cost from server cost. */
  readonly attribution?: boolean;
  /** The client reconnects by itself after the server goes away. */
  readonly reconnects?: boolean;
}

const WS: ServerConfig = { kind: 'ws' };
const PLAIN = { kind: 'heartline', mode: 'plain' } as const;
const SESSION = { kind: 'heartline', mode: 'session' } as const;

const CATALOG = [
  {
    id: 'ws',
    label: '`ws` client + `ws` server (baseline)',
    client: { kind: 'ws' },
    server: WS,
  },
  {
    id: 'ws-corked',
    label: '`ws` corked per event-loop turn, both ends (ceiling)',
    client: { kind: 'ws', cork: true },
    server: { kind: 'ws', cork: true },
  },
  {
    id: 'heartline-plain',
    label: 'Heartline plain: HeartlineSocket + HeartlineServer',
    client: PLAIN,
    server: PLAIN,
    reconnects: true,
  },
  {
    id: 'heartline-session',
    label: 'Heartline session: HeartlineSocket + HeartlineServer, `heartline.v1`',
    client: SESSION,
    server: SESSION,
    session: true,
    reconnects: true,
  },
  {
    id: 'heartline-client',
    label: 'HeartlineSocket (plain) + `ws` server',
    client: PLAIN,
    server: WS,
    attribution: true,
    reconnects: true,
  },
  {
    id: 'heartline-server',
    label: '`ws` client + HeartlineServer (plain)',
    client: { kind: 'ws' },
    server: PLAIN,
    attribution: true,
  },
  {
    id: 'rws',
    label: 'reconnecting-websocket + `ws` server',
    client: { kind: 'rws' },
    server: WS,
    reconnects: true,
  },
  {
    id: 'partysocket',
    label: 'partysocket + `ws` server',
    client: { kind: 'partysocket' },
    server: WS,
    reconnects: true,
  },
  {
    id: 'socketio',
    label: 'socket.io-client + socket.io (websocket transport, emit/echo)',
    client: { kind: 'socketio' },
    server: { kind: 'socketio' },
    reconnects: true,
  },
] as const satisfies readonly Peer[];

export type PeerId = (typeof CATALOG)[number]['id'];

/** In the order the tables show them. */
export const PEERS: readonly (Peer & { readonly id: PeerId })[] = CATALOG;

/** The row every ratio is taken against. */
export const BASELINE: PeerId = 'ws';
/** Raw `ws` with each side's writes of one turn coalesced: what coalescing can reach. */
export const CEILING: PeerId = 'ws-corked';

export function peer(id: PeerId): Peer {
  return PEERS.find((p) => p.id === id)!;
}

export function peers(...ids: PeerId[]): Peer[] {
  return ids.map(peer);
}

export function rowLabel(p: Peer): string {
  return p.attribution ? `${p.label} *(attribution)*` : p.label;
}
