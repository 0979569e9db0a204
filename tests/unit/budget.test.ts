/** An invocation's time budget on an injected clock. */
import { describe, expect, it } from 'vitest';
import { INVOCATION_RESERVES, invocationBudget } from '../../lib/reconcile/budget.js';

const late = (budget: ReturnType<typeof invocationBudget>) => budget.remainingMs() < budget.marginMs;

describe('invocationBudget', () => {
  it('gives an invocation the Lambda’s own remaining time, keeping reserves for Twilio and the checkpoint', () => {
    let lambdaLeft = 300_000;
    const budget = invocationBudget(
      () => lambdaLeft,
      undefined,
      () => 0,
    );
    expect(budget.remainingMs()).toBe(300_000);
    expect(late(budget)).toBe(false);
    lambdaLeft = 40_000;
    expect(budget.twilioDeadlineMs()).toBe(40_000 - INVOCATION_RESERVES.twilioReserveMs);
    lambdaLeft = 29_999;
    expect(late(budget)).toBe(true);
  });

  it('stops starting pages once its own limit has passed, while Twilio keeps the Lambda’s deadline', () => {
    let now = 1_000_000;
    const budget = invocationBudget(
      () => 300_000,
      1_000,
      () => now,
    );
    expect(late(budget)).toBe(false);
    now += 1_001;
    expect(late(budget)).toBe(true);
    // The page under way is not cut short by the soft limit.
    expect(budget.twilioDeadlineMs()).toBe(290_000);
  });
});
