import { InvalidUrlError } from '../common/errors.js';
import { invalid } from '../common/validate.js';

/** A URL, or a function called before every attempt (so each can carry a fresh token). */
export type UrlSource = string | URL | (() => string | URL | Promise<string | URL>);

/** Normalises a WebSocket URL as the WHATWG constructor does, or throws `InvalidUrlError`. */
export function checkUrl(value: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch (error) {
    throw new InvalidUrlError(`Invalid URL: ${JSON.stringify(String(value))}`, error);
  }
  // WHATWG WebSockets: http(s) URLs are accepted and mean ws(s); fragments are not allowed.
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidUrlError(
      `Expected a ws:, wss:, http: or https: URL, got ${JSON.stringify(url.href)}`,
    );
  }
  if (url.hash)
    throw new InvalidUrlError(
      `A WebSocket URL cannot have a fragment: ${JSON.stringify(url.href)}`,
    );
  return url.href;
}

/** Checks the constructor's `url`: its normalised URL, or `''` for a function (called later). */
export function checkSource(url: UrlSource): string {
  if (typeof url === 'function') return '';
  if (typeof url !== 'string' && !(url instanceof URL))
    invalid('url', 'a string, URL or function', url);
  return checkUrl(url);
}

/** Validates offered sub-protocols as the WHATWG constructor does (SyntaxError). */
export function checkProtocols(protocols: string | string[] | undefined): string[] {
  const list =
    protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
  const seen = new Set<string>();
  for (const p of list) {
    // RFC 6455 §4.1: each protocol is an RFC 2616 token, and none may repeat.
    if (typeof p !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p) || seen.has(p)) {
      throw new DOMException(
        `Invalid or repeated sub-protocol: ${JSON.stringify(p)}`,
        'SyntaxError',
      );
    }
    seen.add(p);
  }
  return list;
}
