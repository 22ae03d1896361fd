import type { IncomingMessage } from 'node:http';
import { invalid } from '../../common/validate.js';

/** Decides for one request whether its `Origin` is allowed; `origin` is already normalised. */
export type OriginCheck = (origin: string, request: IncomingMessage) => boolean;

/**
 * What the `origins` option accepts:
 * - `'same-origin'`: the Origin's host and port must equal the request's `Host` header;
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

function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    const o = new URL(origin);
    // The Host header has no scheme; parsing it under the Origin's scheme drops its default port.
    return new URL(`${o.protocol}//${host}`).host === o.host;
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
  if (policy.kind === 'same-origin') return sameHost(normalized, request.headers.host);
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
