import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  isAllowedOrigin,
  isLoopbackAddress,
  isLoopbackHostname,
  normalizeOrigin,
  resolveOriginPolicy,
} from '../../src/server/upgrade/origin-policy.js';

const request = (host = 'app.example.com') => ({ headers: { host } }) as unknown as IncomingMessage;

/** A request that came to a server listening on `bound`. */
const requestTo = (bound: string, host: string) =>
  ({
    headers: { host },
    socket: { server: { address: () => ({ address: bound, port: 8080 }) }, localAddress: bound },
  }) as unknown as IncomingMessage;

describe('normalizeOrigin', () => {
  it('lower-cases, drops the default port and keeps other ports', () => {
    expect(normalizeOrigin('HTTPS://App.Example.COM:443')).toBe('https://app.example.com');
    expect(normalizeOrigin('http://localhost:8080')).toBe('http://localhost:8080');
  });

  it('answers undefined for "null" and for non-http schemes', () => {
    expect(normalizeOrigin('null')).toBeUndefined();
    expect(normalizeOrigin('file:///tmp/x.html')).toBeUndefined();
    expect(normalizeOrigin('chrome-extension://abc')).toBeUndefined();
  });
});

describe('resolveOriginPolicy', () => {
  it('rejects entries that are not origins, naming the entry', () => {
    expect(() => resolveOriginPolicy(['https://ok.example.com', 'example.com'])).toThrow(
      /Expected `origins\[1\]` to be an origin such as .*, got "example.com"/,
    );
    expect(() => resolveOriginPolicy(['https://example.com/path'])).toThrow(TypeError);
    expect(() => resolveOriginPolicy(['https://*.'])).toThrow(TypeError);
    expect(() => resolveOriginPolicy(['https://a.*.example.com'])).toThrow(TypeError);
    expect(() => resolveOriginPolicy('everyone')).toThrow(/Expected `origins` to be/);
  });
});

describe('isAllowedOrigin', () => {
  it('matches exact origins after normalisation', () => {
    const policy = resolveOriginPolicy(['https://App.Example.com:443/']);
    expect(isAllowedOrigin('https://app.example.com', policy, request())).toBe(true);
    expect(isAllowedOrigin('https://APP.example.com:443', policy, request())).toBe(true);
    expect(isAllowedOrigin('http://app.example.com', policy, request())).toBe(false);
    expect(isAllowedOrigin('https://app.example.com:8443', policy, request())).toBe(false);
    expect(isAllowedOrigin('https://app.example.com.evil.net', policy, request())).toBe(false);
  });

  it('matches wildcards on one or more labels, the same scheme and port', () => {
    const policy = resolveOriginPolicy(['https://*.example.com']);
    expect(isAllowedOrigin('https://a.example.com', policy, request())).toBe(true);
    expect(isAllowedOrigin('https://a.b.example.com', policy, request())).toBe(true);
    expect(isAllowedOrigin('https://example.com', policy, request())).toBe(false);
    expect(isAllowedOrigin('https://evilexample.com', policy, request())).toBe(false);
    expect(isAllowedOrigin('http://a.example.com', policy, request())).toBe(false);
    expect(isAllowedOrigin('https://a.example.com:444', policy, request())).toBe(false);
  });

  it('compares same-origin against the Host header', () => {
    const policy = resolveOriginPolicy('same-origin');
    expect(isAllowedOrigin('https://app.example.com', policy, request('app.example.com'))).toBe(
      true,
    );
    expect(isAllowedOrigin('https://app.example.com', policy, request('app.example.com:443'))).toBe(
      true,
    );
    expect(isAllowedOrigin('http://localhost:3000', policy, request('localhost:3000'))).toBe(true);
    expect(isAllowedOrigin('https://evil.example', policy, request('app.example.com'))).toBe(false);
  });

  it('accepts only loopback names with same-origin on a server that listens on loopback (DNS rebinding)', () => {
    const policy = resolveOriginPolicy('same-origin');
    const rebound = 'http://evil.example:8080';
    expect(isAllowedOrigin(rebound, policy, requestTo('127.0.0.1', 'evil.example:8080'))).toBe(
      false,
    );
    expect(isAllowedOrigin(rebound, policy, requestTo('::1', 'evil.example:8080'))).toBe(false);
    expect(
      isAllowedOrigin(rebound, policy, requestTo('::ffff:127.0.0.1', 'evil.example:8080')),
    ).toBe(false);
    const local = 'http://localhost:8080';
    expect(isAllowedOrigin(local, policy, requestTo('127.0.0.1', 'localhost:8080'))).toBe(true);
    // A server on every interface is reachable from the network anyway: Host is taken as given.
    expect(isAllowedOrigin(rebound, policy, requestTo('0.0.0.0', 'evil.example:8080'))).toBe(true);
    expect(isAllowedOrigin(rebound, policy, requestTo('::', 'evil.example:8080'))).toBe(true);
    // A list is the app's word.
    const listed = resolveOriginPolicy([rebound]);
    expect(isAllowedOrigin(rebound, listed, requestTo('127.0.0.1', 'evil.example:8080'))).toBe(
      true,
    );
  });

  it('never allows "null" from a list, and lets a function decide it', () => {
    expect(isAllowedOrigin('null', resolveOriginPolicy(['https://a.example.com']), request())).toBe(
      false,
    );
    expect(isAllowedOrigin('null', resolveOriginPolicy('*'), request())).toBe(true);
    const seen: string[] = [];
    const policy = resolveOriginPolicy((origin: string) => {
      seen.push(origin);
      return origin === 'https://a.example.com';
    });
    expect(isAllowedOrigin('HTTPS://A.example.com', policy, request())).toBe(true);
    expect(isAllowedOrigin('null', policy, request())).toBe(false);
    expect(seen).toEqual(['https://a.example.com', 'null']);
  });
});

describe('isLoopbackAddress, isLoopbackHostname', () => {
  it('knows 127.0.0.0/8, ::1 and their IPv4-mapped forms, and nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
      expect(isLoopbackAddress(a), a).toBe(true);
    }
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', 'localhost']) {
      expect(isLoopbackAddress(a), a).toBe(false);
    }
  });

  it('knows localhost, *.localhost and loopback addresses as URL hostnames', () => {
    for (const h of ['localhost', 'app.localhost', '127.0.0.1', '[::1]', '[::ffff:7f00:1]']) {
      expect(isLoopbackHostname(h), h).toBe(true);
    }
    for (const h of ['evil.example', 'localhost.evil.example', '0.0.0.0', '[::]', 'mylocalhost']) {
      expect(isLoopbackHostname(h), h).toBe(false);
    }
  });
});
