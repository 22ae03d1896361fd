import { InvalidOptionError } from './errors.js';

/** Renders a value for an error message: strings quoted, objects by constructor name. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return `array(${value.length})`;
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}

/** Throws the one error shape all option checks share: "Expected `x` to be …, got …". */
export function invalid(name: string, expected: string, got: unknown): never {
  throw new InvalidOptionError(`Expected \`${name}\` to be ${expected}, got ${show(got)}`);
}

/** The largest delay `setTimeout` honours; larger values fire at once (HTML timers §8.6). */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** A finite number within [min, max]; `Infinity` is accepted only when `allowInfinity`. */
export function checkNumber(
  name: string,
  value: unknown,
  { min = 0, max = Number.MAX_SAFE_INTEGER, allowInfinity = false, integer = false } = {},
): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY)) &&
    value >= min &&
    (value <= max || (allowInfinity && value === Number.POSITIVE_INFINITY)) &&
    (!integer || !Number.isFinite(value) || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a finite number';
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    invalid(name, `${kind} ${range}${allowInfinity ? ' (or Infinity)' : ''}`, value);
  }
  return value as number;
}

/** A timer delay in ms: a whole number from `min` to 2^31-1, the most setTimeout accepts. */
export function checkDelay(name: string, value: unknown, min = 0): number {
  return checkNumber(name, value, { min, max: MAX_TIMER_DELAY, integer: true });
}

export function checkFunction<T extends Function>(name: string, value: unknown): T {
  if (typeof value !== 'function') invalid(name, 'a function', value);
  return value as T;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(name, 'a boolean', value);
  return value;
}

export function checkOneOf<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T))
    invalid(name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  return value as T;
}

/** A plain object of options (or undefined); anything else is a mistake worth naming. */
export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(name, 'an object', value);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys the caller did not mean (a typo such as `heartbeat.intervall` would else be ignored). */
export function checkKnownKeys(
  name: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `Unknown option \`${name ? `${name}.` : ''}${key}\`; expected one of ${known.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
  }
}

/**
 * The shared first steps of resolving one group of options: `raw` must be an object (or
 * undefined) with only the keys `defaults` has, and each key it leaves `undefined` takes the
 * default (as a spread of user options would mean).
 *
 * @example
 * const h = withDefaults('heartbeat', { interval: 5_000, timeout: undefined }, DEFAULTS.heartbeat);
 * // { ...DEFAULTS.heartbeat, interval: 5_000 }
 */
export function withDefaults<D extends object>(
  name: string,
  raw: unknown,
  defaults: D,
): D & Record<string, unknown> {
  const o = checkObject(name, raw);
  checkKnownKeys(name, o, Object.keys(defaults));
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(o)) if (value !== undefined) merged[key] = value;
  return merged as D & Record<string, unknown>;
}
