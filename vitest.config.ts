import { defineConfig } from 'vitest/config';

// Integration and browser tests open real sockets and run real timers; they share two cores, so
// keep the worker count low to stop timing-sensitive tests (detection within interval + timeout)
// from being starved by their neighbours.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
