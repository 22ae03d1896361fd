import type { IncomingMessage } from 'node:http';
import { invalid } from '../../common/validate.js';
import { PLAIN_MARKER, SESSION_PROTOCOL } from '../../protocol/frames.js';

/**
 * Picks one of the sub-protocols a client offered, or `false`/`undefined` for none. Returning
 * a protocol the client did not offer counts as none: the server never echoes one it was not
 * offered.
 */
export type ProtocolSelector = (
  offered: readonly string[],
  request: IncomingMessage,
) => string | false | undefined;

/** What the `protocols` option accepts: the supported protocols in order of preference, or a selector. */
export type ProtocolsOption = readonly string[] | ProtocolSelector;

/** The compiled form of `protocols`, built once by `resolveProtocolPolicy()`. */
export type ProtocolPolicy =
  | { readonly kind: 'list'; readonly supported: readonly string[] }
  | { readonly kind: 'function'; readonly select: ProtocolSelector };

/**
 * The outcome of negotiation: the protocol to answer with (`protocol`, what goes on the wire)
 * and the application's protocol (`appProtocol`, what `client.protocol` reports: `''` for the
 * plain marker), or why the upgrade fails (HTTP 400).
 */
export type ProtocolVerdict =
  | { readonly ok: true; readonly protocol: string | undefined; readonly appProtocol: string }
  | { readonly ok: false; readonly message: string };

// RFC 6455 §4.1 and RFC 7230 §3.2.6: a sub-protocol is a token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Validates the `protocols` option; called once by `resolveOptions()`.
 *
 * @example
 * resolveProtocolPolicy(['chat.v2', 'chat.v1'])
 */
export function resolveProtocolPolicy(value: unknown): ProtocolPolicy {
  if (typeof value === 'function') {
    return Object.freeze({ kind: 'function', select: value as ProtocolSelector });
  }
  if (!Array.isArray(value))
    return invalid('protocols', 'an array of sub-protocol names or a function', value);
  const seen = new Set<string>();
  value.forEach((p: unknown, i) => {
    if (typeof p !== 'string' || !TOKEN.test(p) || seen.has(p)) {
      invalid(`protocols[${i}]`, 'a sub-protocol name (an RFC 7230 token, not repeated)', p);
    }
    seen.add(p);
  });
  return Object.freeze({ kind: 'list', supported: Object.freeze([...value] as string[]) });
}

/**
 * Splits a `Sec-WebSocket-Protocol` header into its protocols; `undefined` when the header is
 * malformed (an empty element, a non-token or a repeat), which RFC 6455 §4.1 forbids.
 *
 * @example
 * parseProtocolHeader('chat.v2, chat.v1') // ['chat.v2', 'chat.v1']
 */
export function parseProtocolHeader(header: string | undefined): string[] | undefined {
  if (header === undefined) return [];
  const list = header.split(',').map((p) => p.trim());
  if (list.some((p) => !TOKEN.test(p)) || new Set(list).size !== list.length) return undefined;
  return list;
}

function quoted(list: readonly string[]): string {
  return list.length ? list.map((p) => JSON.stringify(p)).join(', ') : 'none';
}

/**
 * Chooses the sub-protocol for an upgrade. A list picks the first supported protocol, in the
 * server's order of preference, that the client offered. If the client offered protocols and
 * none fits, or offered none while `required`, the upgrade fails: a browser would fail the
 * handshake anyway, and an HTTP 400 with a reason is easier to debug than that.
 *
 * Heartline's own offers are not the app's (PROTOCOL.md, "Negotiation"): a `HeartlineSocket`
 * offers the app's protocols, or the marker `heartline.plain` when it has none, then
 * `heartline.v1`. With `sessions`, an offer of `heartline.v1` is selected on the wire and the
 * app's protocol is chosen separately (it travels in the hello); without, the marker is
 * selected when the app offered nothing, which keeps the client in plain mode. Neither ever
 * makes an offer unsupported.
 *
 * @example
 * negotiateProtocol('chat.v1', policy, false, request) // { ok: true, protocol: 'chat.v1', appProtocol: 'chat.v1' }
 * negotiateProtocol('heartline.plain, heartline.v1', policy, false, request) // protocol 'heartline.plain', appProtocol ''
 */
export function negotiateProtocol(
  header: string | undefined,
  policy: ProtocolPolicy,
  required: boolean,
  request: IncomingMessage,
  sessions = false,
): ProtocolVerdict {
  const all = parseProtocolHeader(header);
  if (all === undefined) return { ok: false, message: 'Invalid Sec-WebSocket-Protocol header' };
  const offered = all.filter((p) => p !== PLAIN_MARKER && p !== SESSION_PROTOCOL);
  let chosen: string | undefined;
  if (offered.length > 0) {
    if (policy.kind === 'list') {
      chosen = policy.supported.find((p) => offered.includes(p));
    } else {
      const picked = policy.select(offered, request);
      chosen = typeof picked === 'string' && offered.includes(picked) ? picked : undefined;
    }
  }
  const session = sessions && all.includes(SESSION_PROTOCOL);
  if (chosen !== undefined) {
    return { ok: true, protocol: session ? SESSION_PROTOCOL : chosen, appProtocol: chosen };
  }
  const supported =
    policy.kind === 'list' ? quoted(policy.supported) : 'those its selector accepts';
  if (offered.length > 0) {
    return {
      ok: false,
      message: `Unsupported sub-protocol: offered ${quoted(offered)}; this server supports ${supported}`,
    };
  }
  if (required) return { ok: false, message: `A sub-protocol is required: one of ${supported}` };
  if (session) return { ok: true, protocol: SESSION_PROTOCOL, appProtocol: '' };
  if (all.includes(PLAIN_MARKER)) return { ok: true, protocol: PLAIN_MARKER, appProtocol: '' };
  if (all.length > 0) {
    return {
      ok: false,
      message: `Session mode (${SESSION_PROTOCOL}) is not served here; offer ${PLAIN_MARKER} too`,
    };
  }
  return { ok: true, protocol: undefined, appProtocol: '' };
}
