import type { WebSocket } from 'ws';
import { type ConnectFrame, FrameError, parseFrame } from '../../protocol/frames.js';

/** A frame as `ws` hands it over: the bytes, and whether it came as a binary message. */
export type RawFrame = readonly [data: Buffer, isBinary: boolean];

/** The client's `connect` frame, and whatever it sent right after it. */
export interface Connect {
  readonly frame: ConnectFrame;
  /**
   * Stops holding frames and returns those that arrived after `connect` while the session was
   * being looked up (in order): the caller handles them first, so nothing a client sent after
   * its `connect` is lost, even in the same TCP segment.
   */
  take(): RawFrame[];
}

/** Why a handshake did not produce a `connect` frame. */
export type HandshakeFailure =
  /** The first frame was not a valid `connect`, or none came in time (close with `code`). */
  | FrameError
  /** `ws` failed to read the client's frames (too big, bad UTF-8…); it closed the socket. */
  | { readonly readError: Error & { code?: string } }
  /** The socket closed first. */
  | null;

/** Bounds on what a client may send between `connect` and its session being ready. */
export interface HandshakeLimits {
  /** ms to wait for the `connect` frame. */
  readonly timeout: number;
  /** Frames held after `connect`; more close the link with 1008. */
  readonly maxFrames: number;
  /** Bytes held after `connect`; more close the link with 1008. */
  readonly maxBytes: number;
  /** The client sent more than the limits allow before its session was ready (once). */
  overflow(what: string): void;
  /**
   * `ws` failed to read what the client sent after `connect`, before its session was ready
   * (too big, bad UTF-8…), and closed the socket with the matching code (once).
   */
  readError(error: Error & { code?: string }): void;
}

const noop = () => {};

/**
 * Waits for the first frame of a `heartline.v1` link, which must be `connect` (PROTOCOL.md),
 * and from then on holds every later frame until `take()`. Resolves with the frame, or with
 * why there is none; leaves no timer behind, and no listener once settled and taken.
 */
export function awaitConnect(
  ws: WebSocket,
  limits: HandshakeLimits,
): Promise<Connect | HandshakeFailure> {
  return new Promise((resolve) => {
    let held: RawFrame[] | undefined;
    let heldBytes = 0;
    const stop = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      ws.off('error', onError);
    };
    const fail = (failure: HandshakeFailure) => {
      stop();
      // The link is closing, and ws may still read (and fail on) what the client sends after
      // the frame that failed: an 'error' without a listener would throw out of the process.
      ws.on('error', noop);
      resolve(failure);
    };
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (held) {
        if (ws.readyState !== ws.OPEN) return;
        heldBytes += data.length;
        if (held.length < limits.maxFrames && heldBytes <= limits.maxBytes) {
          held.push([data, isBinary]);
          return;
        }
        held.length = 0; // nothing of it will be handled
        ws.close(1008, 'Too many frames before hello');
        limits.overflow(
          `sent more than ${limits.maxFrames} frames or ${limits.maxBytes} bytes before its session was ready`,
        );
        return;
      }
      let frame: ReturnType<typeof parseFrame>;
      try {
        frame = parseFrame(isBinary ? data : data.toString('utf8'));
      } catch (error) {
        fail(error as FrameError);
        return;
      }
      if (frame.t !== 'connect') {
        fail(new FrameError(`expected a connect frame first, got ${frame.t}`));
        return;
      }
      clearTimeout(timer);
      held = [];
      resolve({
        frame,
        take: () => {
          stop();
          ws.on('error', noop); // until the connection attaches its own listener
          const frames = held ?? [];
          held = undefined;
          return frames;
        },
      });
    };
    const onClose = () => (held ? undefined : fail(null));
    let readFailed = false;
    const onError = (error: Error & { code?: string }) => {
      // ws closes the socket itself after a read error; report it as what the client did.
      if (typeof error.code !== 'string' || !error.code.startsWith('WS_ERR_')) return;
      if (!held) fail({ readError: error });
      else if (!readFailed) {
        // After connect the promise has settled: the caller learns it here, or never would.
        readFailed = true;
        held.length = 0;
        limits.readError(error);
      }
    };
    const timer = setTimeout(
      () => fail(new FrameError(`no connect frame within ${limits.timeout} ms`)),
      limits.timeout,
    );
    timer.unref();
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
  });
}
