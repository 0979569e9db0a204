/**
 * The reliability report: each scenario's counters, summed, with the four that must be zero.
 * Scenarios write theirs as JSON (tests/reliability/scale.ts); the global teardown prints this.
 */
export interface Counters {
  /** Webhook deliveries, stream records or listed calls sent through the code under test. */
  deliveries: number;
  /** Of those, repeats of something already sent (Twilio's re-deliveries, retried batches, re-listed calls). */
  duplicates: number;
  /** Faults injected: stalled or reset connections, throttles, conflicts, 429/500s, slow pages, crashes, poison records. */
  faultsInjected: number;
  /** Inputs that must be refused: hostile bodies, bad keys, tampered cursors. */
  badInputs: number;
  /** 2xx answers for calls that were not stored. Must be 0. */
  acknowledgedUnrecorded: number;
  /** Calls (or contact updates) missing after recovery. Must be 0. */
  recordsLost: number;
  /** Counts above the truth: call items, day counters, contact counts. Must be 0. */
  doubleCounts: number;
  /** 5xx answers to bad input. Must be 0. */
  serverErrorsForBadInput: number;
  /** Bad input answered with anything but its 4xx (a 2xx for an unsigned webhook or a wrong key). Must be 0. */
  badInputAccepted: number;
  /** Refusals whose body holds a number, CallSid, key, token or internal name. Must be 0. */
  dataLeaked: number;
}

export interface ScenarioReport extends Counters {
  scenario: string;
}

export const MUST_BE_ZERO = [
  'acknowledgedUnrecorded',
  'recordsLost',
  'doubleCounts',
  'serverErrorsForBadInput',
  'badInputAccepted',
  'dataLeaked',
] as const;

export const emptyCounters = (): Counters => ({
  deliveries: 0,
  duplicates: 0,
  faultsInjected: 0,
  badInputs: 0,
  acknowledgedUnrecorded: 0,
  recordsLost: 0,
  doubleCounts: 0,
  serverErrorsForBadInput: 0,
  badInputAccepted: 0,
  dataLeaked: 0,
});

const COLUMNS: [keyof Counters, string][] = [
  ['deliveries', 'deliveries'],
  ['duplicates', 'duplicates'],
  ['faultsInjected', 'faults'],
  ['badInputs', 'bad inputs'],
  ['acknowledgedUnrecorded', '2xx unrecorded'],
  ['recordsLost', 'lost'],
  ['doubleCounts', 'double counts'],
  ['serverErrorsForBadInput', '5xx for bad input'],
  ['badInputAccepted', 'bad input accepted'],
  ['dataLeaked', 'leaks'],
];

/** The report as a table, and whether a must-be-zero counter is not. */
export function formatReport(scenarios: readonly ScenarioReport[], scale: string): { text: string; failed: boolean } {
  const total: ScenarioReport = { scenario: 'total', ...emptyCounters() };
  for (const s of scenarios) for (const [key] of COLUMNS) total[key] += s[key];
  const rows = [...scenarios, total];
  const first = Math.max(8, ...rows.map((r) => r.scenario.length));
  const cell = (value: string, i: number) => value.padStart(COLUMNS[i]?.[1].length ?? 0);
  const line = (r: ScenarioReport) =>
    [r.scenario.padEnd(first), ...COLUMNS.map(([key], i) => cell(r[key].toLocaleString('en-US'), i))].join('  ');
  const failed = MUST_BE_ZERO.some((key) => total[key] !== 0);
  const text = [
    `Reliability report (${scale}; ${scenarios.length} scenarios)`,
    ['scenario'.padEnd(first), ...COLUMNS.map(([, title]) => title)].join('  '),
    ...scenarios.map(line),
    line(total),
    `must be 0: ${MUST_BE_ZERO.map((key) => `${key} ${total[key]}`).join(', ')} -> ${failed ? 'FAILED' : 'ok'}`,
  ].join('\n');
  return { text, failed };
}
