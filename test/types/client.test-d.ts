import { describe, expectTypeOf, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import {
  CloseCode,
  type CloseEvent,
  type DropEvent,
  describeClose,
  HeartlineSocket,
  type HeartlineSocketEventMap,
  type HeartlineSocketOptions,
  type LossCause,
  type ReconnectInfo,
  type ReconnectingEvent,
  type RequestEvent,
  RequestFailedError,
  RequestTimeoutError,
  type SendResult,
  type State,
} from '../../src/client/index.js';

describe('HeartlineSocket types', () => {
  it('accepts ws as the WebSocket option and the shorthands', () => {
    expectTypeOf<HeartlineSocketOptions>().toMatchTypeOf<{ heartbeat?: unknown }>();
    new HeartlineSocket('ws://x', [], {
      WebSocket: WsWebSocket,
      heartbeat: 5000,
      reconnect: false,
      outbox: false,
    });
    new HeartlineSocket(() => 'ws://x');
    new HeartlineSocket(async () => new URL('ws://x'), 'chat');
  });

  it('types listeners by event name', () => {
    const ws = new HeartlineSocket('ws://x');
    ws.addEventListener('drop', (e) => {
      expectTypeOf(e).toEqualTypeOf<DropEvent>();
      expectTypeOf(e.willReconnect).toBeBoolean();
      expectTypeOf(e.cause).toEqualTypeOf<LossCause>();
    });
    ws.addEventListener('reconnecting', (e) => expectTypeOf(e).toEqualTypeOf<ReconnectingEvent>());
    ws.addEventListener('close', (e) => expectTypeOf(e.code).toBeNumber());
    ws.addEventListener('custom-event', (e) => expectTypeOf(e).toEqualTypeOf<Event>());
    ws.onclose = (e) => expectTypeOf(e).toEqualTypeOf<CloseEvent>();
    ws.onmessage = (e) => expectTypeOf(e.data).toBeAny();
  });

  it('compiles code written for WebSocket unchanged: e.data is any, as in the DOM', () => {
    const ws = new HeartlineSocket('ws://x');
    const render = (items: string[]) => items.length;
    ws.onmessage = (e) => render(JSON.parse(e.data).items);
    ws.addEventListener('message', (e) => e.data.toUpperCase());
    ws.onclose = (e) => e.code === 1000 && e.wasClean;
    expectTypeOf(ws.mode).toEqualTypeOf<'plain' | 'session' | undefined>();
  });

  it('asks shouldReconnect with the loss and the failures in a row', () => {
    new HeartlineSocket('ws://x', [], {
      reconnect: {
        shouldReconnect: (info) => {
          expectTypeOf(info).toEqualTypeOf<ReconnectInfo>();
          expectTypeOf(info.cause).toEqualTypeOf<LossCause>();
          expectTypeOf(info.failures).toBeNumber();
          // @ts-expect-error renamed to failures in 0.1.0
          void info.attempt;
          return true;
        },
      },
    });
  });

  it('exposes state as a union and readyState as the WebSocket numbers', () => {
    const ws = new HeartlineSocket('ws://x');
    expectTypeOf(ws.state).toEqualTypeOf<State>();
    expectTypeOf(ws.readyState).toEqualTypeOf<0 | 1 | 2 | 3>();
    expectTypeOf(ws.OPEN).toEqualTypeOf<1>();
    expectTypeOf(ws.rtt).toEqualTypeOf<number | undefined>();
  });

  it('keeps close codes as literal numbers', () => {
    expectTypeOf(CloseCode.PolicyViolation).toEqualTypeOf<1008>();
    expectTypeOf(describeClose(1000).retry).toBeBoolean();
  });

  it('rejects options of the wrong shape', () => {
    // @ts-expect-error interval must be a number
    new HeartlineSocket('ws://x', [], { heartbeat: { interval: '10s' } });
    // @ts-expect-error unknown overflow policy
    new HeartlineSocket('ws://x', [], { outbox: { overflow: 'drop-newest' } });
  });

  it('types requests both ways', () => {
    const ws = new HeartlineSocket('ws://x', [], { requests: { timeout: 5_000 } });
    // biome-ignore lint/suspicious/noExplicitAny: a reply is a message's data
    expectTypeOf(ws.request('x')).toEqualTypeOf<Promise<any>>();
    ws.request(new Uint8Array(2), { timeout: 100, signal: new AbortController().signal });
    expectTypeOf(ws.requests).toEqualTypeOf<{ readonly pending: number; readonly late: number }>();
    ws.addEventListener('request', (e) => {
      expectTypeOf(e).toEqualTypeOf<RequestEvent>();
      expectTypeOf(e.data).toBeAny();
      e.respondWith('reply');
      e.respondWith(Promise.resolve(new ArrayBuffer(1)));
    });
    expectTypeOf(new RequestFailedError('no', 'not_found').reason).toEqualTypeOf<
      string | undefined
    >();
    expectTypeOf(new RequestTimeoutError(5).timeout).toBeNumber();
    // @ts-expect-error a timeout is a number
    ws.request('x', { timeout: '5s' });
    // @ts-expect-error requests has no such bound
    new HeartlineSocket('ws://x', [], { requests: { retries: 3 } });
  });

  it('says what send() did with a message, and types the drain event', () => {
    const ws = new HeartlineSocket('ws://x');
    expectTypeOf<SendResult>().toEqualTypeOf<'sent' | 'queued' | 'dropped'>();
    expectTypeOf(ws.send('x')).toEqualTypeOf<SendResult>();
    expectTypeOf(ws.send(new Uint8Array(1), { volatile: true })).toEqualTypeOf<SendResult>();
    const result = ws.send('x');
    // @ts-expect-error send() reports with one of three words, not a boolean
    void (result === true);
    // A named event of the map, not the fallback every unknown name gets.
    expectTypeOf<'drain'>().toMatchTypeOf<keyof HeartlineSocketEventMap>();
    expectTypeOf<HeartlineSocketEventMap['drain']>().toEqualTypeOf<Event>();
    ws.addEventListener('drain', (e) => expectTypeOf(e).toEqualTypeOf<Event>());
  });
});
