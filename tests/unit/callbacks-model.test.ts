/** The callback worklist of one number as a pure function of its misses and resolving calls. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addCall,
  addMiss,
  type CallbackState,
  type CounterChanges,
  counterDelta,
  countersOf,
  EMPTY_STATE,
  episodes,
  MAX_RESOLUTIONS,
  type Miss,
  mergeCounters,
  type ResolvingCall,
  removeMiss,
  ttcBucket,
  withinBucket,
} from '../../lib/callbacks/model.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const miss = (sid: string, minutes: number, reason: Miss['reason'] = 'no-answer'): Miss => ({
  callSid: sid,
  at: at(minutes),
  status: reason === 'busy' ? 'busy' : 'no-answer',
  reason,
  line: '+14155559876',
});
const call = (id: string, minutes: number, by: ResolvingCall['by'] = 'callback'): ResolvingCall => ({ id, at: at(minutes), by });

type Fact = { kind: 'miss'; miss: Miss } | { kind: 'call'; call: ResolvingCall };

/** Applies facts in the given order; a miss may ask "Twilio" (`oracle`) for calls after it. */
function run(facts: readonly Fact[], oracle: readonly ResolvingCall[] = []) {
  let state: CallbackState = EMPTY_STATE;
  const summed: CounterChanges = new Map();
  for (const fact of facts) {
    const next = fact.kind === 'miss' ? addMiss(state, fact.miss, oracle) : addCall(state, fact.call);
    mergeCounters(summed, counterDelta(state, next));
    state = next;
  }
  return { state, summed };
}

const plain = (changes: CounterChanges) =>
  Object.fromEntries(
    [...changes]
      .map(([day, counters]) => [day, Object.fromEntries([...counters].filter(([, n]) => n !== 0).sort())] as const)
      .filter(([, counters]) => Object.keys(counters).length > 0)
      .sort(),
  );

