/**
 * Monotonic milliseconds. `performance.now()` does not jump with the wall clock (NTP, the user
 * changing the time), which matters for RTT and uptime; both browsers and Node ≥ 16 have it.
 */
export const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? () => performance.now()
    : () => Date.now();
