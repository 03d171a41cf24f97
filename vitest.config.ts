import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests, and integration tests against a real etcd + dtm that the global setup starts on
// free ports (@dtm-gozero/testkit) and the databases of scripts/db.sh; they run one file at a time because they
// share that stack and the databases (and the README test brings up the fixed-port stack of `npm run stack:up`).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{apps,libs,scripts,test,tools}/**/*.test.ts', 'proto/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.int.test.ts'],
          // Some unit tests start a node process (scripts, healthchecks): 5 s is too short beside the integration
          // project on a 2-core machine. A hang still fails.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{apps,libs,test,tools}/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