describe('the callback model', () => {
  it('opens on a miss, joins further misses, and resolves them with the first call that started after them', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'miss', miss: miss('CA2', 3) },
      { kind: 'call', call: call('CB1', 10) },
    ]);
    const { open, resolutions } = episodes(state);
    expect(open).toBeUndefined();
    expect(resolutions).toEqual([
      expect.objectContaining({
        id: 'CB1',
        openSince: at(0),
        lastMissedAt: at(3),
        missedCount: 2,
        resolvedAt: at(10),
        secondsToCallback: 600,
      }),
    ]);
  });

  it('does not resolve with a call that started before the miss, and splits an episode at the call', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'miss', miss: miss('CA2', 20) },
      { kind: 'call', call: call('CB1', 10) },
    ]);
    const { open, resolutions } = episodes(state);
    expect(resolutions.map((r) => [r.id, r.callSids])).toEqual([['CB1', ['CA1']]]);
    expect(open).toMatchObject({ openSince: at(20), missedCount: 1, callSids: ['CA2'] });
  });

  it('keeps nothing for an answered call that covers no miss', () => {
    expect(addCall(EMPTY_STATE, call('CB1', 10))).toBe(EMPTY_STATE);
    const open = addMiss(EMPTY_STATE, miss('CA1', 20));
    expect(addCall(open, call('CB1', 10))).toBe(open);
  });

  it('re-attributes a resolution to an earlier call that arrives later', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'call', call: call('CB2', 30) },
      { kind: 'call', call: call('CB1', 5, 'returned-call') },
    ]);
    expect(episodes(state).resolutions.map((r) => [r.id, r.resolvedBy, r.secondsToCallback])).toEqual([['CB1', 'returned-call', 300]]);
  });

  it('resolves a late miss with the call Twilio reports after it', () => {
    const { state } = run([{ kind: 'miss', miss: miss('CA1', 0) }], [call('CB0', -5), call('CB1', 7), call('CB2', 9)]);
    expect(episodes(state).resolutions.map((r) => r.id)).toEqual(['CB1']);
  });

  it('counts: opened on the day of the first miss, resolved/within/ttc on the day of the call', () => {
    const { state } = run([
      { kind: 'miss', miss: { ...miss('CA1', 0), at: '2026-11-24T23:50:00.000Z' } },
      { kind: 'call', call: { id: 'CB1', at: '2026-11-25T00:20:00.000Z', by: 'callback' } },
    ]);
    expect(plain(countersOf(state))).toEqual({
      '2026-11-24': { 'callbacks:opened': 1 },
      '2026-11-25': {
        'callbacks:resolved:callback': 1,
        'callbacks:secondsToCallback': 1800,
        'callbacks:ttc:1800': 1,
        'callbacks:within:1h': 1,
      },
    });
    expect([withinBucket(900), withinBucket(901), withinBucket(86_401), ttcBucket(59), ttcBucket(300_000)]).toEqual([
      '15m',
      '1h',
      'later',
      '60',
      'inf',
    ]);
  });

  it('archives beyond the newest resolutions without changing what was counted', () => {
    const facts: Fact[] = [];
    for (let i = 0; i < MAX_RESOLUTIONS + 3; i++) {
      facts.push({ kind: 'miss', miss: miss(`CA${i}`, i * 10) }, { kind: 'call', call: call(`CB${i}`, i * 10 + 5) });
    }
    const { state, summed } = run(facts);
    expect(state.calls).toHaveLength(MAX_RESOLUTIONS);
    expect(state.archivedBefore).toBe(at(25));
    expect(plain(summed)['2026-11-24']).toMatchObject({
      'callbacks:opened': MAX_RESOLUTIONS + 3,
      'callbacks:resolved:callback': MAX_RESOLUTIONS + 3,
    });
    // A late miss older than the archive changes nothing.
    expect(addMiss(state, miss('CAold', 1))).toBe(state);
  });

  it('ends with the same episodes and counters in any order of arrival (property)', () => {
    const scenario = fc
      .record({
        misses: fc.uniqueArray(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 6 }),
        calls: fc.uniqueArray(fc.integer({ min: 0, max: 600 }), { maxLength: 4 }),
        seed: fc.integer(),
      })
      .map(({ misses, calls, seed }) => ({
        facts: [
          ...misses.map((m, i): Fact => ({ kind: 'miss', miss: miss(`CA${i}`, m) })),
          // Calls never start at the same minute as a miss: "started after" is strict.
          ...calls.map((c, i): Fact => ({ kind: 'call', call: call(`CB${i}`, c + 0.5, i % 2 === 0 ? 'callback' : 'returned-call') })),
        ],
        seed,
      }));
    fc.assert(
      fc.property(scenario, fc.func(fc.integer()), ({ facts }, order) => {
        const inTime = [...facts].sort((a, b) =>
          (a.kind === 'miss' ? a.miss.at : a.call.at).localeCompare(b.kind === 'miss' ? b.miss.at : b.call.at),
        );
        const shuffled = [...facts].sort((a, b) => order(a) - order(b));
        const oracle = facts.flatMap((f) => (f.kind === 'call' ? [f.call] : []));
        const expected = run(inTime);
        const got = run(shuffled, oracle);
        expect(episodes(got.state)).toEqual(episodes(expected.state));
        expect(plain(got.summed)).toEqual(plain(countersOf(expected.state)));
        expect(plain(expected.summed)).toEqual(plain(countersOf(expected.state)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the callback model: reasons', () => {
  it('carries the last miss’s reason on its episode, and a 0.1.0 miss’s status as its reason', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0, 'busy') },
      { kind: 'miss', miss: miss('CA2', 5, 'abandoned') },
    ]);
    expect(episodes(state).open).toMatchObject({ lastStatus: 'no-answer', lastReason: 'abandoned', missedCount: 2 });
    const { reason: _, ...legacy } = miss('CA3', 10, 'busy');
    const withLegacy = addMiss(state, legacy);
    expect(episodes(withLegacy).open).toMatchObject({ lastStatus: 'busy', lastReason: 'busy', missedCount: 3 });
    const resolved = addCall(withLegacy, call('CB1', 20));
    expect(episodes(resolved).resolutions).toEqual([expect.objectContaining({ lastReason: 'busy', missedCount: 3 })]);
  });
});

