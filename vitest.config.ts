import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // DynamoDB Local, started once on a free port for the whole run and stopped after, and the
    // deployment packaged once (osls package) for the template and IAM checks.
    globalSetup: ['tests/global-setup.ts'],
    // After every test: nothing was refused by the IAM guards (tests/iam.ts).
    setupFiles: ['tests/setup.ts'],
    // A test must finish in 10 s on a busy 2-core machine; volume belongs in npm run bench.
    // (The large reliability scenarios set their own limit: tests/reliability/scale.ts.)
    testTimeout: 10_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/slow-test-reporter.ts'],
    // The end-to-end and packaging tests spawn osls; two cores are plenty for 2 workers.
    maxWorkers: 2,
    env: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // Known and deliberate: these machines run Node 20, the Lambdas nodejs22.x. The SDK's notice
      // that releases after January 2027 need Node 22 would otherwise print once per worker.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
