/** Backoff between attempts, shared by the DynamoDB and Twilio retries. */

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter exponential backoff for attempt `n` (1-based), capped at 1 s. */
export const backoffMs = (n: number): number => Math.random() * Math.min(1_000, 25 * 2 ** n);
