import { defineConfig } from 'vitest/config';

// Integration and browser tests open real sockets and run real timers; they share two cores, so
// keep the worker count low to stop timing-sensitive tests (detection within interval + timeout)
// from being starved by their neighbours.
//
// Projects, so that one kind can run alone: `vitest run --project unit` (npm run test:unit).
// Regression tests (test/regressions/issue-<n>.test.ts) run real sockets: integration.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/regressions/**/*.test.ts'],
        },
      },
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ['test/types/**/*.test-d.ts'],
            tsconfig: './tsconfig.json',
          },
        },
      },
    ],
  },
});
