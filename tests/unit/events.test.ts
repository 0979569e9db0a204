/** Which item changes are facts for EventBridge, with their stable ids. */
import { describe, expect, it } from 'vitest';
import { eventsOf } from '../../lib/events/facts.js';

const call = {
  pk: 'CALL#CA1',
  type: 'call',
  callSid: 'CA1',
  status: 'busy',
  source: 'status-callback',
  customer: '+14155550123',
  line: '+14155559876',
};
const open = (openSince: string) => ({
  type: 'contact',
  phone: '+14155550123',
  callback: { openSince, openMissedCount: 1, lastStatus: 'busy', line: '+14155559876' },
});
const resolution = (missedCount: number) => ({
  type: 'resolution',
  resolution: {
    phone: '+14155550123',
    id: 'CB1',
    openSince: '2026-11-24T09:00:00.000Z',
    lastMissedAt: '2026-11-24T09:30:00.000Z',
    missedCount,
    lastStatus: 'busy',
    line: '+14155559876',
    resolvedBy: 'callback',
    resolvedAt: '2026-11-24T10:00:00.000Z',
    secondsToCallback: 3600,
  },
});

describe('eventsOf', () => {
  it('makes a new call item "Missed call recorded", once: a later change of it is not a new fact', () => {
    expect(eventsOf('INSERT', undefined, call)).toEqual([
      {
        id: 'missed-call-recorded:CA1',
        detailType: 'Missed call recorded',
        detail: expect.objectContaining({ id: 'missed-call-recorded:CA1', callSid: 'CA1', status: 'busy', customer: '+14155550123' }),
      },
    ]);
    expect(eventsOf('MODIFY', call, { ...call, contactAppliedAt: 'x' })).toEqual([]);
    expect(eventsOf('REMOVE', call, undefined)).toEqual([]);
  });

  it('opens a callback when it appears or starts later than before, not when it only grows', () => {
    expect(eventsOf('INSERT', undefined, open('2026-11-24T09:00:00.000Z')).map((e) => e.id)).toEqual([
      'callback-opened:+14155550123:2026-11-24T09:00:00.000Z',
    ]);
    expect(eventsOf('MODIFY', { type: 'contact', phone: '+14155550123' }, open('2026-11-24T09:00:00.000Z'))).toHaveLength(1);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T09:00:00.000Z'))).toEqual([]);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T08:00:00.000Z'))).toEqual([]);
    expect(eventsOf('MODIFY', open('2026-11-24T09:00:00.000Z'), open('2026-11-24T11:00:00.000Z'))).toHaveLength(1);
  });

  it('resolves once per resolution as it is, again only when it changes', () => {
    expect(eventsOf('INSERT', undefined, resolution(1))).toEqual([
      expect.objectContaining({ id: 'callback-resolved:+14155550123:CB1:1', detailType: 'Callback resolved' }),
    ]);
    expect(eventsOf('MODIFY', resolution(1), resolution(1))).toEqual([]);
    expect(eventsOf('MODIFY', resolution(1), resolution(2)).map((e) => e.id)).toEqual(['callback-resolved:+14155550123:CB1:2']);
    expect(eventsOf('MODIFY', resolution(1), { type: 'resolution', supersededBy: 'x' })).toEqual([]);
  });
});