describe('the callback model: a miss taken back (the call turned out answered)', () => {
  it('leaves the other misses open, with the latest one left as the last', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0, 'busy') },
      { kind: 'miss', miss: miss('CA2', 5) },
    ]);
    const after = removeMiss(state, 'CA2');
    expect(episodes(after).open).toEqual({
      openSince: at(0),
      lastMissedAt: at(0),
      missedCount: 1,
      lastStatus: 'busy',
      lastReason: 'busy',
      line: '+14155559876',
      callSids: ['CA1'],
    });
    expect(plain(counterDelta(state, after))).toEqual({});
  });

  it('closes the callback it alone opened, and takes back its opening count', () => {
    const open = addMiss(EMPTY_STATE, miss('CA1', 0));
    const after = removeMiss(open, 'CA1');
    expect(episodes(after)).toEqual({ open: undefined, resolutions: [] });
    expect(plain(counterDelta(open, after))).toEqual({ '2026-11-24': { 'callbacks:opened': -1 } });
  });

  it('undoes the resolution of a callback that had only that miss, and every count it made', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'call', call: call('CB1', 20) },
    ]);
    const after = removeMiss(state, 'CA1');
    expect(episodes(after).resolutions).toEqual([]);
    expect(plain(counterDelta(state, after))).toEqual({
      '2026-11-24': {
        'callbacks:opened': -1,
        'callbacks:resolved:callback': -1,
        'callbacks:secondsToCallback': -1200,
        'callbacks:ttc:1200': -1,
        'callbacks:within:1h': -1,
      },
    });
  });

  it('moves a resolution’s start to the next miss when the first is taken back', () => {
    const { state } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'miss', miss: miss('CA2', 10) },
      { kind: 'call', call: call('CB1', 20) },
    ]);
    const after = removeMiss(state, 'CA1');
    expect(episodes(after).resolutions).toEqual([
      expect.objectContaining({ id: 'CB1', openSince: at(10), missedCount: 1, callSids: ['CA2'], secondsToCallback: 600 }),
    ]);
    expect(plain(counterDelta(state, after))).toEqual({
      '2026-11-24': {
        'callbacks:secondsToCallback': -600,
        'callbacks:ttc:1200': -1,
        'callbacks:ttc:600': 1,
        'callbacks:within:15m': 1,
        'callbacks:within:1h': -1,
      },
    });
  });

  it('changes nothing for a miss it does not hold (never applied, or archived: it stays counted)', () => {
    const open = addMiss(EMPTY_STATE, miss('CA1', 0));
    expect(removeMiss(open, 'CA9')).toBe(open);
    const facts: Fact[] = [];
    for (let i = 0; i < MAX_RESOLUTIONS + 2; i++) {
      facts.push({ kind: 'miss', miss: miss(`CA${i}`, i * 10) }, { kind: 'call', call: call(`CB${i}`, i * 10 + 5) });
    }
    const { state } = run(facts);
    expect(state.misses.some((m) => m.callSid === 'CA0')).toBe(false);
    expect(removeMiss(state, 'CA0')).toBe(state);
  });

  it('ends as if the miss had never been, in any order of arrival (property)', () => {
    const scenario = fc.record({
      misses: fc.uniqueArray(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 6 }),
      calls: fc.uniqueArray(fc.integer({ min: 0, max: 600 }), { maxLength: 4 }),
      gone: fc.nat(),
    });
    fc.assert(
      fc.property(scenario, fc.func(fc.integer()), ({ misses, calls, gone }, order) => {
        const missFacts = misses.map((m, i): Fact => ({ kind: 'miss', miss: miss(`CA${i}`, m) }));
        const callFacts = calls.map((c, i): Fact => ({ kind: 'call', call: call(`CB${i}`, c + 0.5) }));
        const removed = `CA${gone % misses.length}`;
        const facts = [...missFacts, ...callFacts];
        const oracle = callFacts.flatMap((f) => (f.kind === 'call' ? [f.call] : []));
        const shuffled = [...facts].sort((a, b) => order(a) - order(b));
        const got = run(shuffled, oracle);
        const taken = removeMiss(got.state, removed);
        mergeCounters(got.summed, counterDelta(got.state, taken));
        // What the facts without that miss make, in time order.
        const without = facts.filter((f) => f.kind !== 'miss' || f.miss.callSid !== removed);
        const expected = run(
          [...without].sort((a, b) => (a.kind === 'miss' ? a.miss.at : a.call.at).localeCompare(b.kind === 'miss' ? b.miss.at : b.call.at)),
        );
        expect(episodes(taken)).toEqual(episodes(expected.state));
        expect(plain(got.summed)).toEqual(plain(countersOf(expected.state)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the callback model: unreachable closes and attempts', () => {
  it('counts an unreachable close as a resolution of its own, with its attempts, and no time to callback', () => {
    const { state, summed } = run([
      { kind: 'miss', miss: miss('CA1', 0) },
      { kind: 'call', call: { ...call('unreachable:1', 90, 'unreachable'), attempts: 3 } },
      { kind: 'miss', miss: miss('CA2', 100) },
      { kind: 'call', call: { ...call('CA9', 130), attempts: 1 } },
    ]);
    expect(episodes(state).resolutions.map((r) => [r.resolvedBy, r.attempts, r.secondsToCallback])).toEqual([
      ['unreachable', 3, 90 * 60],
      ['callback', 1, 30 * 60],
    ]);
    // Only the call back that reached them has a time to callback; both count their attempts.
    expect(plain(summed)).toEqual({
      '2026-11-24': {
        'callbacks:attemptsResolved': 4,
        'callbacks:opened': 2,
        'callbacks:resolved:callback': 1,
        'callbacks:resolved:unreachable': 1,
        'callbacks:secondsToCallback': 30 * 60,
        'callbacks:ttc:1800': 1,
        'callbacks:within:1h': 1,
      },
    });
  });
});
