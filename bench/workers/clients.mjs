// One client API over every library the bench compares, so that each scenario is written once.
//
//   const c = openClient('partysocket', url, { onOpen, onMessage, onDrop, onError });
//   c.send('text'); c.close();
//
// kinds: 'ws' (raw, no reconnection; `cork: true` coalesces the writes of one event-loop turn,
// see corkedSend in lib.mjs), 'heartline' (+ mode 'plain' | 'session' and options),
// 'rws' (reconnecting-websocket), 'partysocket', 'socketio' (socket.io-client, websocket
// transport, events 'm' both ways and 'b' for broadcasts, 'q' answered through its ack for
// requests). Heartline and socket.io clients also have `request(text)`, a promise of the answer. Every library runs with its defaults
// unless `options` says otherwise; rws and partysocket get ws's WebSocket class, as the
// research gave it.
import PartySocket from 'partysocket/ws';
import ReconnectingWebSocket from 'reconnecting-websocket';
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import { HeartlineSocket } from '../.build/client/index.js';
import { corkedSend, heartlineClientOptions } from './lib.mjs';

const noop = () => {};

/**
 * @param {string} kind
 * @param {string} url ws://127.0.0.1:port (http:// for socket.io is derived)
 * @param {{ mode?: 'plain' | 'session', cork?: boolean, options?: object, onOpen?: () => void,
 *   onMessage?: (text: string) => void, onDrop?: (why: string) => void,
 *   onError?: () => void }} hooks
 */
export function openClient(kind, url, hooks = {}) {
  const { onOpen = noop, onMessage = noop, onDrop = noop, onError = noop } = hooks;
  const options = hooks.options ?? {};
  switch (kind) {
    case 'ws': {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.on('open', onOpen);
      ws.on('message', (data, isBinary) => onMessage(isBinary ? data : data.toString()));
      ws.on('close', () => onDrop('close'));
      ws.on('error', onError);
      const send = hooks.cork ? corkedSend(ws) : (t) => ws.send(t);
      return { raw: ws, send, close: () => ws.terminate() };
    }
    case 'heartline': {
      const hl = new HeartlineSocket(
        url,
        [],
        heartlineClientOptions(hooks.mode ?? 'plain', options),
      );
      hl.addEventListener('open', onOpen);
      hl.addEventListener('message', (e) => onMessage(e.data));
      hl.addEventListener('drop', (e) => onDrop(e.cause));
      hl.addEventListener('error', onError);
      return {
        raw: hl,
        send: (t) => hl.send(t),
        request: (t) => hl.request(t),
        close: () => hl.close(),
      };
    }
    case 'rws':
    case 'partysocket': {
      const Impl = kind === 'rws' ? ReconnectingWebSocket : PartySocket;
      const socket = new Impl(url, [], { WebSocket, ...options });
      socket.addEventListener('open', onOpen);
      socket.addEventListener('message', (e) => onMessage(e.data));
      socket.addEventListener('close', () => onDrop('close'));
      socket.addEventListener('error', onError);
      return { raw: socket, send: (t) => socket.send(t), close: () => socket.close() };
    }
    case 'socketio': {
      const socket = io(url.replace(/^ws/, 'http'), {
        transports: ['websocket'],
        forceNew: true, // one connection per client, not one multiplexed Manager
        ...options,
      });
      socket.on('connect', onOpen);
      socket.on('m', onMessage);
      socket.on('b', onMessage);
      socket.on('d', onMessage);
      socket.on('disconnect', (reason) => onDrop(reason));
      socket.on('connect_error', onError);
      return {
        raw: socket,
        send: (t) => socket.emit('m', t),
        // socket.io's request/response: an acknowledgement callback, as a promise (4.6+)
        request: (t) => socket.emitWithAck('q', t),
        close: () => socket.disconnect(),
      };
    }
    default:
      throw new Error(`unknown client kind ${kind}`);
  }
}
