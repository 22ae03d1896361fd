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
});
