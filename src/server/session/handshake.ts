import type { WebSocket } from 'ws';
import {
  type ConnectFrame,
  encodeControl,
  FrameError,
  type HelloFrame,
  PROTOCOL_VERSION,
  parseFrame,
} from '../../protocol/frames.js';

const noop = () => {};

/**
 * Waits for the first frame of a `heartline.v1` link, which must be `connect` (PROTOCOL.md).
 * Resolves with the frame; with a `FrameError` for anything else or nothing within
 * `timeout` ms; with `null` when the socket closed first. Leaves no listener or timer behind.
 */
export function awaitConnect(
  ws: WebSocket,
  timeout: number,
): Promise<ConnectFrame | FrameError | null> {
  return new Promise((resolve) => {
    const done = (result: ConnectFrame | FrameError | null) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', noop);
      resolve(result);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      try {
        const frame = parseFrame(isBinary ? data : data.toString('utf8'));
        done(
          frame.t === 'connect'
            ? frame
            : new FrameError(`expected a connect frame first, got ${frame.t}`),
        );
      } catch (error) {
        done(error as FrameError);
      }
    };
    const onClose = () => done(null);
    const timer = setTimeout(
      () => done(new FrameError(`no connect frame within ${timeout} ms`)),
      timeout,
    );
    timer.unref();
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', noop); // errors end in 'close'; ws throws on an 'error' nobody listens to
  });
}

/** Sends the hello (PROTOCOL.md "hello"). */
export function sendHello(ws: WebSocket, fields: Omit<HelloFrame, 't' | 'v'>): void {
  ws.send(encodeControl({ t: 'hello', v: PROTOCOL_VERSION, ...fields }));
}
