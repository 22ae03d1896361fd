import type { IncomingMessage } from 'node:http';
import { describe, expectTypeOf, it } from 'vitest';
import {
  HeartlineServer,
  type RoomTarget,
  type ServerClient,
  type ServerStatsSnapshot,
} from '../../src/server/index.js';

describe('HeartlineServer types', () => {
  it('types its events and the client', () => {
    const server = new HeartlineServer({ noServer: true });
    server.on('connection', (client, request) => {
      expectTypeOf(client).toEqualTypeOf<ServerClient>();
      expectTypeOf(request).toEqualTypeOf<IncomingMessage>();
      expectTypeOf(client.id).toEqualTypeOf<string>();
      expectTypeOf(client.rtt).toEqualTypeOf<number | undefined>();
      expectTypeOf(client.send)
        .parameter(0)
        .toEqualTypeOf<string | Buffer | ArrayBuffer | ArrayBufferView>();
      client.on('message', (data, isBinary) => {
        expectTypeOf(data).toEqualTypeOf<string | Buffer>();
        expectTypeOf(isBinary).toEqualTypeOf<boolean>();
      });
      client.on('close', (code, reason) => {
        expectTypeOf(code).toEqualTypeOf<number>();
        expectTypeOf(reason).toEqualTypeOf<string>();
      });
    });
    server.on('error', (error, client) => {
      expectTypeOf(error).toEqualTypeOf<Error>();
      expectTypeOf(client).toEqualTypeOf<ServerClient | undefined>();
    });
    expectTypeOf(server.to('room')).toEqualTypeOf<RoomTarget>();
    expectTypeOf(server.stats()).toEqualTypeOf<ServerStatsSnapshot>();
    expectTypeOf(server.close()).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error: not a server event
    server.on('message', () => {});
    // @ts-expect-error: close codes are numbers
    server.close({ code: '1012' });
  });

  it('types the identity, requests and their answers', () => {
    const server = new HeartlineServer<{ userId: string }>({
      noServer: true,
      authenticate: async (request) => {
        expectTypeOf(request).toEqualTypeOf<IncomingMessage>();
        return request.url ? { userId: 'u1' } : { status: 403, reason: 'no' };
      },
      requests: { timeout: 1_000 },
    });
    server.on('connection', (client) => {
      expectTypeOf(client.identity).toEqualTypeOf<{ userId: string }>();
      expectTypeOf(client.request('x')).toEqualTypeOf<Promise<string | Buffer>>();
      client.on('request', (data, respond) => {
        expectTypeOf(data).toEqualTypeOf<string | Buffer>();
        respond('ok');
        respond.fail('no', 'not_found');
      });
      client.on('request', async () => 'an async answer');
    });
    expectTypeOf(server.stats().requests).toEqualTypeOf<{
      readonly pending: number;
      readonly late: number;
    }>();
    expectTypeOf(new HeartlineServer({ noServer: true })).toEqualTypeOf<HeartlineServer<unknown>>();
    // @ts-expect-error an identity of the wrong shape
    new HeartlineServer<{ userId: string }>({ noServer: true, authenticate: () => ({ id: 1 }) });
  });

  it('types backpressure on a client and on a room', () => {
    const server = new HeartlineServer({ noServer: true });
    server.on('connection', (client) => {
      expectTypeOf(client.congested).toEqualTypeOf<boolean>();
      expectTypeOf(client.flushed()).toEqualTypeOf<Promise<void>>();
      expectTypeOf(client.send('x')).toEqualTypeOf<boolean>();
      client.on('drain', (...args) => expectTypeOf(args).toEqualTypeOf<[]>());
      // @ts-expect-error congested is read-only: the send buffer decides it
      client.congested = false;
    });
    expectTypeOf(server.to('feed').congested).toEqualTypeOf<number>();
    expectTypeOf(server.to('feed').send('x')).toEqualTypeOf<boolean>();
    // @ts-expect-error a room's congested counts members; it is no boolean
    expectTypeOf(server.to('feed').congested).toEqualTypeOf<boolean>();
  });
});
