import { InvalidArgumentError } from 'commander';

/** RFC 9110 §5.6.2: header names and sub-protocols (RFC 6455 §4.1) are tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a WebSocket URL argument the way the WHATWG constructor reads it: `ws:` and `wss:`,
 * with `http:`/`https:` meaning the same, and no fragment. A URL without a scheme
 * (`localhost:8080/chat`) gets `ws://`, as wscat does.
 *
 * @example parseUrl('localhost:8080/chat') // 'ws://localhost:8080/chat'
 */
export function parseUrl(text: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ws://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgumentError(
      `Expected a WebSocket URL such as ws://127.0.0.1:8080/ or wss://example.com/feed, got '${text}'.`,
    );
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidArgumentError(
      `Expected a ws:, wss:, http: or https: URL, got '${url.protocol}' in '${text}'.`,
    );
  }
  if (url.hash)
    throw new InvalidArgumentError(`A WebSocket URL cannot have a fragment: '${text}'.`);
  if (!url.hostname) throw new InvalidArgumentError(`The URL has no host: '${text}'.`);
  return url.href;
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new InvalidArgumentError(`Expected a port from 0 to 65535, got '${text}'.`);
  return port;
}

/** A whole number from `min` to `max`. */
export function integerIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw new InvalidArgumentError(
        `Expected a whole number from ${min} to ${max}, got '${text}'.`,
      );
    return n;
  };
}

/** RFC 6455 §4.1: a sub-protocol is an RFC 2616 token. */
export function parseProtocol(text: string, previous: string[] | undefined): string[] {
  if (!TOKEN.test(text))
    throw new InvalidArgumentError(
      `Expected a sub-protocol name (letters, digits and !#$%&'*+-.^_\`|~), got '${text}'.`,
    );
  const list = previous ?? [];
  if (list.includes(text)) throw new InvalidArgumentError(`'${text}' is offered twice.`);
  return [...list, text];
}

/** Repeated options that collect into a list: `--origin a --origin b`. */
export function collect(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}

/** An `Origin` header value: a scheme, a host and maybe a port, nothing else. */
export function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(
      `Expected an origin such as https://app.example.com, got '${text}'.`,
    );
  }
  if (url.origin === 'null' || `${url.origin}/` !== url.href.replace(/\/?$/, '/'))
    throw new InvalidArgumentError(
      `Expected an origin (scheme://host[:port], no path), got '${text}'.`,
    );
  return url.origin;
}

/**
 * A request header, `Name: value`, as curl and wscat take it (`-H`), collected into an
 * object; a repeated name keeps the last value.
 *
 * @example parseHeader('Authorization: Bearer abc', {}) // { Authorization: 'Bearer abc' }
 */
export function parseHeader(
  text: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  const value = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (!TOKEN.test(name))
    throw new InvalidArgumentError(
      `Expected a header such as 'Authorization: Bearer abc', got '${text}'.`,
    );
  if (/[\r\n\0]/.test(value))
    throw new InvalidArgumentError(`A header value cannot hold a line break: '${text}'.`);
  return { ...previous, [name]: value };
}

/**
 * `user:password` for HTTP Basic authentication (RFC 7617), as wscat's `--auth` takes it.
 *
 * @example parseAuth('ada:secret') // 'Basic YWRhOnNlY3JldA=='
 */
export function parseAuth(text: string): string {
  if (!text.includes(':')) throw new InvalidArgumentError(`Expected user:password, got '${text}'.`);
  return `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
}
