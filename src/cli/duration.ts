import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** The longest delay a Node timer accepts (2^31 - 1 ms, about 24.8 days). */
export const MAX_DELAY = 2_147_483_647;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;

/**
 * Parses a duration: `1500ms`, `90s`, `10m`, `1h`, `1m30s`, `2.5s`, or a bare number of
 * milliseconds. Returns whole milliseconds; throws commander's `InvalidArgumentError`
 * (a usage error, exit 2) for anything else.
 *
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(text: string): number {
  const value = text.trim().toLowerCase();
  let ms: number | undefined;
  if (/^\d+$/.test(value)) ms = Number(value);
  else if (value !== '') {
    PART.lastIndex = 0;
    let total = 0;
    let match: RegExpExecArray | null = PART.exec(value);
    while (match !== null) {
      total += Number(match[1]) * UNITS[match[2]!]!;
      if (PART.lastIndex === value.length) {
        ms = total;
        break;
      }
      match = PART.exec(value);
    }
  }
  if (ms === undefined) {
    throw new InvalidArgumentError(
      `Expected a duration such as 1500ms, 90s, 10m or 1m30s (a bare number is ms), got '${text}'.`,
    );
  }
  ms = Math.round(ms);
  if (ms > MAX_DELAY)
    throw new InvalidArgumentError(`Expected a duration up to 24 days, got '${text}'.`);
  return ms;
}

/** `parseDuration()`, but at least 1 ms. */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms < 1) throw new InvalidArgumentError(`Expected a duration above 0, got '${text}'.`);
  return ms;
}

/**
 * A heartbeat-like duration that can be switched off: `off` is `false`, anything else a
 * duration above 0. The error for `0` names `off`, the way to say "none".
 *
 * @example parseDurationOrOff('off') // false
 */
export function parseDurationOrOff(text: string): number | false {
  if (text.trim().toLowerCase() === 'off') return false;
  const ms = parseDuration(text);
  if (ms < 1)
    throw new InvalidArgumentError(
      `Expected a duration above 0, or 'off' for none, got '${text}'.`,
    );
  return ms;
}

/** The help text's note on durations, shared by every command that takes one. */
export const DURATION_HELP = 'Durations: 1500ms, 90s, 10m, 1m30s; a bare number is milliseconds.';

/** A duration for people: `850 ms`, `1.2 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 3_600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
