/** `npm run test:reliability` runs these scenarios large (RELIABILITY_SCALE=full); `npm test` small. */
export const FULL = process.env.RELIABILITY_SCALE === 'full';

/** Counters every scenario adds to; printed as the report at the end of a run. */
export const report = {
  deliveries: 0,
  duplicates: 0,
  badInputs: 0,
  acknowledgedUnrecorded: 0,
  recordsLost: 0,
  doubleCounts: 0,
  serverErrorsForBadInput: 0,
};

export function printReport(scenario: string): void {
  console.log(`[reliability] ${scenario}: ${JSON.stringify(report)}`);
}
