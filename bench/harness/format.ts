/** Number formatting for the report: one style everywhere. */

export function int(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–';
}

export function fixed(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '–';
}

/** Milliseconds as "850 ms" or "12.3 s". */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return x < 1_000
    ? `${x.toFixed(x < 10 ? 1 : 0)} ms`
    : `${(x / 1_000).toFixed(x < 10_000 ? 2 : 1)} s`;
}

export function kib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–';
}

export function met(ok: boolean | null): string {
  return ok === null ? 'pending' : ok ? 'met' : 'missed';
}
