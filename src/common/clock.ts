/**
 * Monotonic milliseconds. `performance.now()` does not jump with the wall clock (NTP, the user
 * changing the time), which matters for RTT and uptime; both browsers and Node ≥ 16 have it.
 */
export const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? () => performance.now()
    : () => Date.now();

let read = -1;
const forget = (): void => {
  read = -1;
};

/**
 * `now()`, read once per task: every message of one socket read (a `ws` read emits them all
 * in one task) gets the same time, for one clock read instead of one each. Use it only where a
 * time as old as the running task is exact enough: when a message arrived.
 */
export function taskNow(): number {
  if (read < 0) {
    read = now();
    queueMicrotask(forget);
  }
  return read;
}
