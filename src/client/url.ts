/** A URL, or a function called before every attempt (so each can carry a fresh token). */
export type UrlSource = string | URL | (() => string | URL | Promise<string | URL>);

const syntaxError = (message: string) => new DOMException(message, 'SyntaxError');

/**
 * Parses a WebSocket URL as the WHATWG constructor does: any value is converted to a string
 * (a `URL`, `location`, an `<a>` element give their href), a relative URL is resolved against
 * the document's base URL, http(s) means ws(s), and a bad URL throws a `SyntaxError`
 * DOMException.
 */
export function checkUrl(value: unknown): string {
  const g = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  let url: URL;
  try {
    url = new URL(String(value), g.document?.baseURI ?? g.location?.href);
  } catch {
    throw syntaxError(`Invalid URL: ${JSON.stringify(String(value))}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw syntaxError(`Expected a ws:, wss:, http: or https: URL, got ${JSON.stringify(url.href)}`);
  }
  // An empty fragment (`ws://h/#`) is a fragment too, though `url.hash` is then ''.
  if (url.href.includes('#')) {
    throw syntaxError(`A WebSocket URL cannot have a fragment: ${JSON.stringify(url.href)}`);
  }
  return url.href;
}

/** Checks the constructor's `url`: its normalised URL, or `''` for a function (called later). */
export function checkSource(url: unknown): string {
  return typeof url === 'function' ? '' : checkUrl(url);
}

/**
 * What the URL's answers are remembered by: the URL without its query, so that a fresh token
 * in each attempt's query does not make the socket forget what worked.
 */
export function urlKey(url: string): string {
  return url.split('?')[0]!;
}

/** Validates offered sub-protocols as the WHATWG constructor does (SyntaxError). */
export function checkProtocols(protocols: string | string[] | undefined): string[] {
  const list =
    protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
  const seen = new Set<string>();
  for (const p of list) {
    // RFC 6455 §4.1: each protocol is an RFC 2616 token, and none may repeat.
    if (typeof p !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p) || seen.has(p)) {
      throw syntaxError(`Invalid or repeated sub-protocol: ${JSON.stringify(p)}`);
    }
    seen.add(p);
  }
  return list;
}
