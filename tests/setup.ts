/**
 * Runs in every test file: after each test, no AWS command may have been refused by the IAM
 * guards (tests/iam.ts). A refusal the code under test caught and turned into a 503 or a retry
 * fails the test here all the same.
 */
import { afterAll, afterEach, expect, vi } from 'vitest';
import { takeViolations } from './iam.js';

afterEach(() => {
  expect(takeViolations(), 'commands the function role in the packaged template does not allow').toEqual([]);
});

// Handlers cold-started with vi.stubEnv (tests/lambda.ts) leave their variables to the file's end.
afterAll(() => {
  vi.unstubAllEnvs();
});
