import { CallbackError, RequestLostError } from '../common/errors.js';
import {
  answer,
  decodeFailure,
  encodeFailure,
  PendingRequests,
  type RequestOptions,
  type RequestSettings,
  type Respond,
  unsupported,
} from '../common/requests.js';
import type { Call, CallKind } from '../protocol/frames.js';
import { type MessageData, prepareCall } from './client/outgoing-message.js';
import type { ServerClient } from './client/server-client.js';
import type { Engine } from './engine/engine.js';

/** What a `request` listener of a server client gets: the data, and the way to answer. */
export type RequestListener = (data: string | Buffer, respond: Respond<MessageData>) => unknown;

/** What the server's requests need from it. */
export interface RequestsHost {
  readonly engine: Engine;
  readonly settings: RequestSettings;
  report(error: Error, client: ServerClient | undefined): void;
}

/** The answer the handler of a request that a crashed server held gets instead of running. */
const IN_DOUBT = new RequestLostError(
  'The server that had this request crashed: it may or may not have been handled',
);

/**
 * The server's requests both ways (PROTOCOL.md "Requests"). A client's request runs the
 * client's `request` listeners once (its number is handled once, like a message's) and the
 * answer is logged for its session like a direct message, so it reaches the client on whatever
 * link or server process it is on by then. The server's own requests wait here by id, an id
 * that starts with this process's node name: an answer that reaches another process of the
 * cluster is forwarded here through the engine.
 */
export class ServerRequests {
  readonly #host: RequestsHost;
  readonly #pending = new PendingRequests<string | Buffer>();
  #next = 0;

  constructor(host: RequestsHost) {
    this.#host = host;
  }

  /** Requests waiting for their answer, and answers that came for none (late, dropped). */
  get stats(): { readonly pending: number; readonly late: number } {
    return { pending: this.#pending.size, late: this.#pending.late };
  }

  /** `client.request()`: sends a request to a session's client and waits for its answer. */
  request(
    client: ServerClient,
    data: MessageData,
    options?: RequestOptions,
  ): Promise<string | Buffer> {
    if (client.mode !== 'session') return Promise.reject(unsupported(`Client ${client.id}`));
    if (client.state === 'closing' || client.state === 'closed') {
      return Promise.reject(new RequestLostError(`Client ${client.id} is ${client.state}`));
    }
    const { engine, settings } = this.#host;
    const id = `${engine.node}.${++this.#next}`;
    let message: ReturnType<typeof prepareCall>;
    try {
      message = prepareCall('q', id, data);
    } catch (error) {
      return Promise.reject(error);
    }
    const reply = this.#pending.add(id, settings, client.id, options);
    if (
      this.#pending.has(id) &&
      !engine.publish(message, { kind: 'client', id: client.id }, false)
    ) {
      this.#pending.settle(id, new RequestLostError('The engine did not accept the request'));
    }
    return reply;
  }

  /**
   * A request, reply or failure from a session's client, in order and once (a crashed
   * server's possible repeats marked `redelivered`).
   */
  received(client: ServerClient, call: Call, payload: string | Buffer, redelivered: boolean): void {
    if (call.kind === 'q') {
      if (redelivered) {
        this.#answer(client, 'f', call.id, encodeFailure(IN_DOUBT));
        return;
      }
      const listeners = client.rawListeners('request') as RequestListener[];
      answer<string | Buffer, MessageData>(
        listeners.map((listener) => (data, respond) => listener.call(client, data, respond)),
        payload,
        (reply) =>
          reply instanceof Error
            ? this.#answer(client, 'f', call.id, encodeFailure(reply))
            : this.#answer(client, 'r', call.id, reply),
        (error) =>
          this.#host.report(
            new CallbackError(`A 'request' listener of client ${client.id} failed`, error),
            client,
          ),
      );
      return;
    }
    const reply = call.kind === 'r' ? payload : decodeFailure(String(payload));
    this.#settle(client.id, call, reply, payload);
  }

  /** An answer another process of the cluster received for one of this process's requests. */
  forwarded(message: Buffer): void {
    const forwarded = decodeForward(message);
    if (!forwarded) return;
    const { kind, id, client, payload } = forwarded;
    const reply = kind === 'r' ? payload : decodeFailure(String(payload));
    this.#pending.settle(id, reply, client);
  }

  /** The session ended for good (not moved): what the server asked it can get no answer. */
  ended(client: ServerClient): void {
    this.#pending.endAll(
      new RequestLostError(`The session of client ${client.id} ended before the answer came`),
      client.id,
    );
  }

  /** The server closes: nothing it asked can be answered any more. */
  close(): void {
    this.#pending.endAll(new RequestLostError('The server closed before the answer came'));
  }

  /**
   * Answers a client's request through the engine, addressed to its session: wherever the
   * session is now (this client object may have ended here because it moved to another
   * process); an engine drops what is addressed to a session that ended for good.
   */
  #answer(client: ServerClient, kind: CallKind, id: string, data: MessageData): void {
    let message: ReturnType<typeof prepareCall>;
    try {
      message = prepareCall(kind, id, data);
    } catch (error) {
      this.#host.report(
        new CallbackError(`The answer to a request of client ${client.id} cannot be sent`, error),
        client,
      );
      message = prepareCall('f', id, encodeFailure(error));
    }
    this.#host.engine.publish(message, { kind: 'client', id: client.id }, false);
  }

  /**
   * An answer from client `from` to request `call.id`: settled here, or forwarded to the
   * process that asked (the id starts with its node name). Only the client a request went to
   * can answer it, here or there.
   */
  #settle(
    from: string,
    call: Call,
    reply: string | Buffer | Error,
    payload: string | Buffer,
  ): void {
    const { engine } = this.#host;
    const id = call.id;
    const node = id.slice(0, id.lastIndexOf('.'));
    if (this.#pending.has(id) || node === engine.node || !NODE.test(node)) {
      this.#pending.settle(id, reply, from);
      return;
    }
    const forward = encodeForward(call.kind as 'r' | 'f', id, from, payload);
    if (!engine.forward(node, forward)) this.#pending.late++;
  }
}

/** What a node name looks like (both engines make base64url ones). */
const NODE = /^[\w-]{1,64}$/;

/**
 * An answer forwarded between processes: `<kind><id>:<client>:` then the payload, the kind's
 * letter in upper case for a binary payload.
 */
function encodeForward(
  kind: 'r' | 'f',
  id: string,
  client: string,
  payload: string | Buffer,
): Buffer {
  const text = typeof payload === 'string';
  const head = `${text ? kind : kind.toUpperCase()}${id}:${client}:`;
  return Buffer.concat([Buffer.from(head, 'latin1'), text ? Buffer.from(payload) : payload]);
}

function decodeForward(
  message: Buffer,
): { kind: 'r' | 'f'; id: string; client: string; payload: string | Buffer } | undefined {
  const first = message.indexOf(0x3a);
  const second = first < 0 ? -1 : message.indexOf(0x3a, first + 1);
  const letter = String.fromCharCode(message[0] ?? 0);
  const kind = letter.toLowerCase();
  if (second < 0 || (kind !== 'r' && kind !== 'f')) return undefined;
  const body = message.subarray(second + 1);
  return {
    kind,
    id: message.toString('latin1', 1, first),
    client: message.toString('latin1', first + 1, second),
    payload: letter === kind ? body.toString('utf8') : body,
  };
}
