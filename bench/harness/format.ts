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

export function met(ok: boolean): string {
  return ok ? 'met' : 'missed';
}

/**
 * "**135,210** (128,004–140,118)": a median and the min–max of its rounds. `range` formats the
 * bounds (without the unit, say).
 */
export function withSpread(
  s: { median: number; min: number; max: number },
  format: (x: number) => string,
  { bold = false, range = format }: { bold?: boolean; range?: (x: number) => string } = {},
): string {
  const m = bold ? `**${format(s.median)}**` : format(s.median);
  return s.min === s.max ? m : `${m} (${range(s.min)}–${range(s.max)})`;
}

/** Sub-millisecond latencies: "0.027 ms". */
export function msFine(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(3)} ms` : '–';
}
