import { GuardedEventTarget } from '../common/guarded-event-target.js';
import { closeReasonFits, isAppCloseCode } from '../protocol/close-codes.js';
import type {
  AckEvent,
  CloseEvent,
  DropEvent,
  ErrorEvent,
  HeartbeatEvent,
  HeartlineSocketEventMap,
  MessageEvent,
  OverflowEvent,
  ReconnectingEvent,
  RequestEvent,
  ResumeEvent,
} from './events.js';

type Handler<E> = ((this: SocketTarget, event: E) => unknown) | null;

/** The event types that have an `on<type>` property. */
export const EVENT_TYPES = [
  'open',
  'message',
  'close',
  'error',
  'statechange',
  'drop',
  'reconnecting',
  'heartbeat',
  'overflow',
  'resume',
  'ack',
  'request',
  'drain',
] as const;

/**
 * Converts and checks `close(code, reason)` as WHATWG's `close()` does: the code as a WebIDL
 * `[Clamp] unsigned short` (`'1000'` and `1000.4` are 1000), the reason as a string, and
 * throws what a browser throws.
 *
 * @example
 * checkClose('4000.5', 'bye') // [4000, 'bye'] (halves round to even)
 */
export function checkClose(
  code: unknown,
  reason: unknown,
): [number | undefined, string | undefined] {
  let c: number | undefined;
  if (code !== undefined) {
    const x = Math.min(Math.max(Number(code) || 0, 0), 65535);
    c = Math.round(x);
    if (c - x === 0.5 && c % 2) c--;
    if (!isAppCloseCode(c)) {
      const message = `The close code must be 1000 or in 3000–4999, got ${String(code)}`;
      throw new DOMException(message, 'InvalidAccessError');
    }
  }
  const r = reason === undefined ? undefined : String(reason);
  if (r !== undefined && !closeReasonFits(r)) {
    throw new DOMException('The close reason must be at most 123 UTF-8 bytes', 'SyntaxError');
  }
  return [c, r];
}

/**
 * The WebSocket surface of `HeartlineSocket` that holds no state of its own: the readyState
 * constants on the class and on instances, the `on<event>` properties, and typed listeners.
 */
export abstract class SocketTarget extends GuardedEventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  declare onopen: Handler<Event>;
  declare onmessage: Handler<MessageEvent>;
  declare onclose: Handler<CloseEvent>;
  declare onerror: Handler<ErrorEvent>;
  declare onstatechange: Handler<HeartlineSocketEventMap['statechange']>;
  declare ondrop: Handler<DropEvent>;
  declare onreconnecting: Handler<ReconnectingEvent>;
  declare onheartbeat: Handler<HeartbeatEvent>;
  declare onoverflow: Handler<OverflowEvent>;
  declare onresume: Handler<ResumeEvent>;
  declare onack: Handler<AckEvent>;
  declare onrequest: Handler<RequestEvent>;
  declare ondrain: Handler<Event>;

  static {
    for (const [name, value] of [
      ['CONNECTING', 0],
      ['OPEN', 1],
      ['CLOSING', 2],
      ['CLOSED', 3],
    ] as const) {
      Object.defineProperty(SocketTarget.prototype, name, { value, enumerable: true });
    }
    // The class string of a WebSocket: `String(ws)` is '[object WebSocket]'.
    Object.defineProperty(SocketTarget.prototype, Symbol.toStringTag, {
      value: 'WebSocket',
      configurable: true,
    });
    for (const type of EVENT_TYPES) {
      Object.defineProperty(SocketTarget.prototype, `on${type}`, {
        configurable: true,
        enumerable: true,
        get(this: SocketTarget) {
          return this.getHandler(type);
        },
        set(this: SocketTarget, handler: unknown) {
          this.setHandler(type, handler);
        },
      });
    }
  }

  // ── typed listeners ────────────────────────────────────────────────────────────────────────

  override addEventListener<K extends keyof HeartlineSocketEventMap>(
    type: K,
    listener:
      | ((this: SocketTarget, event: HeartlineSocketEventMap[K]) => unknown)
      | EventListenerObject
      | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  override removeEventListener<K extends keyof HeartlineSocketEventMap>(
    type: K,
    listener:
      | ((this: SocketTarget, event: HeartlineSocketEventMap[K]) => unknown)
      | EventListenerObject
      | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
  }
}
