/** A reconciliation run's time budget, by trigger, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { API_GATEWAY_TIMEOUT_MS, runBudget } from '../../lib/reconcile/budget.js';

describe('runBudget', () => {
  it('keeps POST /reconcile within API Gateway’s 29 s, whatever the Lambda has left', () => {
    let now = 1_000_000;
    const budget = runBudget(
      'http',
      () => 300_000,
      () => now,
    );
    expect(budget.remainingMs()).toBe(API_GATEWAY_TIMEOUT_MS);
    now += 20_000;
    expect(budget.remainingMs()).toBe(9_000);
    expect(budget.twilioDeadlineMs()).toBe(7_000);
    expect(budget.marginMs).toBe(5_000);
  });

  it('gives the nightly run the Lambda’s own remaining time, with larger reserves', () => {
    let lambdaLeft = 300_000;
    const budget = runBudget(
      'schedule',
      () => lambdaLeft,
      () => 0,
    );
    expect(budget.remainingMs()).toBe(300_000);
    lambdaLeft = 40_000;
    expect(budget.remainingMs()).toBe(40_000);
    expect(budget.twilioDeadlineMs()).toBe(30_000);
    expect(budget.marginMs).toBe(30_000);
  });

  it('takes the Lambda’s remaining time when it is the shorter (an HTTP run on a short timeout)', () => {
    const budget = runBudget(
      'http',
      () => 12_000,
      () => 0,
    );
    expect(budget.remainingMs()).toBe(12_000);
  });
});
