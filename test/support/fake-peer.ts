import type { IncomingMessage } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeControl, type HelloFrame, SESSION_PROTOCOL } from '../../src/protocol/frames.js';
import { startServer, type TestServer } from './servers.js';
import { type Listenable, waitFor, waitForEvent } from './wait.js';

/**
 * A protocol-level fake Heartline server for exact session scripts: it selects
 * `heartline.v1`, records every frame each link receives, and sends only what the test says.
 * Nothing is answered automatically.
 */
export interface FakePeer {
  readonly server: TestServer;
  readonly url: string;
  /** Every link so far, oldest first, with the frames it received (text as strings). */
  readonly links: { socket: WebSocket; request: IncomingMessage; frames: (string | Buffer)[] }[];
  /** Resolves with the `n`-th link (0-based) once it has received `count` frames. */
  frames(n: number, count: number): Promise<(string | Buffer)[]>;
  /** A hello for `sid`, with defaults for everything else. */
  hello(fields?: Partial<HelloFrame>): string;
  /**
   * Answers the first link's `connect` with `hello(fields)` and resolves once `ws` is open: the
   * start of most session scripts.
   */
  open(ws: Listenable, fields?: Partial<HelloFrame>): Promise<void>;
}

export async function startFakePeer(): Promise<FakePeer> {
  const links: FakePeer['links'] = [];
  const server = await startServer({
    echo: false,
    pong: false,
    handleProtocols: (offered) => (offered.has(SESSION_PROTOCOL) ? SESSION_PROTOCOL : false),
    onConnection: (socket, request) => {
      const link = { socket, request, frames: [] as (string | Buffer)[] };
      links.push(link);
      socket.on('message', (data, isBinary) =>
        link.frames.push(isBinary ? (data as Buffer) : String(data)),
      );
    },
  });
  const peer: FakePeer = {
    server,
    url: server.url,
    links,
    async frames(n, count) {
      await waitFor(() => (links[n]?.frames.length ?? 0) >= count, {
        message: `link ${n} to receive ${count} frames`,
      });
      return links[n]!.frames;
    },
    async open(ws, fields) {
      await peer.frames(0, 1);
      links[0]!.socket.send(peer.hello(fields));
      await waitForEvent(ws, 'open');
    },
    hello: (fields = {}) =>
      encodeControl({
        t: 'hello',
        v: 1,
        sid: 'S1',
        token: 'K1',
        epoch: 'E1',
        offset: 0,
        resumed: false,
        ack: 0,
        protocol: '',
        heartbeat: { interval: 25_000, timeout: 10_000 },
        window: 120_000,
        ...fields,
      }),
  };
  return peer;
}

export { WebSocketServer };
