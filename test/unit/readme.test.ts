import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/client/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the README's options table: option name → the Default cell. */
function optionRows(): Map<string, string> {
  const section = readme.slice(readme.indexOf('## Options'), readme.indexOf('## Events'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const name = /^`([\w.]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name) rows.set(name, cells[3]!.replace(/^`|`$/g, ''));
  }
  return rows;
}

function leaves(value: object, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? leaves(v, `${prefix}${key}.`)
      : [[`${prefix}${key}`, v]],
  );
}

function render(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') {
    const source = value.toString().replace(/"/g, "'").replace(/\s+/g, ' ');
    return source.startsWith('function') || value.name.startsWith('default') ? value.name : source;
  }
  return String(value);
}

describe('README options table', () => {
  const rows = optionRows();

  it('lists every default with the value the code uses', () => {
    for (const [name, value] of leaves(DEFAULTS)) {
      expect(rows.has(name), `README is missing a row for \`${name}\``).toBe(true);
      expect(rows.get(name), `README default of \`${name}\``).toBe(render(value));
    }
  });

  it('documents no default the code does not have', () => {
    const known = new Set(leaves(DEFAULTS).map(([name]) => name));
    for (const [name, cell] of rows) {
      if (cell === '' || ['WebSocket', 'logger'].includes(name)) continue; // groups and injected parts
      expect(known.has(name), `README row \`${name}\` has no default in code`).toBe(true);
    }
  });
});
