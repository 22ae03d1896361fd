import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveOptions } from '../../src/server/options.js';

describe('resolveOptions (server)', () => {
  it('fills every default and freezes the result', () => {
    const o = resolveOptions({ noServer: true });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.heartbeat).toEqual(DEFAULTS.heartbeat);
    expect(o.shutdown).toEqual(DEFAULTS.shutdown);
    expect(o.maxConnections).toEqual(DEFAULTS.maxConnections);
    expect(o.rateLimit).toBe(false);
    expect(o.attachment).toEqual({ kind: 'noServer' });
  });

  it('expands shorthands: a number and false', () => {
    const o = resolveOptions({
      noServer: true,
      heartbeat: 5_000,
      rateLimit: 10,
      maxConnections: 3,
    });
    expect(o.heartbeat).toEqual({ ...DEFAULTS.heartbeat, interval: 5_000 });
    expect(o.rateLimit).toEqual({ messages: 10, interval: 1_000 });
    expect(o.maxConnections.limit).toBe(3);
    expect(resolveOptions({ noServer: true, heartbeat: false }).heartbeat).toBe(false);
  });

  it('honors the `controlLimit`, `upgradeTimeout` and new `resume` options', () => {
    const o = resolveOptions({
      noServer: true,
      controlLimit: 20,
      upgradeTimeout: 2_000,
      resume: { maxSessions: 50, maxRefusals: Number.POSITIVE_INFINITY },
    });
    expect(o.controlLimit).toEqual({ frames: 20, interval: 1_000 });
    expect(o.upgradeTimeout).toBe(2_000);
    expect(o.resume).toMatchObject({
      maxSessions: 50,
      maxRefusals: Infinity,
      refusalInterval: 10_000,
    });
    expect(resolveOptions({ noServer: true }).controlLimit).toEqual(DEFAULTS.controlLimit);
    expect(() => resolveOptions({ noServer: true, controlLimit: 0 })).toThrow(
      /Expected `controlLimit.frames` to be an integer >= 1, got 0/,
    );
    expect(() => resolveOptions({ noServer: true, controlLimit: false as never })).toThrow(
      /`controlLimit` to be an object/,
    );
    expect(() => resolveOptions({ noServer: true, resume: { maxSessions: 0 } })).toThrow(
      /`resume.maxSessions`/,
    );
    expect(() => resolveOptions({ noServer: true, upgradeTimeout: 0 })).toThrow(/`upgradeTimeout`/);
  });

  it('throws a TypeError that names the option, what was expected and what it got', () => {
    const bad = () => resolveOptions({ noServer: true, heartbeat: { timeout: -1 } });
    expect(bad).toThrow(TypeError);
    expect(bad).toThrow(
      'Expected `heartbeat.timeout` to be an integer from 1 to 2147483647, got -1',
    );
    expect(() => resolveOptions({ noServer: true, maxPayload: 1.5 })).toThrow(
      /Expected `maxPayload` to be an integer/,
    );
    expect(() => resolveOptions({ noServer: true, path: 'ws' })).toThrow(
      'Expected `path` to be a path starting with "/" (no query), got "ws"',
    );
    expect(() => resolveOptions({ noServer: true, heartbeat: { intervall: 1 } as never })).toThrow(
      /Unknown option `heartbeat.intervall`/,
    );
    expect(() => resolveOptions({ noServer: true, shutdown: { code: 1006 } })).toThrow(
      /`shutdown.code`/,
    );
  });

  it('requires exactly one of port, server and noServer', () => {
    expect(() => resolveOptions({})).toThrow(
      /exactly one of `port`, `server` or `noServer: true`, got "none"/,
    );
    expect(() => resolveOptions({ port: 1, noServer: true })).toThrow(/got "port and noServer"/);
    expect(() => resolveOptions({ port: 70_000 })).toThrow(
      /Expected `port` to be an integer from 0 to 65535/,
    );
  });
});

describe('docs/server.md', () => {
  it('lists the same defaults as DEFAULTS', () => {
    const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const match of doc.matchAll(/^\| `([\w.]+)` \| [^|]+(?:\\\|[^|]+)* \| ([^|]+) \|/gm)) {
      rows.set(match[1]!, match[2]!.trim());
    }
    expect(rows.size).toBeGreaterThan(25);
    const defaults = DEFAULTS as unknown as Record<string, unknown>;
    const expected = new Map<string, unknown>();
    for (const [key, value] of Object.entries(defaults)) {
      if (key === 'rateLimitSettings') {
        // `rateLimit` is off by default; these fill in `rateLimit: {}` or a bare number.
        for (const [k, v] of Object.entries(value as object)) expected.set(`rateLimit.${k}`, v);
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value as object)) expected.set(`${key}.${k}`, v);
      } else {
        expected.set(key, value);
      }
    }
    const render = (v: unknown): string => {
      if (typeof v === 'string') return `\`'${v}'\``;
      if (Array.isArray(v)) return `\`${JSON.stringify(v)}\``;
      return `\`${String(v)}\``;
    };
    for (const [key, value] of expected) {
      expect(rows.get(key), `row for ${key}`).toBe(render(value));
    }
  });
});

describe('the JSDoc of HeartlineServerOptions', () => {
  it('states the same @default values as DEFAULTS', () => {
    const source = readFileSync(new URL('../../src/server/options.ts', import.meta.url), 'utf8');
    const defaults = DEFAULTS as unknown as Record<string, Record<string, unknown> | unknown>;
    // Each `@default` belongs to the field declared after its comment, inside an interface.
    const interfaces: Record<string, string> = {
      HeartbeatSettings: 'heartbeat',
      ShutdownSettings: 'shutdown',
      ConnectionLimit: 'maxConnections',
      ControlLimit: 'controlLimit',
      ResumeSettings: 'resume',
      HeartlineServerOptions: '',
    };
    let checked = 0;
    for (const [name, group] of Object.entries(interfaces)) {
      const body = new RegExp(`export interface ${name}(?:<[^>]*>)? \\{([\\s\\S]*?)\\n\\}`).exec(
        source,
      )![1]!;
      for (const m of body.matchAll(/@default (.+?)(?: \*\/|\n)[\s\S]*?(?:readonly )?(\w+)\??:/g)) {
        const [, text, field] = m;
        const value = group
          ? (defaults[group] as Record<string, unknown>)[field!]
          : defaults[field!];
        const rendered =
          typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? '[]' : String(value);
        expect(text!.trim(), `@default of ${group ? `${group}.` : ''}${field}`).toBe(rendered);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});
