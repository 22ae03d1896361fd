import type { IncomingMessage } from 'node:http';
import { isIP, type Server } from 'node:net';
import { invalid } from '../../common/validate.js';

/** Decides for one request whether its `Origin` is allowed; `origin` is already normalised. */
export type OriginCheck = (origin: string, request: IncomingMessage) => boolean;

/**
 * What the `origins` option accepts:
 * - `'same-origin'`: the Origin's host and port must equal the request's `Host` header; on a
 *   server that listens on a loopback address only, that host must also be a loopback name
 *   (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`), against DNS rebinding;
 * - `'*'`: any Origin (for public endpoints that authenticate otherwise);
 * - a list of origins such as `'https://app.example.com'` or wildcards such as
 *   `'https://*.example.com'` (one or more labels before `.example.com`, same scheme and port);
 * - a function of the normalised origin and the request.
 */
export type OriginsOption = 'same-origin' | '*' | readonly string[] | OriginCheck;

interface Wildcard {
  readonly protocol: string;
  /** `.example.com`: the hostname must end with it and have a label before it. */
  readonly suffix: string;
  readonly port: string;
}

/** The compiled form of `origins`, built once by `resolveOriginPolicy()`. */
export type OriginPolicy =
  | { readonly kind: 'same-origin' }
  | { readonly kind: 'any' }
  | {
      readonly kind: 'list';
      readonly exact: ReadonlySet<string>;
      readonly wildcards: readonly Wildcard[];
    }
  | { readonly kind: 'function'; readonly check: OriginCheck };

const EXAMPLE = `an origin such as "https://app.example.com" or "https://*.example.com"`;
const WILDCARD_LABEL = 'heartline-wildcard';

/**
 * Normalises an `Origin` header the way browsers serialise origins (RFC 6454 §6.1): lower-case
 * scheme and host, punycode, no default port, no path. Returns `undefined` for `null` (sandboxed
 * frames, `file:`) and anything that is not an http(s) origin, which only `'*'` or a function
 * can then allow.
 *
 * @example
 * normalizeOrigin('HTTPS://App.Example.com:443') // 'https://app.example.com'
 */
export function normalizeOrigin(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin;
}

function parseEntry(name: string, entry: unknown): { exact: string } | { wildcard: Wildcard } {
  if (typeof entry !== 'string') return invalid(name, EXAMPLE, entry);
  const wildcard = /^(https?:\/\/)\*\./i.exec(entry);
  const text = wildcard
    ? `${wildcard[1]}${WILDCARD_LABEL}.${entry.slice(wildcard[0].length)}`
    : entry;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(name, EXAMPLE, entry);
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  const trailing = /^[^/]*\/\/[^/]+\/?$/.test(text);
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare || !trailing) {
    return invalid(name, EXAMPLE, entry);
  }
  if (!wildcard)
    return url.hostname.includes('*') ? invalid(name, EXAMPLE, entry) : { exact: url.origin };
  const suffix = url.hostname.slice(WILDCARD_LABEL.length);
  if (url.hostname.includes('*') || !/^(\.[^.]+)+$/.test(suffix))
    return invalid(name, EXAMPLE, entry);
  return {
    wildcard: {
      protocol: url.protocol,
      suffix,
      port: url.port,
    },
  };
}

/**
 * Validates the `origins` option and compiles it into a policy; called once by
 * `resolveOptions()`. Bad entries throw a TypeError naming the entry.
 *
 * @example
 * resolveOriginPolicy(['https://app.example.com', 'https://*.example.com'])
 */
export function resolveOriginPolicy(value: unknown): OriginPolicy {
  if (value === 'same-origin') return Object.freeze({ kind: 'same-origin' });
  if (value === '*') return Object.freeze({ kind: 'any' });
  if (typeof value === 'function')
    return Object.freeze({ kind: 'function', check: value as OriginCheck });
  if (!Array.isArray(value)) {
    return invalid('origins', `'same-origin', '*', an array of origins or a function`, value);
  }
  const exact = new Set<string>();
  const wildcards: Wildcard[] = [];
  value.forEach((entry: unknown, i) => {
    const parsed = parseEntry(`origins[${i}]`, entry);
    if ('exact' in parsed) exact.add(parsed.exact);
    else wildcards.push(Object.freeze(parsed.wildcard));
  });
  return Object.freeze({ kind: 'list', exact, wildcards: Object.freeze(wildcards) });
}

/**
 * Whether an address is a loopback address: 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into
 * IPv6 (`::ffff:127.0.0.1`, as a dual-stack socket reports it).
 *
 * @example
 * isLoopbackAddress('127.0.0.1') // true
 * isLoopbackAddress('0.0.0.0') // false: every interface
 */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a) || /^::ffff:7f[0-9a-f]{2}:/.test(a);
}

/**
 * Whether a URL hostname (as `new URL()` normalises it: lower case, IPv6 in brackets) names
 * this machine's loopback interface: `localhost` and `*.localhost` (RFC 6761 §6.3), or a
 * loopback address.
 *
 * @example
 * isLoopbackHostname('app.localhost') // true
 * isLoopbackHostname('evil.example') // false, whatever it resolves to
 */
export function isLoopbackHostname(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0 && isLoopbackAddress(bare);
}

/**
 * Whether the server this request came to listens on a loopback address only: the address
 * its listening socket is bound to (a server on every interface, `0.0.0.0` or `::`, is not),
 * or, for a socket whose server cannot be seen, the address the connection arrived on.
 */
function listensOnLoopback(request: IncomingMessage): boolean {
  const socket = request.socket as (IncomingMessage['socket'] & { server?: Server }) | undefined;
  const bound = socket?.server?.address();
  const address = bound && typeof bound === 'object' ? bound.address : socket?.localAddress;
  return address !== undefined && isLoopbackAddress(address);
}

function sameHost(origin: string, request: IncomingMessage): boolean {
  const host = request.headers.host;
  if (!host) return false;
  try {
    const o = new URL(origin);
    // The Host header has no scheme; parsing it under the Origin's scheme drops its default port.
    const h = new URL(`${o.protocol}//${host}`);
    if (h.host !== o.host) return false;
    // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 is "same
    // origin" with any Host it sends. A server only this machine can reach trusts only the
    // names that cannot be rebound.
    return !listensOnLoopback(request) || isLoopbackHostname(h.hostname);
  } catch {
    return false;
  }
}

/**
 * Whether a present `Origin` header passes the policy. A missing header is the caller's
 * decision (`allowMissingOrigin`), not this function's.
 *
 * @example
 * isAllowedOrigin('https://a.example.com', policy, request) // true for 'https://*.example.com'
 */
export function isAllowedOrigin(
  origin: string,
  policy: OriginPolicy,
  request: IncomingMessage,
): boolean {
  if (policy.kind === 'any') return true;
  const normalized = normalizeOrigin(origin);
  if (policy.kind === 'function') return policy.check(normalized ?? origin, request) === true;
  if (normalized === undefined) return false;
  if (policy.kind === 'same-origin') return sameHost(normalized, request);
  if (policy.exact.has(normalized)) return true;
  const url = new URL(normalized);
  return policy.wildcards.some(
    (w) =>
      w.protocol === url.protocol &&
      w.port === url.port &&
      url.hostname.length > w.suffix.length &&
      url.hostname.endsWith(w.suffix),
  );
}
