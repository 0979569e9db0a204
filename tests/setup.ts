/**
 * Runs in every test file: after each test, no AWS command may have been refused by the IAM
 * guards (tests/iam.ts). A refusal the code under test caught and turned into a 503 or a retry
 * fails the test here all the same.
 */
import { afterEach, expect } from 'vitest';
import { takeViolations } from './iam.js';

afterEach(() => {
  expect(takeViolations(), 'commands the function role in the packaged template does not allow').toEqual([]);
});
